// Subscriber admin: import progress polling (confirmations: admin.js).
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
