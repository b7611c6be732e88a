// Decorations drawn over the visible lines only (so a 175 KB issue costs what a
// screenful costs): placeholders, Jekyll site variables and the [[events]] line,
// plus the tooltip that says why a placeholder blocks the send.
import { Decoration, ViewPlugin, hoverTooltip } from "../vendor/codemirror.js";
import { EVENTS_LINE, SITE_VARIABLE, placeholderReason, scanLine } from "./text.js";

const placeholderMark = Decoration.mark({ class: "cm-placeholder-mark" });
const siteMark = Decoration.mark({ class: "cm-site-variable" });
const eventsMark = Decoration.mark({ class: "cm-events-marker" });
const eventsLine = Decoration.line({ class: "cm-events-line" });

function decorate(view) {
  const ranges = [];
  let lastLine = 0;
  for (const { from, to } of view.visibleRanges) {
    for (let pos = from; pos <= to;) {
      const line = view.state.doc.lineAt(pos);
      pos = line.to + 1;
      if (line.number <= lastLine) continue;
      lastLine = line.number;
      const text = line.text;
      if (EVENTS_LINE.test(text)) {
        ranges.push(eventsLine.range(line.from));
        const start = text.indexOf("[[");
        ranges.push(eventsMark.range(line.from + start, line.from + start + "[[events]]".length));
        continue;
      }
      if (text.includes("{")) {
        SITE_VARIABLE.lastIndex = 0;
        for (const m of text.matchAll(SITE_VARIABLE)) {
          ranges.push(siteMark.range(line.from + m.index, line.from + m.index + m[0].length));
        }
      }
      for (const found of scanLine(text)) {
        ranges.push(placeholderMark.range(line.from + found.from, line.from + found.to));
      }
    }
  }
  return Decoration.set(ranges, true);
}

export const textMarks = ViewPlugin.fromClass(class {
  constructor(view) { this.decorations = decorate(view); }
  update(update) {
    if (update.docChanged || update.viewportChanged) this.decorations = decorate(update.view);
  }
}, { decorations: (plugin) => plugin.decorations });

export const placeholderTooltip = hoverTooltip((view, pos) => {
  const line = view.state.doc.lineAt(pos);
  for (const found of scanLine(line.text)) {
    const from = line.from + found.from;
    const to = line.from + found.to;
    if (pos < from || pos > to) continue;
    return {
      pos: from, end: to, above: true,
      create() {
        const dom = document.createElement("div");
        dom.className = "cm-placeholder-tip";
        dom.textContent = placeholderReason(found);
        return { dom };
      },
    };
  }
  return null;
}, { hoverTime: 250 });
