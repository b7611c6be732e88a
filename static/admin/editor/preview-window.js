// The pop-out preview window (admin.issues_preview_window): shows the saved version at
// first, then every rendering the editor that opened it posts (postMessage, same origin only).
import { emailDocument, setSrcdoc, toggleButton } from "./frames.js";

const frame = document.getElementById("preview-email");
const state = document.getElementById("preview-window-state");
const container = document.querySelector(".editor-preview");
let html = frame.getAttribute("srcdoc") || "";
let dark = false;

const show = () => setSrcdoc(frame, emailDocument(html, dark));

window.addEventListener("message", (event) => {
  if (event.origin !== location.origin || event.source !== window.opener) return;
  if (!event.data || event.data.type !== "pressroom-preview" || typeof event.data.email_html !== "string") return;
  html = event.data.email_html;
  state.textContent = "live: the text in the editor, saved or not";
  show();
});
toggleButton(document.getElementById("mobile-toggle"), (on) => container.classList.toggle("mobile", on));
toggleButton(document.getElementById("dark-toggle"), (on) => {
  dark = on;
  container.classList.toggle("dark", on);
  show();
});
if (window.opener) window.opener.postMessage({ type: "pressroom-preview-ready" }, location.origin);
