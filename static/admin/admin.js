// Every admin page: a form with data-confirm asks before it is submitted
// (delete, cancel, pause...). The question names what is at stake, so the
// template writes it; no inline handlers (the admin CSP is script-src 'self').
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.dataset.confirm) return;
  if (!window.confirm(form.dataset.confirm)) {
    event.preventDefault();
    event.stopImmediatePropagation();
  }
}, true);

// A table wider than a phone scrolls inside the page (admin.css); keyboard users
// must be able to scroll it too, so one without links or buttons takes focus.
function focusableScrollers() {
  document.querySelectorAll("table.grid").forEach((table) => {
    if (table.querySelector("a[href], button, input, select, textarea")) return;
    if (table.scrollWidth > table.clientWidth + 1) {
      if (!table.hasAttribute("tabindex")) table.dataset.scrollFocus = "1";
      if (table.dataset.scrollFocus) table.tabIndex = 0;
    } else if (table.dataset.scrollFocus) {
      table.removeAttribute("tabindex");
    }
  });
}
let scrollerTimer = 0;
window.addEventListener("resize", () => {
  window.clearTimeout(scrollerTimer);
  scrollerTimer = window.setTimeout(focusableScrollers, 150);
});
if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", focusableScrollers);
} else {
  focusableScrollers();
}
