// The editor's small modal dialogs (<dialog> elements in templates/admin/issues/_dialogs.html):
// showModal() keeps focus inside and Esc cancels; buttons marked data-close cancel too.
// Whoever opens one gets a promise; focus goes back to the editor afterwards.

export function openModal(dialog, { onSubmit, focus } = {}) {
  return new Promise((resolve) => {
    const form = dialog.querySelector("form");
    const closers = dialog.querySelectorAll("[data-close]");
    let result = null;
    const cancel = () => dialog.close();
    const submit = async (event) => {
      event.preventDefault();
      // onSubmit may refuse (return undefined) and keep the dialog open, e.g. after an upload error.
      const value = onSubmit ? await onSubmit() : true;
      if (value === undefined) return;
      result = value;
      dialog.close();
    };
    const closed = () => {
      form?.removeEventListener("submit", submit);
      closers.forEach((button) => button.removeEventListener("click", cancel));
      dialog.removeEventListener("close", closed);
      resolve(result);
    };
    form?.addEventListener("submit", submit);
    closers.forEach((button) => button.addEventListener("click", cancel));
    dialog.addEventListener("close", closed);
    dialog.showModal();
    if (focus) { focus.focus(); if (focus.select) focus.select(); }
  });
}

const looksLikeUrl = (text) => /^(https?:\/\/|mailto:|www\.|\{\{)/i.test(text.trim());

// Ask for a link's text and URL; resolves {text, url} or null when cancelled.
export function askLink(selected) {
  const dialog = document.getElementById("link-dialog");
  const text = document.getElementById("link-text");
  const url = document.getElementById("link-url");
  const isUrl = looksLikeUrl(selected);
  text.value = isUrl ? "" : selected;
  url.value = isUrl ? selected.trim() : "";
  return openModal(dialog, {
    focus: isUrl ? text : url,
    onSubmit: () => (url.value.trim() ? { text: text.value, url: url.value.trim() } : undefined),
  });
}
