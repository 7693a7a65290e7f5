// The console's only script, served from the binary (CSP: no inline script). It only
// enhances: without it every page works, times read in UTC and URLs are selected by hand.
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
});
