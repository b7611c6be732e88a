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
