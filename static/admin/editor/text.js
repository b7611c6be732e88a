// What the editor recognises in the text itself, on the client, as it is typed.
// The placeholder rules are those of app/rendering/placeholders.py, kept equal
// (tests/e2e/test_editor_writing.py compares both on the same lines): a marker
// word (TODO, TODOS, TBD, FIXME) counts where it is used as a marker — before a
// colon, alone in brackets, or in capitals where a marker stands (opening a
// bracket, at the line start after list/heading/quote markup, after a label's
// colon, in emphasis) — not in a sentence; an upper-case TK word; empty link
// targets [x]() and [x](#); nothing inside a URL. A marker may name its owner
// before the colon: TODO(@ryan): … or TODO @ryan: ….
const WORD = /(?<![A-Za-z0-9_])(?:todos?|tbd|fixme)(?![A-Za-z0-9_])/gi;
const COLON_AFTER = /^[ \t]*:/;
const CLOSE_AFTER = /^[ \t]*[)\]]/;
const OPEN_BEFORE = /[(\[][ \t]*$/;
const CAPITALS = /^(?:TODOS?|TBD|FIXME)$/;
const LABEL_OR_EMPHASIS_BEFORE = /(?::|[*_])[ \t]*$/;
const LINE_MARKUP = /^[ \t>]*(?:(?:[*+-]|[0-9]+[.)]|#{1,6})[ \t]*)?$/;
const TK = /(?<![A-Za-z0-9_])(?:TK)+(?![A-Za-z0-9_])/g;
const EMPTY_LINK = /\]\(\s*(?:#\s*)?\)/g;
const HANDLE = "[A-Za-z0-9](?:[A-Za-z0-9._-]{0,38}[A-Za-z0-9])?";
const OWNER = new RegExp("^(?:\\(@(" + HANDLE + ")\\)|[ \\t]+@(" + HANDLE + "))(?=[ \\t]*:)");
const URL = /(?:(?<![a-zA-Z0-9+.-])[a-zA-Z][a-zA-Z0-9+.-]*:\/\/|www\.|mailto:)[^\s)>\]"']+/g;

function isMarker(line, start, end, word) {
  const after = line.slice(end);
  const owner = OWNER.exec(after);
  if (COLON_AFTER.test(owner ? after.slice(owner[0].length) : after)) return true;
  const before = line.slice(Math.max(0, start - 16), start);
  if (OPEN_BEFORE.test(before) && CLOSE_AFTER.test(after)) return true;
  if (!CAPITALS.test(word)) return false;
  return OPEN_BEFORE.test(before) || LABEL_OR_EMPHASIS_BEFORE.test(before)
    || (start <= 16 && LINE_MARKUP.test(line.slice(0, start)));
}

// Jekyll's site variables and tags ({{ site.github.url }}, {% ... %}) and the events marker line.
export const SITE_VARIABLE = /\{\{[^{}\n]*\}\}|\{%[^%\n]*%\}/g;
export const EVENTS_LINE = /^\s*\[\[events\]\]\s*$/;

function matches(pattern, text) {
  pattern.lastIndex = 0;
  return Array.from(text.matchAll(pattern));
}

// Placeholders in one line: [{from, to, code, text}] with offsets into the line.
export function scanLine(text) {
  if (!text) return [];
  const urls = matches(URL, text).map((m) => [m.index, m.index + m[0].length]);
  const inUrl = (position) => urls.some(([start, end]) => start <= position && position < end);
  const found = [];
  for (const m of matches(WORD, text)) {
    const end = m.index + m[0].length;
    if (!inUrl(m.index) && isMarker(text, m.index, end, m[0])) {
      found.push({ from: m.index, to: end, code: "placeholder", text: m[0] });
    }
  }
  for (const m of matches(TK, text)) {
    if (!inUrl(m.index)) found.push({ from: m.index, to: m.index + m[0].length, code: "placeholder", text: m[0] });
  }
  for (const m of matches(EMPTY_LINK, text)) {
    found.push({ from: m.index, to: m.index + m[0].length, code: "empty-link", text: m[0] });
  }
  return found.sort((a, b) => a.from - b.from);
}

// Why a placeholder blocks the send, in the words of the hover tooltip.
export function placeholderReason(found) {
  if (found.code === "empty-link") {
    return "This link has no address yet. Sending is blocked until it gets one.";
  }
  const word = found.text.toUpperCase().startsWith("TK")
    ? "“" + found.text + "” (to come) marks text still to be written."
    : "“" + found.text + "” marks unfinished work.";
  return word + " Sending is blocked until it is replaced.";
}

// Document position of a 1-based line and 1-based column as the server counts them
// (Python counts code points, the editor UTF-16 units), clamped into the document.
export function positionOf(doc, line, col) {
  const number = Math.min(Math.max(1, line || 1), doc.lines);
  const target = doc.line(number);
  let offset = 0;
  let points = Math.max(0, (col || 1) - 1);
  while (points > 0 && offset < target.length) {
    const code = target.text.codePointAt(offset);
    offset += code > 0xffff ? 2 : 1;
    points -= 1;
  }
  return target.from + Math.min(offset, target.length);
}

// A long URL inside a message, shortened to its last path segment (the full text goes
// in a title): "http://host/images/2018/09/gan-1536758013486.png" -> "…/gan-1536758013486.png".
export function shortenUrls(message, max = 40) {
  return message.replace(/(?:[a-zA-Z][a-zA-Z0-9+.-]*:\/\/|\{\{[^}]*\}\})\S*|\S{50,}/g, (url) => {
    if (url.length <= max) return url;
    const last = url.replace(/[/?#]+$/, "").split("/").pop();
    return "…/" + (last.length > max - 2 ? last.slice(0, max - 14) + "…" + last.slice(-12) : last);
  });
}
