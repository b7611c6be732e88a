// Formatting commands of the toolbar and the shortcuts. Each is one ordinary
// transaction (userEvent "input.format", its own undo step), so undo/redo treat a
// toolbar edit like typing. They work on every selection range.
import { EditorSelection, indentLess, indentMore, isolateHistory } from "../vendor/codemirror.js";

function apply(view, spec) {
  view.dispatch(view.state.update(spec, {
    userEvent: "input.format", scrollIntoView: true,
    annotations: isolateHistory.of("full"),
  }));
  view.focus();
  return true;
}

// The selection without surrounding spaces ("**word **" is not bold in Markdown);
// an empty selection inside a word takes the word.
function trimmedRange(state, range) {
  let { from, to } = range;
  if (range.empty) {
    const word = state.wordAt(from);
    return word ? { from: word.from, to: word.to } : { from, to };
  }
  const text = state.sliceDoc(from, to);
  from += text.length - text.trimStart().length;
  to -= text.length - text.trimEnd().length;
  return from < to ? { from, to } : { from: range.from, to: range.to };
}

function runLength(text, char, fromEnd) {
  let n = 0;
  while (n < text.length && text[fromEnd ? text.length - 1 - n : n] === char) n += 1;
  return n;
}

// Emphasis is a run of * (or _) on both sides: bold is 2 of them, italic 1, both 3.
function toggleEmphasis(view, size) {
  const { state } = view;
  return apply(view, state.changeByRange((range) => {
    const { from, to } = trimmedRange(state, range);
    for (const char of ["*", "_"]) {
      const before = runLength(state.sliceDoc(Math.max(0, from - 3), from), char, true);
      const after = runLength(state.sliceDoc(to, to + 3), char, false);
      const run = Math.min(before, after);
      const has = size === 2 ? run >= 2 : run % 2 === 1;
      if (has) {
        return {
          changes: [{ from: from - size, to: from }, { from: to, to: to + size }],
          range: EditorSelection.range(from - size, to - size),
        };
      }
    }
    const marker = "*".repeat(size);
    const inner = state.sliceDoc(from, to);
    if (inner.length > 2 * size && inner.startsWith(marker) && inner.endsWith(marker)
        && (size === 2 || !inner.startsWith("**"))) {
      return {
        changes: { from, to, insert: inner.slice(size, -size) },
        range: EditorSelection.range(from, to - 2 * size),
      };
    }
    return {
      changes: [{ from, insert: marker }, { from: to, insert: marker }],
      range: EditorSelection.range(from + size, to + size),
    };
  }));
}

export const bold = (view) => toggleEmphasis(view, 2);
export const italic = (view) => toggleEmphasis(view, 1);

// Inline code for a selection on one line; a fenced block for several lines.
export function code(view) {
  const { state } = view;
  return apply(view, state.changeByRange((range) => {
    const startLine = state.doc.lineAt(range.from);
    const endLine = state.doc.lineAt(range.to);
    if (startLine.number !== endLine.number) {
      const text = state.sliceDoc(startLine.from, endLine.to);
      const insert = "```\n" + text + "\n```";
      return { changes: { from: startLine.from, to: endLine.to, insert },
               range: EditorSelection.range(startLine.from + 4, startLine.from + 4 + text.length) };
    }
    const { from, to } = trimmedRange(state, range);
    if (state.sliceDoc(from - 1, from) === "`" && state.sliceDoc(to, to + 1) === "`") {
      return { changes: [{ from: from - 1, to: from }, { from: to, to: to + 1 }],
               range: EditorSelection.range(from - 1, to - 1) };
    }
    return { changes: [{ from, insert: "`" }, { from: to, insert: "`" }],
             range: EditorSelection.range(from + 1, to + 1) };
  }));
}

// [text](url) in place of the selection; the caller asked for the URL.
export function insertLink(view, range, text, url) {
  const insert = "[" + (text || url) + "](" + url.trim() + ")";
  return apply(view, {
    changes: { from: range.from, to: range.to, insert },
    selection: { anchor: range.from + insert.length },
  });
}

// The lines a selection touches, each once.
function selectedLines(state) {
  const lines = new Map();
  for (const range of state.selection.ranges) {
    const last = state.doc.lineAt(range.to).number;
    for (let n = state.doc.lineAt(range.from).number; n <= last; n++) lines.set(n, state.doc.line(n));
  }
  return Array.from(lines.values());
}

const INDENT = /^\s*/;
const BULLET = /^(\s*)[*+-]\s+/;
const NUMBER = /^(\s*)\d+[.)]\s+/;
const QUOTE = /^(\s*)>\s?/;
const HEADING = /^(#{1,6})\s+/;

// Add or remove a marker at the start of every selected line (after its indentation).
function toggleLines(view, present, add, remove, { skipBlank = true } = {}) {
  const lines = selectedLines(view.state).filter((line) => !skipBlank || line.text.trim());
  if (!lines.length) {
    const line = view.state.doc.lineAt(view.state.selection.main.head);
    return apply(view, { changes: { from: line.from, insert: add(line, 0) } });
  }
  const all = lines.every((line) => present.test(line.text));
  const changes = lines.map((line, index) => {
    if (all) {
      const match = present.exec(line.text);
      return { from: line.from + match[1].length, to: line.from + match[0].length, insert: remove };
    }
    const indent = INDENT.exec(line.text)[0].length;
    // A line that already is another kind of list item swaps its marker.
    const other = BULLET.exec(line.text) || NUMBER.exec(line.text);
    const to = other && present !== QUOTE ? line.from + other[0].length : line.from + indent;
    return { from: line.from + indent, to, insert: add(line, index) };
  });
  return apply(view, { changes });
}

export const bulletList = (view) => toggleLines(view, BULLET, () => "* ", "");
export const numberedList = (view) => toggleLines(view, NUMBER, (_line, i) => (i + 1) + ". ", "");
export const quote = (view) => toggleLines(view, QUOTE, () => "> ", "", { skipBlank: false });

// Heading levels cycle: none -> ## -> ### -> #### -> none (the title is the email's h1).
export function heading(view) {
  const changes = selectedLines(view.state).map((line) => {
    const match = HEADING.exec(line.text);
    const level = match ? match[1].length : 0;
    const next = level === 0 ? 2 : level >= 4 ? 0 : level + 1;
    return { from: line.from, to: line.from + (match ? match[0].length : 0),
             insert: next ? "#".repeat(next) + " " : "" };
  });
  return apply(view, { changes });
}

// A block on its own line with one blank line before and after it, below the cursor's line.
function insertBlock(view, block) {
  const { state } = view;
  const line = state.doc.lineAt(state.selection.main.head);
  const at = line.text.trim() ? line.to : line.from;
  const before = state.sliceDoc(Math.max(0, at - 2), at);
  const after = state.sliceDoc(at, at + 2);
  const lead = at === 0 ? "" : "\n".repeat(2 - runLength(before, "\n", true));
  const trail = "\n".repeat(2 - runLength(after, "\n", false));
  const insert = lead + block + trail;
  return apply(view, { changes: { from: at, to: at, insert }, selection: { anchor: at + insert.length } });
}

export const rule = (view) => insertBlock(view, "---");

export function events(view) {
  const { doc } = view.state;
  for (let n = 1; n <= doc.lines; n++) {
    const line = doc.line(n);
    if (line.text.trim() === "[[events]]") {   // one section per issue: show the one there is
      view.dispatch({ selection: { anchor: line.from, head: line.to }, scrollIntoView: true });
      view.focus();
      return true;
    }
  }
  return insertBlock(view, "[[events]]");
}

// Tab: a list item (or several selected lines) is indented by one level (4 spaces, what
// Python-Markdown needs for a nested list); elsewhere Tab types 4 spaces. Shift-Tab outdents.
// Esc then Tab still leaves the editor (CodeMirror's tab focus mode).
const LIST_ITEM = /^\s*([*+-]|\d+[.)])(\s|$)/;
export function tab(view) {
  const { state } = view;
  const range = state.selection.main;
  const multiline = state.doc.lineAt(range.from).number !== state.doc.lineAt(range.to).number;
  if (multiline || LIST_ITEM.test(state.doc.lineAt(range.head).text)) return indentMore(view);
  view.dispatch(state.update(state.replaceSelection("    "), { userEvent: "input", scrollIntoView: true }));
  return true;
}
export const untab = (view) => indentLess(view);
