// The formatting toolbar (templates/admin/issues/_toolbar.html): one tab stop, arrow
// keys move between buttons (ARIA toolbar pattern), tooltips name the shortcut.
const isMac = /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent);

// "Mod-Shift-9" -> "Ctrl+Shift+9" / "⌘⇧9" for the tooltip, "Control+Shift+9" for ARIA.
export function describeKeys(keys) {
  const parts = keys.split("-");
  const key = parts.pop().toUpperCase();
  const shown = parts.map((p) => (isMac ? { Mod: "⌘", Shift: "⇧", Alt: "⌥" }[p] : { Mod: "Ctrl", Shift: "Shift", Alt: "Alt" }[p] + "+"));
  const aria = parts.map((p) => ({ Mod: isMac ? "Meta" : "Control", Shift: "Shift", Alt: "Alt" }[p]));
  return { shown: shown.join("") + key, aria: [...aria, key].join("+") };
}

export function setUpToolbar(toolbar, run) {
  const buttons = Array.from(toolbar.querySelectorAll("button[data-command]"));
  buttons.forEach((button, index) => {
    button.tabIndex = index === 0 ? 0 : -1;
    if (button.dataset.keys) {
      const keys = describeKeys(button.dataset.keys);
      button.title = button.getAttribute("aria-label") + " (" + keys.shown + ")";
      button.setAttribute("aria-keyshortcuts", keys.aria);
    }
    // Keep the editor's selection: a mouse press on a button must not move focus first.
    button.addEventListener("mousedown", (event) => event.preventDefault());
    button.addEventListener("click", () => run(button.dataset.command));
  });
  toolbar.addEventListener("keydown", (event) => {
    const index = buttons.indexOf(document.activeElement);
    if (index < 0) return;
    const next = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: buttons.length - 1 }[event.key];
    if (next === undefined) return;
    event.preventDefault();
    const target = buttons[(next + buttons.length) % buttons.length];
    buttons.forEach((b) => { b.tabIndex = b === target ? 0 : -1; });
    target.focus();
  });
  toolbar.hidden = false;
}
