// Images in place: paste or drop an image file into the text, or pick one from the
// media library. Either way one dialog asks for the alt text (saved on the library item
// too) and the upload goes to the library with the Media page's validation; the editor
// then inserts ![alt]({{ site.github.url }}/images/...), which names no host or port.
import { EditorView, isolateHistory } from "../vendor/codemirror.js";
import { answer, getJSON, postForm, postJSON } from "./http.js";
import { openModal } from "./dialogs.js";

const ACCEPTED = ["image/png", "image/jpeg", "image/gif", "image/webp"];
const PICKER_LIMIT = 60;

function readAsDataURL(file) {
  // A data: URL, not a blob: one: the admin CSP allows data: images only.
  return new Promise((resolve) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => resolve("");
    reader.readAsDataURL(file);
  });
}

export class Images {
  constructor(view, urls) {
    this.view = view;
    this.urls = urls;   // {list, upload, alt}: data-media-* of the form
    this.dialog = document.getElementById("image-dialog");
    this.picker = document.getElementById("media-picker");
    this.search = document.getElementById("media-search");
    this.results = document.getElementById("media-results");
    this.status = document.getElementById("media-status");
    this.fileInput = document.getElementById("media-file");
    this.searchTimer = null;
    this.searchAbort = null;
    this.search.addEventListener("input", () => {
      clearTimeout(this.searchTimer);
      this.searchTimer = setTimeout(() => this.loadResults(), 200);
    });
    this.results.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-index]");
      if (button) this.picked = this.items[Number(button.dataset.index)];
      if (button) this.picker.close();
    });
    document.getElementById("media-upload-button").addEventListener("click", () => this.fileInput.click());
    this.fileInput.addEventListener("change", () => {
      const file = this.fileInput.files[0];
      this.fileInput.value = "";
      if (file) { this.pickedFile = file; this.picker.close(); }
    });
  }

  // The CodeMirror extension: paste and drop of image files.
  extension() {
    const files = (list) => Array.from(list || []).filter((file) => file.type.startsWith("image/"));
    return EditorView.domEventHandlers({
      paste: (event) => {
        const images = files(event.clipboardData && event.clipboardData.files);
        if (!images.length) return false;
        event.preventDefault();
        this.insertFiles(images, this.view.state.selection.main);
        return true;
      },
      drop: (event, view) => {
        const images = files(event.dataTransfer && event.dataTransfer.files);
        if (!images.length) return false;
        event.preventDefault();
        const pos = view.posAtCoords({ x: event.clientX, y: event.clientY }) ?? view.state.selection.main.head;
        this.insertFiles(images, { from: pos, to: pos });
        return true;
      },
    });
  }

  async insertFiles(files, range) {
    let at = range;
    for (const file of files) {
      const inserted = await this.ask({ file }, at);
      if (!inserted) break;
      at = { from: inserted, to: inserted };
    }
  }

  // The toolbar's image button: the library picker (which can also upload a file).
  async pick() {
    const range = this.view.state.selection.main;
    this.picked = null;
    this.pickedFile = null;
    this.search.value = "";
    const shown = openModal(this.picker, { focus: this.search });
    this.loadResults();
    await shown;
    if (this.picked) return this.ask({ item: this.picked }, range);
    if (this.pickedFile) return this.ask({ file: this.pickedFile }, range);
    this.view.focus();
    return null;
  }

  async loadResults() {
    this.searchAbort?.abort();
    const controller = this.searchAbort = new AbortController();
    const query = this.search.value.trim();
    const url = this.urls.list + "?limit=" + PICKER_LIMIT + (query ? "&q=" + encodeURIComponent(query) : "");
    this.status.textContent = "Loading…";
    let items;
    try {
      items = await getJSON(url, controller.signal);
    } catch (err) {
      if (err.name !== "AbortError") this.status.textContent = "Could not load the media library.";
      return;
    }
    this.items = items;
    this.results.replaceChildren(...items.map((item, index) => {
      const li = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "media-choice";
      button.dataset.index = index;
      const img = document.createElement("img");
      img.src = item.url;
      img.alt = "";
      img.loading = "lazy";
      img.width = 112;
      img.height = 84;
      const name = document.createElement("span");
      name.textContent = item.alt_text || item.name || item.path.split("/").pop();
      button.append(img, name);
      button.title = item.path + (item.alt_text ? "\n" + item.alt_text : "");
      li.append(button);
      return li;
    }));
    const more = items.length >= PICKER_LIMIT ? " (the newest " + PICKER_LIMIT + "; search to find others)" : "";
    this.status.textContent = items.length
      ? items.length + " image" + (items.length === 1 ? "" : "s") + more
      : query ? "No image matches “" + query + "”." : "The media library is empty: upload an image.";
  }

  // One dialog: the image, its alt text, Insert. Resolves the position after the insert, or null.
  async ask({ file, item }, range) {
    const preview = document.getElementById("image-dialog-preview");
    const name = document.getElementById("image-dialog-name");
    const alt = document.getElementById("image-alt");
    const error = document.getElementById("image-dialog-error");
    const submit = document.getElementById("image-dialog-submit");
    error.hidden = true;
    alt.value = item ? item.alt_text || "" : "";
    name.textContent = file ? file.name + " (" + Math.max(1, Math.round(file.size / 1024)) + " KB)" : item.path;
    preview.src = item ? item.url : await readAsDataURL(file);
    submit.textContent = file ? "Upload and insert" : "Insert image";
    const fail = (message) => {
      error.textContent = message;
      error.hidden = false;
      submit.disabled = false;
      submit.textContent = file ? "Upload and insert" : "Insert image";
      return undefined;   // keeps the dialog open
    };
    const chosen = await openModal(this.dialog, {
      focus: alt,
      onSubmit: async () => {
        submit.disabled = true;
        error.hidden = true;
        try {
          if (file) {
            if (!ACCEPTED.includes(file.type)) return fail(file.name + ": use a PNG, JPEG, GIF or WebP image.");
            submit.textContent = "Uploading…";
            const form = new FormData();
            form.append("file", file, file.name);
            form.append("alt_text", alt.value);
            const response = await postForm(this.urls.upload, form);
            const data = await answer(response);
            if (!response.ok) return fail(data.error);
            submit.disabled = false;
            return data;
          }
          if (alt.value.trim() !== (item.alt_text || "")) {
            const response = await postJSON(this.urls.alt.replace("/0/", "/" + item.id + "/"), { alt_text: alt.value });
            const data = await answer(response);
            if (!response.ok) return fail(data.error);
            submit.disabled = false;
            return data;
          }
          submit.disabled = false;
          return item;
        } catch (err) {
          return fail("The upload did not reach the server; try again.");
        }
      },
    });
    submit.disabled = false;
    if (!chosen) { this.view.focus(); return null; }
    const insert = chosen.markdown;
    this.view.dispatch({
      changes: { from: range.from, to: range.to, insert },
      selection: { anchor: range.from + insert.length },
      userEvent: "input.image", scrollIntoView: true,
      annotations: isolateHistory.of("full"),
    });
    this.view.focus();
    return range.from + insert.length;
  }
}
