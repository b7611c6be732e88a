// Comments on the draft's lines: a gutter mark on each commented line, the side list
// (jump, resolve) and the dialog that adds one for the selected lines. The server keeps
// them (app/admin/comments.py); they are never part of the text.
import { GutterMarker, RangeSet, StateEffect, StateField, gutter, EditorView } from "../vendor/codemirror.js";
import { openModal } from "./dialogs.js";
import { answer, getJSON, postJSON } from "./http.js";

class CommentMarker extends GutterMarker {
  constructor(text) { super(); this.text = text; }
  eq(other) { return other.text === this.text; }
  toDOM() {
    const mark = document.createElement("span");
    mark.className = this.text ? "cm-comment-marker" : "cm-comment-spacer";  // the spacer only sizes the gutter
    if (this.text) mark.title = this.text;
    mark.textContent = "❝";
    return mark;
  }
}

const setComments = StateEffect.define();
const commentField = StateField.define({
  create: () => RangeSet.empty,
  update(value, tr) {
    for (const effect of tr.effects) if (effect.is(setComments)) return effect.value;
    return tr.docChanged ? value.map(tr.changes) : value;
  },
});

export const commentGutter = [
  commentField,
  gutter({ class: "cm-comment-gutter", markers: (view) => view.state.field(commentField), initialSpacer: () => new CommentMarker("") }),
];

const linesLabel = (c) => (c.line_from === c.line_to ? "line " + c.line_from : "lines " + c.line_from + "–" + c.line_to);

export class Comments {
  constructor(view, card) {
    this.view = view;
    this.card = card;
    this.list = document.getElementById("comment-list");
    this.comments = [];
    this.list.addEventListener("click", (event) => {
      const jump = event.target.closest("button[data-line]");
      if (jump) this.jump(Number(jump.dataset.line));
      const resolve = event.target.closest("button[data-resolve]");
      if (resolve) this.resolve(resolve.dataset.resolve);
    });
    document.getElementById("comment-button")?.addEventListener("click", () => this.ask());
  }

  async load() {
    try { this.render((await getJSON(this.card.dataset.url)).comments); }
    catch { this.list.replaceChildren(); document.getElementById("comment-count").textContent = "?"; }
  }

  render(comments) {
    this.comments = comments;
    const doc = this.view.state.doc;
    this.list.replaceChildren(...comments.map((c) => {
      const item = document.createElement("li");
      const jump = document.createElement("button");
      jump.type = "button"; jump.className = "link jump"; jump.dataset.line = c.line_from;
      jump.textContent = linesLabel(c);
      const who = document.createElement("strong");
      who.textContent = c.author;
      const body = document.createElement("span");
      body.className = "comment-body"; body.textContent = c.body;
      const resolve = document.createElement("button");
      resolve.type = "button"; resolve.className = "link"; resolve.dataset.resolve = c.id;
      resolve.textContent = "Resolve";
      resolve.setAttribute("aria-label", "Resolve the comment on " + linesLabel(c));
      item.append(jump, " ", who, ": ", body, " ", resolve);
      return item;
    }));
    document.getElementById("comment-count").textContent = comments.length;
    document.getElementById("comment-none").hidden = comments.length > 0;
    const byLine = new Map();
    for (const c of comments) {
      if (c.line_from > doc.lines) continue;
      const pos = doc.line(c.line_from).from;
      byLine.set(pos, (byLine.has(pos) ? byLine.get(pos) + "\n" : "") + c.author + ": " + c.body);
    }
    const markers = RangeSet.of([...byLine].sort((a, b) => a[0] - b[0]).map(([pos, text]) => new CommentMarker(text).range(pos)));
    this.view.dispatch({ effects: setComments.of(markers) });
  }

  jump(line) {
    const doc = this.view.state.doc;
    const pos = doc.line(Math.min(Math.max(1, line), doc.lines)).from;
    this.view.dispatch({ selection: { anchor: pos }, effects: EditorView.scrollIntoView(pos, { y: "center" }) });
    this.view.focus();
  }

  async ask() {
    const { state } = this.view;
    const range = state.selection.main;
    const first = state.doc.lineAt(range.from);
    const last = state.doc.lineAt(range.to);
    const lines = { line_from: first.number, line_to: last.number, quote: first.text };
    document.getElementById("comment-lines").textContent = linesLabel(lines);
    const body = document.getElementById("comment-body");
    const error = document.getElementById("comment-error");
    body.value = ""; error.hidden = true;
    await openModal(document.getElementById("comment-dialog"), {
      focus: body,
      onSubmit: async () => {
        const data = await answer(await postJSON(this.card.dataset.addUrl, { ...lines, body: body.value }));
        if (data.error) { error.textContent = data.error; error.hidden = false; return undefined; }
        this.render(data.comments);
        return true;
      },
    });
    this.view.focus();
  }

  async resolve(id) {
    const url = this.card.dataset.resolveUrl.replace(/\/0\/resolve$/, "/" + id + "/resolve");
    const data = await answer(await postJSON(url, {}));
    if (!data.error) this.render(data.comments);
  }
}
