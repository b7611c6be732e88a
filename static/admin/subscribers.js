// Subscriber admin: import and bulk-job progress polling, the list's tick-all box
// (confirmations: admin.js).
// Served from /static because the admin CSP forbids inline script.
(function () {
  "use strict";

  var job = document.getElementById("import-job");
  if (!job) return;
  var finished = function (state) { return state === "done" || state === "failed"; };
  if (finished(job.dataset.state)) return;

  function field(name) { return document.querySelector('[data-field="' + name + '"]'); }

  function render(status) {
    ["state", "rows", "imported", "already", "suppressed", "duplicates", "invalid", "message"].forEach(function (name) {
      var el = field(name);
      if (el) el.textContent = status[name];
    });
    var bar = field("percent");
    if (bar) { bar.value = status.percent; bar.textContent = status.percent + "%"; }
    var body = field("errors");
    if (body && status.errors.length) {
      body.textContent = "";
      status.errors.forEach(function (pair) {
        var tr = document.createElement("tr");
        var row = document.createElement("td");
        var message = document.createElement("td");
        row.textContent = pair[0];
        message.textContent = pair[1];
        tr.appendChild(row);
        tr.appendChild(message);
        body.appendChild(tr);
      });
    }
  }

  function poll() {
    fetch(job.dataset.progressUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (status) {
        render(status);
        if (!finished(status.state)) window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 500);
})();

// The subscriber list: one box ticks every row of the page (it only exists
// with script, so it starts hidden); choosing "All N matches" needs no ticks.
(function () {
  "use strict";
  var all = document.getElementById("select-page");
  var form = document.getElementById("bulk");
  if (!all || !form) return;
  var boxes = form.querySelectorAll('input[name="ids"]');
  all.hidden = boxes.length === 0;
  all.addEventListener("change", function () {
    boxes.forEach(function (box) { box.checked = all.checked; });
    if (all.checked) form.querySelector('input[name="scope"][value="selected"]').checked = true;
  });
  boxes.forEach(function (box) {
    box.addEventListener("change", function () {
      if (box.checked) form.querySelector('input[name="scope"][value="selected"]').checked = true;
    });
  });
})();

// A bulk job's page follows the worker's progress until it is done.
(function () {
  "use strict";
  var job = document.getElementById("bulk-job");
  if (!job) return;
  var over = function (state) { return state === "done" || state === "failed" || state === "cancelled"; };
  if (over(job.dataset.state)) return;
  var number = new Intl.NumberFormat("en-US");
  function field(name) { return job.querySelector('[data-field="' + name + '"]'); }
  function render(status) {
    field("state").textContent = status.state;
    field("done").textContent = number.format(status.done);
    field("total").textContent = number.format(status.total);
    field("summary").textContent = status.summary;
    field("error").textContent = status.error;
    var bar = field("percent");
    bar.value = status.percent;
    bar.textContent = status.percent + "%";
    field("download").hidden = !status.download;
    job.dataset.state = status.state;
  }
  function poll() {
    fetch(job.dataset.progressUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (status) {
        render(status);
        if (!over(status.state)) window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 500);
})();

// The match count of a segment-filtered list, fetched after the rows are shown
// (counting up to 100,000 matches is the slow part of such a page at a million rows).
(function () {
  "use strict";
  var total = document.getElementById("total");
  if (!total || !total.dataset.countUrl) return;
  var number = new Intl.NumberFormat("en-US");
  fetch(total.dataset.countUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
    .then(function (response) { if (!response.ok) throw new Error(response.status); return response.json(); })
    .then(function (found) {
      var text = (found.exact ? "" : "about ") + number.format(found.value);
      document.getElementById("total-count").textContent = text;
      document.getElementById("total-note").hidden = found.exact;
      var all = document.getElementById("all-count");
      if (all) all.textContent = text;
      total.dataset.count = found.value;
    })
    .catch(function () { document.getElementById("total-count").textContent = "(could not count)"; });
})();
