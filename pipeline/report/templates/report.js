"use strict";
/* claimscan report: link claims to cards on hover/focus, filter by label.
   Touches only classes and attributes; never innerHTML. */
(function () {
  var body = document.body;
  function pair(el) {
    var id = el.getAttribute(el.classList.contains("claim") ? "data-card" : "data-claim");
    return id ? document.getElementById(id) : null;
  }
  function activate(el, on) {
    var other = pair(el);
    el.classList.toggle("is-active", on);
    if (other) { other.classList.toggle("is-active", on); }
    if (on && other && other.classList.contains("card")) {
      var pane = other.parentElement;
      // Scroll only the cards pane (when it scrolls on its own), never the page.
      if (pane && pane.scrollHeight > pane.clientHeight + 1) {
        pane.scrollTo({ top: other.offsetTop - 12, behavior: "smooth" });
      }
    }
  }
  document.querySelectorAll(".claim, .card").forEach(function (el) {
    el.addEventListener("mouseenter", function () { activate(el, true); });
    el.addEventListener("mouseleave", function () { activate(el, false); });
    el.addEventListener("focusin", function () { activate(el, true); });
    el.addEventListener("focusout", function () { activate(el, false); });
  });
  document.querySelectorAll(".filter").forEach(function (group) {
    var doc = group.closest(".doc");
    group.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-show]");
      if (!button || !doc) { return; }
      var show = button.getAttribute("data-show");
      doc.setAttribute("data-filter", show);
      doc.querySelectorAll(".card, .claim").forEach(function (el) {
        el.classList.toggle("is-filtered-out", show !== "all" && el.getAttribute("data-label") !== show);
      });
      group.querySelectorAll("button").forEach(function (b) {
        b.setAttribute("aria-pressed", String(b === button));
      });
      var visible = show === "all" ? 1 : doc.querySelectorAll('.card[data-label="' + show + '"]').length;
      doc.classList.toggle("is-filter-empty", visible === 0);
    });
  });
  body.setAttribute("data-claimscan-js", "ready");
})();
