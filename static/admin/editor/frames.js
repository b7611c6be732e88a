// What goes into the preview frames, shared by the editor and the pop-out window.
// Dark mode: a frame's prefers-color-scheme cannot be switched from outside (Chromium
// ignores color-scheme on the <iframe>), so the email's own dark-mode rules are made
// unconditional instead: what Apple Mail and iOS Mail show a reader in dark mode.

const DARK = /\(\s*prefers-color-scheme\s*:\s*dark\s*\)/gi;
const LIGHT = /\(\s*prefers-color-scheme\s*:\s*light\s*\)/gi;

export function forceDark(css) {
  return css.replace(DARK, "(min-width: 0px)").replace(LIGHT, "(max-width: 0px)");
}

export function emailDocument(html, dark) {
  if (!dark) return html;
  const forced = forceDark(html);
  return forced.includes("</head>") ? forced.replace("</head>", "<style>:root{color-scheme:dark}</style></head>") : forced;
}

export function webDocument(body, { cssUrl, cssText, dark }) {
  const style = dark && cssText !== null
    ? "<style>:root{color-scheme:dark}\n" + forceDark(cssText) + "</style>"
    : '<link rel="stylesheet" href="' + cssUrl + '">';
  return '<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">'
    + style + '</head><body><main class="page">' + body + "</main></body></html>";
}

// Phone frame and dark toggles (aria-pressed buttons) that call back on change.
export function toggleButton(button, onChange) {
  button.addEventListener("click", () => {
    const on = button.getAttribute("aria-pressed") !== "true";
    button.setAttribute("aria-pressed", on ? "true" : "false");
    onChange(on);
  });
}

// Keep a frame's scroll position across a srcdoc reload.
export function setSrcdoc(frame, html, restore) {
  if (frame.srcdoc === html) return;
  const win = frame.contentWindow;
  const y = win && win.document && win.document.documentElement ? win.scrollY : 0;
  frame.addEventListener("load", () => {
    if (restore) restore(frame); else if (frame.contentWindow) frame.contentWindow.scrollTo(0, y);
  }, { once: true });
  frame.srcdoc = html;
}
