// The live preview: requests are debounced (PREVIEW_DELAY after typing stops) and a
// newer request aborts the one in flight, so a 175 KB issue costs one render per pause,
// not one per keystroke. Email / Web / Plain text tabs, phone frame, dark mode, and a
// pop-out window at email width that gets every new rendering by postMessage.
import { postJSON } from "./http.js";
import { emailDocument, setSrcdoc, toggleButton, webDocument } from "./frames.js";

export const PREVIEW_DELAY = 300;

export class Preview {
  constructor({ form, section, data, onResult, scrollSync }) {
    this.form = form;
    this.section = section;
    this.data = data;             // () => {body, ...}: the request, taken when it leaves
    this.onResult = onResult;     // (result, context) after a preview arrived
    this.scrollSync = scrollSync;
    this.timer = null;
    this.controller = null;
    this.last = null;
    this.dark = false;
    this.cssText = null;
    this.popout = null;
    this.emailFrame = document.getElementById("preview-email");
    this.webFrame = document.getElementById("preview-web");
    this.textPane = document.getElementById("preview-text");
    this.tabs();
    this.toggles();
  }

  schedule() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.run(), PREVIEW_DELAY);
  }

  async run() {
    clearTimeout(this.timer);
    this.controller?.abort();   // its answer would describe older text
    const controller = this.controller = new AbortController();
    const { payload, context } = this.data();
    let result;
    try {
      const response = await postJSON(this.form.dataset.previewUrl, payload, controller.signal);
      if (!response.ok) return;
      result = await response.json();
    } catch (err) {
      return;   // aborted by a newer request, or offline: the next change tries again
    }
    if (controller !== this.controller) return;
    this.controller = null;
    this.last = result;
    this.render();
    this.onResult(result, context);
  }

  render() {
    const result = this.last;
    if (!result) return;
    const sync = (frame) => this.scrollSync.attach(frame);
    setSrcdoc(this.emailFrame, emailDocument(result.email_html, this.dark), this.visible("email") ? sync : null);
    setSrcdoc(this.webFrame, webDocument(result.web_html, {
      cssUrl: this.form.dataset.webCss, cssText: this.cssText, dark: this.dark,
    }), this.visible("web") ? sync : null);
    this.textPane.textContent = result.text;
    this.postToPopout();
  }

  visible(name) {
    return !this.section.querySelector('.preview-pane[data-pane="' + name + '"]').hidden;
  }

  visibleTarget() {
    if (this.visible("email")) return this.emailFrame;
    if (this.visible("web")) return this.webFrame;
    return this.textPane;
  }

  tabs() {
    const tabs = Array.from(this.section.querySelectorAll('[role="tab"]'));
    const select = (tab) => {
      tabs.forEach((t) => {
        const on = t === tab;
        t.classList.toggle("active", on);
        t.setAttribute("aria-selected", on ? "true" : "false");
        t.tabIndex = on ? 0 : -1;
      });
      this.section.querySelectorAll(".preview-pane").forEach((pane) => {
        pane.hidden = pane.dataset.pane !== tab.dataset.tab;
      });
      this.scrollSync.attach(this.visibleTarget());
    };
    tabs.forEach((tab, index) => {
      tab.addEventListener("click", () => select(tab));
      tab.addEventListener("keydown", (event) => {   // arrow keys move between tabs (ARIA tabs pattern)
        const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
        if (!step) return;
        event.preventDefault();
        const next = tabs[(index + step + tabs.length) % tabs.length];
        next.focus();
        select(next);
      });
    });
  }

  toggles() {
    document.getElementById("preview-toggles").hidden = false;
    toggleButton(document.getElementById("mobile-toggle"), (on) => {
      this.section.classList.toggle("mobile", on);
      this.scrollSync.attach(this.visibleTarget());
    });
    toggleButton(document.getElementById("dark-toggle"), async (on) => {
      this.dark = on;
      this.section.classList.toggle("dark", on);
      if (on && this.cssText === null) {
        // The web preview's stylesheet, inlined so its dark rules can be forced too.
        this.cssText = await fetch(this.form.dataset.webCss).then((r) => (r.ok ? r.text() : null)).catch(() => null);
      }
      this.render();
    });
    document.getElementById("popout-button").addEventListener("click", () => this.openPopout());
    window.addEventListener("message", (event) => {
      if (event.origin !== location.origin || !this.popout || event.source !== this.popout) return;
      if (event.data && event.data.type === "pressroom-preview-ready") this.postToPopout();
    });
  }

  openPopout() {
    const name = "pressroom-preview-" + this.form.dataset.issueId;
    this.popout = window.open(this.section.dataset.popoutUrl, name, "popup,width=720,height=900");
    this.postToPopout();
  }

  postToPopout() {
    if (!this.popout || this.popout.closed || !this.last) return;
    this.popout.postMessage({ type: "pressroom-preview", email_html: this.last.email_html }, location.origin);
  }
}
