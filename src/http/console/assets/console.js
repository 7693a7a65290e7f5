// The console's only script, served from the binary (CSP: no inline script). It only
// enhances: without it every page works, times read (and time filters are typed) in UTC
// and URLs are selected by hand.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  // Times in the viewer's own time zone; the UTC instant stays in the title.
  document.querySelectorAll("time[datetime]").forEach(function (el) {
    var when = new Date(el.getAttribute("datetime"));
    if (!isNaN(when.getTime())) {
      el.title = el.getAttribute("datetime");
      el.textContent = when.toLocaleString();
    }
  });
  // Time filters: shown and typed in the viewer's own time zone, sent as UTC instants.
  var zone = (window.Intl && Intl.DateTimeFormat().resolvedOptions().timeZone) || "local time";
  document.querySelectorAll("[data-tz]").forEach(function (el) { el.textContent = zone; });
  var two = function (n) { return String(n).padStart(2, "0"); };
  document.querySelectorAll("input[type=datetime-local][data-instant]").forEach(function (input) {
    var when = new Date(input.getAttribute("data-instant"));
    if (input.getAttribute("data-instant") && !isNaN(when.getTime())) {
      input.value = when.getFullYear() + "-" + two(when.getMonth() + 1) + "-" + two(when.getDate()) +
        "T" + two(when.getHours()) + ":" + two(when.getMinutes());
    }
  });
  document.querySelectorAll("form[method=get]").forEach(function (form) {
    if (!form.querySelector("input[type=datetime-local]")) { return; }
    form.addEventListener("submit", function (event) {
      var data = new FormData(form);
      form.querySelectorAll("input[type=datetime-local]").forEach(function (input) {
        var when = new Date(input.value);
        if (input.value && !isNaN(when.getTime())) { data.set(input.name, when.toISOString()); }
      });
      var params = new URLSearchParams();
      data.forEach(function (value, name) { if (value !== "") { params.append(name, value); } });
      event.preventDefault();
      var query = params.toString();
      window.location.assign(form.action + (query ? "?" + query : ""));
    });
  });
  // Copy buttons beside read-only fields (webhook URLs, a new secret).
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      field.select();
      var done = function () { button.textContent = "Copied"; };
      if (navigator.clipboard) {
        navigator.clipboard.writeText(field.value).then(done, function () { document.execCommand("copy"); done(); });
      } else { document.execCommand("copy"); done(); }
    });
  });
  // A running backfill's bar, moved by polling its progress; the page is read again
  // once the run ends, so its final counts, state and buttons show.
  document.querySelectorAll("[data-progress]").forEach(function (bar) {
    var run = bar.closest("[data-run]");
    var show = function (data) {
      var bar_value = bar.querySelector("progress");
      if (data.percent === null) {
        bar.removeAttribute("aria-valuenow");
        if (bar_value) { bar_value.removeAttribute("value"); }
      } else {
        bar.setAttribute("aria-valuenow", String(data.percent));
        if (bar_value) { bar_value.value = data.percent; }
      }
      bar.setAttribute("aria-valuetext", (data.stage || "starting") + ": " + data.counts.scanned +
        " scanned, " + data.counts.queued + " queued");
      ["scanned", "queued", "already_queued", "unreadable", "pages"].forEach(function (name) {
        var cell = run.querySelector('[data-field="' + name + '"]');
        if (cell) { cell.textContent = String(data.counts[name]); }
      });
      var stage = run.querySelector('[data-field="stage"]');
      if (stage) { stage.textContent = data.stage || "—"; }
    };
    var poll = function () {
      fetch(bar.getAttribute("data-progress"), { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          if (!data) { return; }
          show(data);
          if (data.state !== "running") { window.location.reload(); return; }
          window.setTimeout(poll, 1500);
        }, function () { window.setTimeout(poll, 3000); });
    };
    window.setTimeout(poll, 1000);
  });
});
