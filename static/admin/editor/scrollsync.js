// Scroll sync, editor -> preview. Headings are the anchors: each ATX heading of the
// Markdown is matched (by its text) to a heading of the rendered preview, in order;
// between two anchors, and between the ends and the first/last anchor, the position is
// interpolated linearly by line. An issue without headings scrolls proportionally.
const ATX = /^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$/;
const FENCE = /^ {0,3}(```|~~~)/;

function key(text) {
  return text
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/\{\{[^}]*\}\}|\{%[^%]*%\}/g, "")
    .replace(/<[^>]+>/g, "")
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, " ")
    .trim()
    .slice(0, 80);
}

export class ScrollSync {
  constructor(view) {
    this.view = view;
    this.headings = [];   // [{line, key}] of the text the last preview rendered
    this.frame = null;    // the visible preview frame (or the plain-text <pre>)
    this.anchors = null;
    this.pending = false;
    view.scrollDOM.addEventListener("scroll", () => this.request(), { passive: true });
  }

  // The Markdown's headings, taken when a preview request leaves (once per preview).
  readHeadings(doc) {
    const found = [];
    let fence = null;
    for (let n = 1; n <= doc.lines; n++) {
      const text = doc.line(n).text;
      const opening = FENCE.exec(text);
      if (fence) { if (opening && opening[1] === fence) fence = null; continue; }
      if (opening) { fence = opening[1]; continue; }
      if (text.charCodeAt(0) !== 35 && !text.startsWith(" ")) continue;   // fast path: no "#"
      const match = ATX.exec(text);
      if (match && key(match[2])) found.push({ line: n, key: key(match[2]) });
    }
    this.headings = found;
    this.anchors = null;
  }

  // Call with the visible frame after it (re)loaded or after a tab switch.
  attach(target) {
    this.frame = target;
    this.anchors = null;
    this.sync();
  }

  request() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => { this.pending = false; this.sync(); });
  }

  scroller() {
    if (!this.frame) return null;
    if (this.frame.tagName !== "IFRAME") return { el: this.frame, doc: null };
    const doc = this.frame.contentDocument;
    return doc && doc.documentElement ? { el: doc.scrollingElement || doc.documentElement, doc } : null;
  }

  buildAnchors(target) {
    const lines = this.view.state.doc.lines;
    const height = target.el.scrollHeight;
    const anchors = [{ line: 1, y: 0 }];
    if (target.doc) {
      const win = target.doc.defaultView;
      const rendered = Array.from(target.doc.querySelectorAll("h1, h2, h3, h4, h5, h6"))
        .map((el) => ({ key: key(el.textContent || ""), y: el.getBoundingClientRect().top + win.scrollY }));
      let next = 0;
      for (const heading of this.headings) {
        const index = rendered.findIndex((r, i) => i >= next && r.key === heading.key);
        if (index < 0) continue;
        next = index + 1;
        const last = anchors[anchors.length - 1];
        if (heading.line > last.line && rendered[index].y >= last.y) anchors.push({ line: heading.line, y: rendered[index].y });
      }
    }
    anchors.push({ line: lines + 1, y: height });
    return anchors;
  }

  sync() {
    const target = this.scroller();
    if (!target) return;
    const scroll = this.view.scrollDOM;
    const max = target.el.scrollHeight - target.el.clientHeight;
    if (max <= 0) return;
    if (scroll.scrollTop <= 0) { target.el.scrollTop = 0; return; }
    if (scroll.scrollTop + scroll.clientHeight >= scroll.scrollHeight - 2) { target.el.scrollTop = max; return; }
    if (!this.anchors) this.anchors = this.buildAnchors(target);
    const top = scroll.getBoundingClientRect().top - this.view.documentTop;
    const block = this.view.lineBlockAtHeight(Math.max(0, top));
    const line = this.view.state.doc.lineAt(block.from).number + Math.max(0, top - block.top) / (block.height || 1);
    const anchors = this.anchors;
    let i = 0;
    while (i < anchors.length - 2 && anchors[i + 1].line <= line) i++;
    const a = anchors[i];
    const b = anchors[i + 1];
    const y = a.y + (b.y - a.y) * Math.min(1, (line - a.line) / Math.max(1, b.line - a.line));
    target.el.scrollTop = Math.max(0, Math.min(max, y - 12));
  }
}
