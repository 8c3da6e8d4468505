"use strict";
/* claimscan serve: live progress on a check page, and the reviewer's name remembered.
   Builds elements with textContent only; never innerHTML. */
(function () {
  var live = document.getElementById("live");
  if (live) {
    var url = live.getAttribute("data-status-url");
    var bar = document.getElementById("live-progress");
    var text = document.getElementById("live-text");
    var list = document.getElementById("live-claims");
    var poll = function () {
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (check) {
          if (!check) { setTimeout(poll, 3000); return; }
          if (check.status === "done" || check.status === "failed") {
            window.location.reload();
            return;
          }
          var p = check.progress;
          if (p.claims_total) {
            bar.max = p.claims_total;
            bar.value = p.claims_done;
            text.textContent = p.claims_done + " of " + p.claims_total + " claims checked";
          } else if (check.status === "running") {
            text.textContent = "Reading the source…";
          }
          if (check.preview && list.children.length === 0) {
            check.preview.documents.forEach(function (d) {
              d.claims.forEach(function (claim) {
                var li = document.createElement("li");
                li.textContent = claim;
                list.appendChild(li);
              });
            });
          }
          setTimeout(poll, 1000);
        })
        .catch(function () { setTimeout(poll, 3000); });
    };
    setTimeout(poll, 500);
  }

  var KEY = "claimscan.reviewer";
  var saved = null;
  try { saved = window.localStorage.getItem(KEY); } catch (e) { saved = null; }
  document.querySelectorAll('input[data-remember="reviewer"]').forEach(function (input) {
    if (!input.value && saved) { input.value = saved; }
    input.form.addEventListener("submit", function () {
      try { window.localStorage.setItem(KEY, input.value); } catch (e) { /* private mode */ }
    });
  });
  document.body.setAttribute("data-claimscan-web", "ready");
})();
