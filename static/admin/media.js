// Media library: drag-and-drop upload, copy Markdown snippet, delete confirmation.
// Served from /static because the admin CSP forbids inline scripts.
(() => {
  const form = document.getElementById("upload-form");
  const input = document.getElementById("files");
  const zone = document.getElementById("dropzone");
  if (form && input && zone) {
    ["dragenter", "dragover"].forEach((name) => zone.addEventListener(name, (event) => {
      event.preventDefault();
      zone.classList.add("over");
    }));
    ["dragleave", "drop"].forEach((name) => zone.addEventListener(name, () => zone.classList.remove("over")));
    zone.addEventListener("drop", (event) => {
      event.preventDefault();
      if (!event.dataTransfer || !event.dataTransfer.files.length) return;
      input.files = event.dataTransfer.files;  // the normal form post does the rest
      form.requestSubmit();
    });
  }

  document.querySelectorAll(".copy-snippet").forEach((button) => {
    button.addEventListener("click", async () => {
      const field = button.parentElement.querySelector(".snippet");
      field.select();
      try {
        await navigator.clipboard.writeText(field.value);
      } catch (err) {
        document.execCommand("copy");  // older browsers / no clipboard permission
      }
      button.textContent = "Copied";
      setTimeout(() => { button.textContent = "Copy Markdown"; }, 1500);
    });
  });
})();
