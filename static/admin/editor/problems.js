// Preflight results in the editor: a gutter marker on every line with a problem, and
// the positions the side panel's entries jump to. Both come from a preview answer,
// which describes the text as it was when the request left; the positions are mapped
// through every edit made since (and through later edits until the next answer).
import { GutterMarker, RangeSet, StateEffect, StateField, gutter } from "../vendor/codemirror.js";
import { positionOf } from "./text.js";

class ProblemMarker extends GutterMarker {
  constructor(level, text) {
    super();
    this.level = level;
    this.text = text;
  }
  eq(other) { return other.level === this.level && other.text === this.text; }
  toDOM() {
    const mark = document.createElement("span");
    mark.className = "cm-problem-marker " + this.level;
    mark.title = this.text;
    mark.textContent = this.level === "error" ? "●" : "▲";
    return mark;
  }
}

const setReport = StateEffect.define();

const reportField = StateField.define({
  create: () => ({ markers: RangeSet.empty, anchors: [] }),
  update(value, tr) {
    for (const effect of tr.effects) if (effect.is(setReport)) return effect.value;
    if (!tr.docChanged) return value;
    return { markers: value.markers.map(tr.changes), anchors: value.anchors.map((pos) => tr.changes.mapPos(pos)) };
  },
});

export const problemGutter = [
  reportField,
  gutter({
    class: "cm-problem-gutter",
    markers: (view) => view.state.field(reportField).markers,
    initialSpacer: () => new ProblemMarker("error", ""),
  }),
];

// Records the edits made after a preview request left, so its answer can be placed.
export class ChangeTracker {
  constructor() { this.pending = null; }
  start(state) {
    this.pending = { doc: state.doc, changes: null };
    return this.pending;
  }
  record(update) {
    if (!this.pending || !update.docChanged) return;
    this.pending.changes = this.pending.changes ? this.pending.changes.compose(update.changes) : update.changes;
  }
}

// Put a preview answer's problems and jump targets into the editor. `request` is what
// ChangeTracker.start returned when the request left; `targets` are {line, col} items.
export function showReport(view, request, problems, targets) {
  const place = (line, col) => {
    const pos = positionOf(request.doc, line, col);
    return request.changes ? request.changes.mapPos(pos) : pos;
  };
  const byLine = new Map();
  for (const problem of problems) {
    if (!problem.line) continue;
    const start = view.state.doc.lineAt(place(problem.line, 1)).from;
    const entry = byLine.get(start) || { level: "warning", messages: [] };
    if (problem.level === "error") entry.level = "error";
    entry.messages.push(problem.level + ": " + problem.message);
    byLine.set(start, entry);
  }
  const markers = RangeSet.of(Array.from(byLine, ([pos, entry]) => (
    new ProblemMarker(entry.level, entry.messages.join("\n")).range(pos))), true);
  const anchors = targets.map((t) => place(t.line, t.col));
  view.dispatch({ effects: setReport.of({ markers, anchors }) });
}

export function anchorOf(state, index) {
  return state.field(reportField).anchors[index];
}
