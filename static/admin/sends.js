// Send page: poll the status endpoint and update counts, rate, ETA and errors.
(function () {
  "use strict";
  var live = document.getElementById("send-live");
  if (!live) { return; }
  var url = live.getAttribute("data-status-url");
  var FINAL = { finished: true, cancelled: true };

  function text(id, value) {
    var node = document.getElementById(id);
    if (node) { node.textContent = value; }
  }

  // The controls follow the live state: a send that finishes while the page is
  // open loses pause and cancel and gains its report link, without a reload; the
  // confirmation questions carry the current number of recipients not yet sent.
  function controls(info) {
    var report = document.getElementById("send-report");
    if (report) { report.hidden = !info.started; }
    var over = document.getElementById("send-over");
    if (over) {
      over.hidden = !FINAL[info.status];
      var label = over.querySelector(".send-over-status");
      if (label) { label.textContent = info.status; }
    }
    document.querySelectorAll("#send-control [data-show-when]").forEach(function (form) {
      var states = form.getAttribute("data-show-when").split(" ");
      form.hidden = states[0] === "unknown" ? !info.counts.unknown : states.indexOf(info.status) < 0;
      var question = form.getAttribute("data-confirm-template");
      if (question && info.not_sent !== null) {
        form.setAttribute("data-confirm", question.replace("{n}", info.not_sent.toLocaleString("en-US")));
      }
    });
  }

  function render(info) {
    Object.keys(info.counts).forEach(function (state) {
      var cell = live.querySelector('td[data-state="' + state + '"]');
      if (cell) { cell.textContent = String(info.counts[state]); }
    });
    var status = document.getElementById("send-status");
    if (status) {
      status.textContent = info.status;
      status.className = "badge send-" + info.status;
    }
    text("send-pause-reason", info.status === "paused" ? info.pause_reason : "");
    controls(info);
    text("send-rate", info.rate === null ? "\u2014" : info.rate + "/s");
    text("send-eta", info.eta_seconds === null ? "\u2014" : info.eta_seconds + " s");
    var body = live.querySelector("#send-errors tbody");
    if (body) {
      body.textContent = "";
      if (!info.errors.length) {
        var empty = body.insertRow();
        var cell = empty.insertCell();
        cell.colSpan = 3; cell.className = "muted"; cell.textContent = "None.";
      }
      info.errors.forEach(function (e) {
        var row = body.insertRow();
        [e.state, e.reason, String(e.count)].forEach(function (v) { row.insertCell().textContent = v; });
      });
    }
    return info.status;
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (info) {
        var status = render(info);
        window.setTimeout(poll, FINAL[status] ? 15000 : 2000);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 2000);
})();
