/* Quick exit for the public help pages (the only script they load).
 * The exit link works without this file; with it, Esc and the link replace the page
 * (location.replace), and links between help pages replace it too, so the whole visit
 * is one entry in the tab's history and Back cannot return to it. */
(function () {
  "use strict";
  var exit = document.getElementById("quick-exit");
  if (!exit) return;
  var target = exit.href;

  function leave(event) {
    if (event) event.preventDefault();
    document.documentElement.className += " leaving";
    window.location.replace(target);
  }

  exit.addEventListener("click", leave);
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" || event.key === "Esc") leave(event);
  });

  document.addEventListener("click", function (event) {
    if (event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    var link = event.target.closest ? event.target.closest("a[href]") : null;
    if (!link || link === exit || link.target || link.hasAttribute("download")) return;
    if (link.origin !== window.location.origin) return;
    if (link.pathname.indexOf("/help/") !== 0) return;
    if (link.hash && link.pathname === window.location.pathname) return;
    event.preventDefault();
    window.location.replace(link.href);
  });

  var buttons = document.querySelectorAll("[data-print]");
  for (var i = 0; i < buttons.length; i++) {
    buttons[i].hidden = false;
    buttons[i].addEventListener("click", function () { window.print(); });
  }
})();
