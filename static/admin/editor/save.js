// Saving: autosave a moment after the last change, Ctrl/Cmd-S and the Save button, one
// save at a time, 409 conflicts and refused saves shown and kept (the JSON contract of
// admin.issues_autosave is unchanged).
import { postJSON } from "./http.js";

const AUTOSAVE_DELAY = 1500;

export class Saver {
  constructor({ form, payload, onSaved, onRefused }) {
    this.form = form;
    this.payload = payload;
    this.onSaved = onSaved;
    this.onRefused = onRefused;
    this.editable = form.dataset.editable === "true";
    this.state = document.getElementById("save-state");
    this.message = document.getElementById("editor-message");
    this.versionField = document.getElementById("f-version");
    this.statusBadge = document.getElementById("issue-status");
    this.timer = null;
    this.saving = null;
    this.dirty = false;
    this.conflict = false;
    this.failed = false;   // the last save was refused (400) or did not reach the server
  }

  get version() { return parseInt(this.versionField.value, 10); }

  setState(text, cls) {
    this.state.textContent = text;
    this.state.className = "save-state " + cls;
  }

  showMessage(text) {
    this.message.textContent = text || "";
    this.message.hidden = !text;
  }

  changed() {
    if (!this.editable) return;
    this.dirty = true;
    if (!this.conflict) this.setState("Unsaved changes", "dirty");
    this.schedule();
  }

  schedule() {
    if (!this.editable || this.conflict) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.save(), AUTOSAVE_DELAY);
  }

  async save() {
    if (!this.editable || this.conflict) return;
    if (this.saving) {            // one save at a time; another follows if edits came in meanwhile
      await this.saving;
      if (!this.dirty) return;
    }
    clearTimeout(this.timer);
    this.dirty = false;
    this.setState("Saving…", "saving");
    const sent = this.payload(this.version);
    this.saving = this.send(sent);
    await this.saving;
    this.saving = null;
    if (this.dirty && !this.conflict) this.schedule();
  }

  // The approval and send cards as the server sees the saved version (our own
  // escaped template output, parsed inertly: nothing in it runs).
  showPanels(html) {
    const box = document.getElementById("workflow-panels");
    if (!box || typeof html !== "string") return;
    const parsed = new DOMParser().parseFromString(html, "text/html");
    box.replaceChildren(...parsed.body.childNodes);
  }

  async send(sent) {
    try {
      const response = await postJSON(this.form.dataset.autosaveUrl, sent);
      const result = await response.json().catch(() => ({ error: "The server answered " + response.status }));
      if (response.status === 409 && result.conflict) {
        this.conflict = true;
        this.setState("Conflict", "conflict");
        this.showMessage(result.error);
        const link = document.createElement("a");
        link.href = this.form.dataset.revisionsUrl;
        link.textContent = " Open the revisions page.";
        this.message.append(link);
        this.onRefused(sent);
      } else if (!response.ok) {
        this.refused(result.error || "Not saved.", "Not saved", sent);
      } else {
        this.failed = false;
        this.versionField.value = result.version;
        // The approval forms name the version on screen, which is now this one.
        document.querySelectorAll(".approval-version").forEach((el) => { el.value = result.version; });
        if (this.statusBadge && result.status) this.statusBadge.textContent = result.status;
        // Show the slug as stored ("My Slug" -> "my-slug") unless it was retyped meanwhile.
        const slugField = document.getElementById("f-slug");
        if (slugField && result.slug && sent.slug !== undefined && slugField.value === sent.slug) {
          slugField.value = result.slug;
        }
        const publishUrl = document.getElementById("publish-url");
        if (publishUrl && result.slug) publishUrl.textContent = "/issues/" + result.slug;
        this.showPanels(result.panels);
        this.showMessage("");
        this.setState(this.dirty ? "Unsaved changes" : "Saved", this.dirty ? "dirty" : "saved");
        this.onSaved(result);
      }
    } catch (err) {
      this.refused("", "Not saved (offline?)", sent);
    }
  }

  refused(message, label, sent) {
    this.dirty = true;
    this.failed = true;
    this.setState(label, "error");
    if (message) this.showMessage(message);
    this.onRefused(sent);
  }
}
