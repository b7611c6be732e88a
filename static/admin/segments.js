// The segment editor: the builder appends a condition written in the same
// language as the text box (the text stays the one source of truth), and the
// preview shows the live count and ten matches, or the problem and its column.
// The list of segments: each row's count now, fetched one after another.
(async () => {
  for (const cell of document.querySelectorAll("td[data-count-url]")) {
    const response = await fetch(cell.dataset.countUrl, { credentials: "same-origin", headers: { Accept: "application/json" } });
    const data = await response.json().catch(() => ({}));
    cell.textContent = response.ok ? data.count.toLocaleString() : data.error || "?";
  }
})();

(() => {
  const form = document.getElementById("segment-form");
  if (!form) return;
  const $ = (id) => document.getElementById(id);
  const text = $("expression");
  const field = $("builder-field");
  const op = $("builder-op");
  const value = $("builder-value");
  const hint = $("builder-hint");
  const csrf = document.querySelector('meta[name="csrf-token"]').content;

  const OPS = {
    text: ["=", "!=", "contains", "in", "<", ">", "is set", "is not set"],
    domain: ["=", "!=", "contains", "in", "is set", "is not set"],
    source: ["=", "!=", "in", "is set", "is not set"],
    number: ["=", "!=", "<", ">", "<=", ">=", "in", "is set", "is not set"],
    date: ["=", "<", ">", "<=", ">=", "!=", "is set", "is not set"],
    boolean: ["= true", "= false", "is set", "is not set"],
    list: ["contains", "is set", "is not set"],
    sends: ["N ="],
    days: ["N ="],
  };
  const HINTS = {
    text: 'Text, exactly (case matters). For "in", separate values with commas.',
    domain: "The part after @, e.g. example.org.",
    source: "A subscription source (signup, admin, import:…) or a list slug.",
    number: "A number such as 42 or 3.5. For \"in\", separate with commas.",
    date: "A date as YYYY-MM-DD.",
    boolean: "",
    list: "One item of the list, e.g. beta.",
    sends: "How many of the latest finished sends to these lists (1 to 100).",
    days: "How many days back (1 to 3650).",
  };
  const kind = () => field.selectedOptions[0].dataset.type;

  function fillOps() {
    op.replaceChildren(...OPS[kind()].map((o) => new Option(o, o)));
    updateValue();
  }
  function updateValue() {
    const needsValue = !["is set", "is not set", "= true", "= false"].includes(op.value);
    value.disabled = !needsValue;
    $("builder-value-label").hidden = !needsValue;
    value.type = kind() === "date" ? "date" : ["number", "sends", "days"].includes(kind()) ? "number" : "text";
    hint.textContent = HINTS[kind()] || "";
  }
  const quote = (s) => JSON.stringify(s);
  function literal(raw) {
    const k = kind();
    if (k === "number") return raw.trim();
    if (k === "date") return `date(${quote(raw.trim())})`;
    return quote(raw);
  }
  function condition() {
    const name = field.value;
    const k = kind();
    if (k === "sends" || k === "days") return `${name}(${parseInt(value.value, 10) || 1})`;
    if (op.value === "is set" || op.value === "is not set") return `${name} ${op.value}`;
    if (k === "boolean") return `${name} ${op.value}`;
    if (op.value === "in") {
      const items = value.value.split(",").map((s) => s.trim()).filter(Boolean);
      return `${name} in [${items.map(literal).join(", ")}]`;
    }
    return `${name} ${op.value} ${literal(value.value)}`;
  }
  function add() {
    let piece = condition();
    if ($("builder-not").checked) piece = `not ${piece}`;
    const current = text.value.trim();
    const join = $("builder-join").value;
    // Parenthesise what is there when the new piece joins with a weaker operator.
    const wrapped = current && join === "and" && /\bor\b/i.test(current) ? `(${current})` : current;
    text.value = current ? `${wrapped} ${join} ${piece}` : piece;
    text.dispatchEvent(new Event("input"));
    text.focus();
  }

  let timer = null;
  let seq = 0;
  async function preview() {
    const mine = ++seq;
    const lists = [...form.querySelectorAll('input[name="list"]:checked')].map((box) => box.value);
    const problem = $("expression-problem");
    if (!lists.length) {
      problem.textContent = "Choose at least one list.";
      return;
    }
    const response = await fetch(form.dataset.preview, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, Accept: "application/json" },
      body: JSON.stringify({ lists, expression: text.value }),
    });
    if (mine !== seq) return; // a newer keystroke's answer wins
    const data = await response.json().catch(() => ({ error: `The preview failed (${response.status}).` }));
    if (!response.ok) {
      problem.textContent = data.column
        ? `${data.error} (column ${data.column})\n${caret(text.value, data.column)}`
        : data.error;
      text.setAttribute("aria-invalid", "true");
      return;
    }
    problem.textContent = "";
    text.removeAttribute("aria-invalid");
    $("preview-count").textContent = data.count.toLocaleString();
    $("preview-unit").textContent = data.count === 1 ? "reader" : "readers";
    $("preview-sample").replaceChildren(...data.sample.map((email) => Object.assign(document.createElement("li"), { textContent: email })));
    $("preview-canonical").textContent = data.canonical ? `Saved as: ${data.canonical}` : "";
  }
  // The line of the expression holding the column, with a ^ under it.
  function caret(source, column) {
    const before = source.slice(0, column - 1);
    const start = before.lastIndexOf("\n") + 1;
    const end = source.indexOf("\n", start);
    const line = source.slice(start, end === -1 ? undefined : end);
    return `${line}\n${" ".repeat(Math.max(0, column - 1 - start))}^`;
  }
  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(preview, 250);
  };

  field.addEventListener("change", fillOps);
  op.addEventListener("change", updateValue);
  $("builder-add").addEventListener("click", add);
  text.addEventListener("input", schedule);
  form.addEventListener("change", (event) => event.target.name === "list" && schedule());
  fillOps();
  if (text.value.trim()) preview();
})();
