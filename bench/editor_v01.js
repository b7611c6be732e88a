// Issue editor: live preview, placeholder highlighting, autosave and Ctrl/Cmd-S.
// Served by the app (admin CSP is script-src 'self': no inline script, no CDN).
(() => {
  "use strict";
  const form = document.getElementById("issue-form");
  if (!form) return;
  const body = document.getElementById("f-body");
  const highlights = document.getElementById("editor-highlights");
  const backdrop = highlights.parentElement;
  const state = document.getElementById("save-state");
  const message = document.getElementById("editor-message");
  const versionField = document.getElementById("f-version");
  const statusBadge = document.getElementById("issue-status");
  const csrf = document.querySelector('meta[name="csrf-token"]').content;

  // Every JSON call of the editor (autosave, preview) goes through here.
  function postJSON(url, data) {
    return fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(data),
      credentials: "same-origin",
    });
  }
  const editable = form.dataset.editable === "true";

  const PREVIEW_DELAY = 350;
  const AUTOSAVE_DELAY = 1500;
  let previewTimer = null;
  let saveTimer = null;
  let saving = null;          // the in-flight save promise
  let dirty = false;
  let conflict = false;
  let saveFailed = false;     // the last save was refused (400) or did not reach the server
  let lastPlaceholders = [];
  let previewSeq = 0;

  // ---- save state -------------------------------------------------------
  function setState(text, cls) {
    state.textContent = text;
    state.className = "save-state " + cls;
  }

  function showMessage(text) {
    message.textContent = text || "";
    message.hidden = !text;
  }

  function fieldValue(id) {
    const el = document.getElementById(id);
    return el ? el.value : undefined;
  }

  function payload() {
    const data = {
      version: parseInt(versionField.value, 10),
      title: fieldValue("f-title"),
      subject: fieldValue("f-subject"),
      preheader: fieldValue("f-preheader"),
      issue_date: fieldValue("f-date") || null,
      body: body.value,
      lists: Array.from(form.querySelectorAll('input[name="lists"]:checked')).map((el) => el.value),
    };
    const slug = document.getElementById("f-slug");
    if (slug && !slug.disabled && slug.value.trim()) data.slug = slug.value;
    return data;
  }

  async function save() {
    if (!editable || conflict) return;
    if (saving) {            // one save at a time; queue another if edits came in meanwhile
      await saving;
      if (!dirty) return;
    }
    clearTimeout(saveTimer);
    dirty = false;
    setState("Saving…", "saving");
    const sent = payload();
    saving = (async () => {
      try {
        const response = await postJSON(form.dataset.autosaveUrl, sent);
        const result = await response.json().catch(() => ({ error: "The server answered " + response.status }));
        if (response.status === 409 && result.conflict) {
          conflict = true;
          setState("Conflict", "conflict");
          showMessage(result.error);
          const link = document.createElement("a");
          link.href = form.dataset.revisionsUrl;
          link.textContent = " Open the revisions page.";
          message.append(link);
        } else if (!response.ok) {
          dirty = true;
          saveFailed = true;
          setState("Not saved", "error");
          showMessage(result.error || "Not saved.");
        } else {
          saveFailed = false;
          versionField.value = result.version;
          // The approval forms name the version on screen, which is now this one.
          document.querySelectorAll(".approval-version").forEach((el) => { el.value = result.version; });
          if (statusBadge && result.status) statusBadge.textContent = result.status;
          // Show the slug as stored ("My Slug" -> "my-slug") unless it was retyped meanwhile.
          const slugField = document.getElementById("f-slug");
          if (slugField && result.slug && sent.slug !== undefined && slugField.value === sent.slug) {
            slugField.value = result.slug;
          }
          showMessage("");
          setState(dirty ? "Unsaved changes" : "Saved", dirty ? "dirty" : "saved");
        }
      } catch (err) {
        dirty = true;
        saveFailed = true;
        setState("Not saved (offline?)", "error");
      }
    })();
    await saving;
    saving = null;
    if (dirty && !conflict) scheduleSave();
  }

  function scheduleSave() {
    if (!editable || conflict) return;
    clearTimeout(saveTimer);
    saveTimer = setTimeout(save, AUTOSAVE_DELAY);
  }

  function changed() {
    if (!editable) return;
    dirty = true;
    if (!conflict) setState("Unsaved changes", "dirty");
    scheduleSave();
    schedulePreview();
  }

  // ---- preview ----------------------------------------------------------
  function schedulePreview() {
    clearTimeout(previewTimer);
    previewTimer = setTimeout(preview, PREVIEW_DELAY);
  }

  async function preview() {
    const seq = ++previewSeq;
    const data = { body: body.value, subject: fieldValue("f-subject"), preheader: fieldValue("f-preheader"),
                   slug: fieldValue("f-slug"), issue_id: parseInt(form.dataset.issueId, 10) };
    let result;
    try {
      const response = await postJSON(form.dataset.previewUrl, data);
      if (!response.ok) return;
      result = await response.json();
    } catch (err) {
      return;
    }
    if (seq !== previewSeq) return;   // a newer preview is on its way
    document.getElementById("preview-email").srcdoc = result.email_html;
    document.getElementById("preview-web").srcdoc =
      '<!doctype html><html><head><meta charset="utf-8"><link rel="stylesheet" href="' +
      form.dataset.webCss + '"></head><body><main class="page">' + result.web_html + "</main></body></html>";
    document.getElementById("preview-text").textContent = result.text;
    renderPlaceholders(result.placeholders);
    renderProblems(result.problems);
  }

  // ---- placeholders -----------------------------------------------------
  function renderPlaceholders(found) {
    lastPlaceholders = found;
    const list = document.getElementById("placeholder-list");
    list.replaceChildren(...found.map((p) => {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "link";
      button.dataset.line = p.line;
      button.dataset.col = p.col;
      button.dataset.text = p.text;
      button.textContent = "line " + p.line + ": " + p.text;
      item.append(button);
      return item;
    }));
    document.getElementById("placeholder-count").textContent = found.length;
    document.getElementById("placeholder-none").hidden = found.length > 0;
    highlight();
  }

  function renderProblems(problems) {
    const list = document.getElementById("problem-list");
    list.replaceChildren(...problems.map((p) => {
      const item = document.createElement("li");
      item.className = p.level;
      item.textContent = p.level + (p.line ? " line " + p.line : "") + ": " + p.message;
      return item;
    }));
    document.getElementById("problem-none").hidden = problems.length > 0;
  }

  // The backdrop mirrors the textarea's text with <mark>s at the scanner's positions;
  // a mark is drawn only where the text still matches (the scan may be a keystroke old).
  function highlight() {
    const lines = body.value.split("\n");
    const byLine = new Map();
    for (const p of lastPlaceholders) {
      if (!byLine.has(p.line)) byLine.set(p.line, []);
      byLine.get(p.line).push(p);
    }
    const fragment = document.createDocumentFragment();
    lines.forEach((line, index) => {
      let cursor = 0;
      for (const p of (byLine.get(index + 1) || []).sort((a, b) => a.col - b.col)) {
        const start = p.col - 1;
        if (start < cursor || line.substr(start, p.text.length) !== p.text) continue;
        fragment.append(line.slice(cursor, start));
        const mark = document.createElement("mark");
        mark.textContent = p.text;
        fragment.append(mark);
        cursor = start + p.text.length;
      }
      fragment.append(line.slice(cursor) + (index < lines.length - 1 ? "\n" : "\n "));
    });
    highlights.replaceChildren(fragment);
    syncScroll();
  }

  function syncScroll() {
    backdrop.scrollTop = body.scrollTop;
    backdrop.scrollLeft = body.scrollLeft;
  }

  function goToLine(line, col) {
    const lines = body.value.split("\n");
    let offset = 0;
    for (let i = 0; i < Math.min(line - 1, lines.length); i++) offset += lines[i].length + 1;
    offset += Math.max(0, (col || 1) - 1);
    body.focus();
    body.setSelectionRange(offset, offset);
    // Scroll the line into view: approximate by its share of the whole text.
    const lineHeight = parseFloat(getComputedStyle(body).lineHeight) || 20;
    body.scrollTop = Math.max(0, (line - 3) * lineHeight);
    syncScroll();
  }

  document.getElementById("placeholder-list").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-line]");
    if (button) goToLine(parseInt(button.dataset.line, 10), parseInt(button.dataset.col, 10));
  });

  // ---- tabs and mobile width --------------------------------------------
  document.querySelectorAll(".preview-tabs .tab").forEach((tab) => {
    tab.addEventListener("click", () => {
      document.querySelectorAll(".preview-tabs .tab").forEach((t) => {
        t.classList.toggle("active", t === tab);
        t.setAttribute("aria-selected", t === tab ? "true" : "false");
      });
      document.querySelectorAll(".preview-pane").forEach((pane) => {
        pane.hidden = pane.dataset.pane !== tab.dataset.tab;
      });
    });
  });
  document.getElementById("mobile-toggle").addEventListener("change", (event) => {
    document.querySelector(".editor-preview").classList.toggle("mobile", event.target.checked);
  });

  // ---- wiring -----------------------------------------------------------
  body.addEventListener("input", () => { highlight(); changed(); });
  body.addEventListener("scroll", syncScroll);
  form.addEventListener("input", (event) => { if (event.target !== body) changed(); });
  form.addEventListener("change", (event) => {
    if (event.target.name === "lists" || event.target.type === "date") changed();
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    dirty = true;
    save();
  });
  document.addEventListener("keydown", (event) => {
    if ((event.ctrlKey || event.metaKey) && !event.altKey && event.key.toLowerCase() === "s") {
      event.preventDefault();
      dirty = true;
      save();
    }
  });
  // A test send mails the saved version: save pending edits first.
  const testForm = document.getElementById("test-send-form");
  if (testForm) {
    testForm.addEventListener("submit", async (event) => {
      if (!dirty && !saving) return;
      event.preventDefault();
      await save();
      // Only mail the text on screen: a refused save (conflict or bad input) would send an older one.
      if (!conflict && !saveFailed) testForm.submit();
    });
  }
  window.addEventListener("beforeunload", (event) => {
    if (dirty || conflict) {
      event.preventDefault();
      event.returnValue = "";
    }
  });

  // Placeholders rendered by the server, so highlighting works before the first preview.
  lastPlaceholders = Array.from(document.querySelectorAll("#placeholder-list button[data-line]")).map((b) => (
    { line: parseInt(b.dataset.line, 10), col: parseInt(b.dataset.col, 10), text: b.dataset.text }));
  highlight();
  preview();
})();
