// The side panel's placeholder and preflight lists. Each entry with a line is a button
// that puts the cursor on its line and column (positions kept by problems.js).
import { EditorView } from "../vendor/codemirror.js";
import { anchorOf } from "./problems.js";
import { shortenUrls } from "./text.js";

function jumpButton(index, text, title) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "link jump";
  button.dataset.index = index;
  button.textContent = text;
  if (title) button.title = title;
  return button;
}

function levelBadge(level) {
  const badge = document.createElement("span");
  badge.className = "level " + level;
  badge.textContent = level;
  return badge;
}

// "@ryan (Ryan Writer)", or a warning when no user has the handle.
function ownerLabel(handle, name) {
  const label = document.createElement("span");
  label.className = name ? "owner" : "owner unknown";
  label.textContent = "@" + handle + (name ? " (" + name + ")" : " (no user has this handle)");
  return label;
}

// "Assign to @ryan?" for a placeholder whose words name one user.
function assignButton(index, p) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "link assign";
  button.dataset.index = index;
  button.dataset.assign = p.proposed.handle;
  button.dataset.marker = p.text;
  button.textContent = "Assign to @" + p.proposed.handle + " (" + p.proposed.name + ")?";
  return button;
}

export class SidePanel {
  constructor(view) {
    this.view = view;
    this.placeholders = document.getElementById("placeholder-list");
    this.problems = document.getElementById("problem-list");
    for (const list of [this.placeholders, this.problems]) {
      list.addEventListener("click", (event) => {
        const assign = event.target.closest("button[data-assign]");
        if (assign) { this.assign(Number(assign.dataset.index), assign.dataset.marker, assign.dataset.assign); return; }
        const button = event.target.closest("button[data-index]");
        if (button) this.jump(Number(button.dataset.index));
      });
    }
  }

  // What the server rendered into the page, in the shape of a preview answer.
  static fromPage() {
    const number = (value) => parseInt(value, 10) || 0;
    return {
      placeholders: Array.from(document.querySelectorAll("#placeholder-list button[data-line]")).map((b) => (
        { line: number(b.dataset.line), col: number(b.dataset.col), text: b.dataset.text,
          owner: b.dataset.owner || null, owner_name: b.dataset.ownerName || null,
          proposed: b.dataset.proposedHandle ? { handle: b.dataset.proposedHandle, name: b.dataset.proposedName } : null })),
      problems: Array.from(document.querySelectorAll("#problem-list li[data-level]")).map((li) => (
        { level: li.dataset.level, line: number(li.dataset.line), col: number(li.dataset.col), message: li.dataset.message })),
    };
  }

  // Renders both lists; returns the {line, col} jump targets in data-index order.
  render(placeholders, problems) {
    const targets = [];
    this.placeholders.replaceChildren(...placeholders.map((p) => {
      const item = document.createElement("li");
      item.append(jumpButton(targets.length, "line " + p.line + ": " + p.text));
      if (p.owner) item.append(" ", ownerLabel(p.owner, p.owner_name));
      else if (p.proposed) item.append(" ", assignButton(targets.length, p));
      targets.push({ line: p.line, col: p.col });
      return item;
    }));
    document.getElementById("placeholder-count").textContent = placeholders.length;
    document.getElementById("placeholder-none").hidden = placeholders.length > 0;
    this.problems.replaceChildren(...problems.map((p) => {
      const item = document.createElement("li");
      item.className = p.level;
      const short = shortenUrls(p.message);
      const title = short !== p.message ? p.message : "";
      item.append(levelBadge(p.level), " ");
      if (p.line) {
        item.append(jumpButton(targets.length, "line " + p.line + ": " + short, title));
        targets.push({ line: p.line, col: p.col });
      } else {
        const text = document.createElement("span");
        text.textContent = short;
        if (title) text.title = title;
        item.append(text);
      }
      return item;
    }));
    document.getElementById("problem-none").hidden = problems.length > 0;
    return targets;
  }

  // The editor's one-click confirmation of a proposed owner: "TODO: add Ryan's article"
  // becomes "TODO(@ryan): add Ryan's article" (an edit like any other: saved, then mailed).
  assign(index, marker, handle) {
    const start = anchorOf(this.view.state, index);
    if (start === undefined) return;
    const end = start + marker.length;
    if (this.view.state.doc.sliceString(start, end) !== marker) return;  // the text moved on: do nothing
    this.view.dispatch({ changes: { from: end, insert: "(@" + handle + ")" }, userEvent: "input.assign" });
    this.view.focus();
  }

  jump(index) {
    const pos = anchorOf(this.view.state, index);
    if (pos === undefined) return;
    this.view.dispatch({ selection: { anchor: pos }, effects: EditorView.scrollIntoView(pos, { y: "center" }) });
    this.view.focus();
  }
}
