// The worklist's timers, and the print button of the daily sheet. Every page works without it:
// the server writes the time left too; this keeps it counting without a reload.
(function () {
  "use strict";
  var SOON = 15 * 60;

  function clock(seconds) {
    var h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    var mm = (h && m < 10 ? "0" : "") + m, ss = (s < 10 ? "0" : "") + s;
    return h ? h + ":" + mm + ":" + ss : mm + ":" + ss;
  }

  // The server's clock, not the phone's: data-now is the server's time when it wrote the page.
  function start(el) {
    if (el.dataset.started) { return; }
    el.dataset.started = "1";
    el.dataset.offset = String(Date.parse(el.dataset.now) - Date.now());
  }

  function tick() {
    document.querySelectorAll(".wl-countdown[data-deadline]").forEach(function (el) {
      start(el);
      var now = Date.now() + Number(el.dataset.offset || 0);
      var left = Math.floor((Date.parse(el.dataset.deadline) - now) / 1000);
      var text = left > 0 ? el.dataset.template.replace("{time}", clock(left)) : el.dataset.done;
      if (el.textContent !== text) { el.textContent = text; }
      el.classList.toggle("soon", left <= SOON);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    tick();
    window.setInterval(tick, 1000);
    document.querySelectorAll("button[data-print]").forEach(function (btn) {
      btn.addEventListener("click", function () { window.print(); });
    });
  });
  document.addEventListener("htmx:afterSettle", tick);

  // The counts say when the list on this page is out of date: they are told what it shows.
  document.addEventListener("htmx:configRequest", function (evt) {
    var seen = document.querySelector("#worklist input[name=seen]");
    if (seen && evt.detail.elt.hasAttribute("data-worklist-counts")) {
      evt.detail.parameters.seen = seen.value;
    }
  });

  // Do not replace the list under someone's hand: a refresh waits while she is choosing a
  // reason in it (the next change or the next refresh brings it).
  document.addEventListener("htmx:beforeRequest", function (evt) {
    var list = evt.detail.elt;
    if (list.id === "worklist" && list.contains(document.activeElement) &&
        document.activeElement.matches("select, input, textarea")) {
      evt.preventDefault();
    }
  });
})();
