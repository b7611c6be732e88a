// Issue editor: CodeMirror 6 writing surface, formatting toolbar, images in place, live
// preview with preflight, autosave, and text kept in this browser until it is saved.
// Served by the app as ES modules (admin CSP is script-src 'self'; no inline script).
import { EditorView, isolateHistory, openSearchPanel } from "../vendor/codemirror.js";
import * as format from "./commands.js";
import { Comments } from "./comments.js";
import { askLink } from "./dialogs.js";
import { Drafts, describeDraft } from "./drafts.js";
import { Images } from "./images.js";
import { SidePanel } from "./panels.js";
import { Preview } from "./preview.js";
import { ChangeTracker, showReport } from "./problems.js";
import { Saver } from "./save.js";
import { ScrollSync } from "./scrollsync.js";
import { createEditor } from "./setup.js";
import { setUpToolbar } from "./toolbar.js";

const IDLE_DELAY = 300;   // after typing stops: sync the form field, keep the draft

const form = document.getElementById("issue-form");
if (form) start(form);

function start(form) {
  const textarea = document.getElementById("f-body");
  const editable = form.dataset.editable === "true";
  const field = (id) => document.getElementById(id);
  const value = (id) => (field(id) ? field(id).value : undefined);
  const tracker = new ChangeTracker();
  const drafts = new Drafts(form.dataset.issueId);
  let idleTimer = null;
  let pendingDraft = null;   // a kept draft the banner offers, until Restore or Discard
  let images = null;

  const run = (name) => {
    const commands = {
      bold: format.bold, italic: format.italic, code: format.code, heading: format.heading,
      quote: format.quote, "bullet-list": format.bulletList, "numbered-list": format.numberedList,
      rule: format.rule, events: format.events, find: openSearchPanel,
      link: (v) => { link(v); return true; },
      image: () => { images.pick(); return true; },
    };
    return commands[name](view);
  };
  const keys = editable ? [
    { key: "Mod-b", run: format.bold }, { key: "Mod-i", run: format.italic },
    { key: "Mod-k", run: (v) => { link(v); return true; } }, { key: "Mod-e", run: format.code },
    { key: "Mod-Shift-8", run: format.bulletList }, { key: "Mod-Shift-7", run: format.numberedList },
    { key: "Mod-Shift-9", run: format.quote },
    { key: "Tab", run: format.tab, shift: format.untab },
  ] : [];

  const view = createEditor({
    textarea, editable, keys, parent: field("editor-wrap"),
    extensions: editable ? [imagesExtension()] : [],
    onUpdate(update) {
      tracker.record(update);
      if (update.docChanged) changed();
    },
  });
  function imagesExtension() {
    images = new Images(null, {
      list: form.dataset.mediaUrl, upload: form.dataset.mediaUploadUrl, alt: form.dataset.mediaAltUrl,
    });
    return images.extension();
  }
  if (images) images.view = view;

  async function link(v) {
    const range = v.state.selection.main;
    const chosen = await askLink(v.state.sliceDoc(range.from, range.to));
    if (chosen) format.insertLink(v, range, chosen.text, chosen.url); else v.focus();
  }

  // ---- saving and the kept draft -------------------------------------------
  const fields = () => ({ body: view.state.doc.toString(), title: value("f-title"),
                          subject: value("f-subject"), preheader: value("f-preheader") });
  const saver = new Saver({
    form,
    payload: (version) => {
      syncTextarea();
      const data = {
        version, title: value("f-title"), subject: value("f-subject"), preheader: value("f-preheader"),
        issue_date: value("f-date") || null, body: textarea.value,
        lists: Array.from(form.querySelectorAll('input[name="lists"]:checked')).map((el) => el.value),
      };
      const slug = field("f-slug");
      if (slug && !slug.disabled && slug.value.trim()) data.slug = slug.value;
      return data;
    },
    onSaved: () => {
      drafts.clear(pendingDraft && pendingDraft.key);
      if (saver.dirty) keepDraft();
    },
    onRefused: () => keepDraft(),
  });
  const keepDraft = () => {
    if (editable && (saver.dirty || saver.conflict || saver.failed)) drafts.keep(saver.version, fields());
  };
  // The form field follows the editor when typing pauses (data-synced says whether it
  // holds the editor's text); saves and previews read the editor itself.
  const syncTextarea = () => {
    const text = view.state.doc.toString();
    if (textarea.value !== text) textarea.value = text;
    textarea.dataset.synced = "true";
  };
  textarea.dataset.synced = "true";

  function changed() {
    if (!editable) return;
    if (textarea.dataset.synced !== "false") textarea.dataset.synced = "false";
    saver.changed();
    preview.schedule();
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => { syncTextarea(); keepDraft(); }, IDLE_DELAY);
  }

  // ---- preview, side panel, gutter -------------------------------------------
  const panel = new SidePanel(view);
  const scrollSync = new ScrollSync(view);
  const preview = new Preview({
    form, section: document.querySelector(".editor-preview"), scrollSync,
    data: () => {
      scrollSync.readHeadings(view.state.doc);
      return {
        payload: { body: view.state.doc.toString(), subject: value("f-subject"), preheader: value("f-preheader"),
                   slug: value("f-slug"), issue_id: parseInt(form.dataset.issueId, 10) },
        context: tracker.start(view.state),
      };
    },
    onResult: (result, context) => {
      const targets = panel.render(result.placeholders, result.problems);
      showReport(view, context, result.problems, targets);
    },
  });
  const initial = SidePanel.fromPage();
  showReport(view, { doc: view.state.doc, changes: null }, initial.problems,
             panel.render(initial.placeholders, initial.problems));
  const commentsCard = field("comments-card");
  if (commentsCard) new Comments(view, commentsCard).load();

  // A link to a line (#line-12, from "Waiting on you" and notifications) puts the cursor there.
  const wanted = /^#line-(\d+)$/.exec(window.location.hash);
  if (wanted) {
    const number = Math.min(Math.max(1, parseInt(wanted[1], 10)), view.state.doc.lines);
    const pos = view.state.doc.line(number).from;
    view.dispatch({ selection: { anchor: pos }, effects: EditorView.scrollIntoView(pos, { y: "center" }) });
    view.focus();
  }

  // ---- toolbar, shortcuts, form wiring --------------------------------------
  const toolbar = field("editor-toolbar");
  if (toolbar) setUpToolbar(toolbar, run);
  field("body-label").addEventListener("click", (event) => { event.preventDefault(); view.focus(); });
  form.addEventListener("input", (event) => { if (event.target !== textarea && !view.dom.contains(event.target)) changed(); });
  form.addEventListener("change", (event) => {
    if (event.target.name === "lists" || event.target.type === "date") changed();
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    saver.dirty = true;
    saver.save();
  });
  document.addEventListener("keydown", (event) => {
    if ((event.ctrlKey || event.metaKey) && !event.altKey && event.key.toLowerCase() === "s") {
      event.preventDefault();
      saver.dirty = true;
      saver.save();
    }
  });
  // A test send mails the saved version: save pending edits first.
  const testForm = field("test-send-form");
  if (testForm) {
    testForm.addEventListener("submit", async (event) => {
      if (!saver.dirty && !saver.saving) return;
      event.preventDefault();
      await saver.save();
      // Only mail the text on screen: a refused save (conflict or bad input) would send an older one.
      if (!saver.conflict && !saver.failed) testForm.submit();
    });
  }
  window.addEventListener("beforeunload", (event) => {
    keepDraft();
    if (saver.dirty || saver.conflict) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
  document.addEventListener("visibilitychange", () => { if (document.hidden) keepDraft(); });

  // ---- a draft kept by an earlier visit -----------------------------------------
  function offerDraft() {
    const now = fields();
    const differs = (d) => ["body", "title", "subject", "preheader"].some(
      (k) => typeof d[k] === "string" && now[k] !== undefined && d[k] !== now[k]);
    const kept = drafts.all();
    kept.filter((d) => !differs(d)).forEach((d) => drafts.remove(d.key));   // nothing was lost
    pendingDraft = kept.find(differs) || null;
    if (!pendingDraft) return;
    // New typing is kept under this version's key: the offered draft moves aside meanwhile.
    pendingDraft = drafts.moveAside(pendingDraft);
    const banner = field("draft-banner");
    field("draft-banner-text").textContent = describeDraft(pendingDraft, saver.version);
    banner.hidden = false;
    const close = () => { drafts.remove(pendingDraft.key); pendingDraft = null; banner.hidden = true; view.focus(); };
    field("draft-restore").addEventListener("click", () => {
      const draft = pendingDraft;
      view.dispatch({
        changes: { from: 0, to: view.state.doc.length, insert: draft.body },
        userEvent: "input.restore", annotations: isolateHistory.of("full"),
      });
      for (const [id, key] of [["f-title", "title"], ["f-subject", "subject"], ["f-preheader", "preheader"]]) {
        if (field(id) && typeof draft[key] === "string") field(id).value = draft[key];
      }
      close();
      changed();
    }, { once: true });
    field("draft-discard").addEventListener("click", close, { once: true });
  }
  if (editable) offerDraft();
  preview.run();
}
