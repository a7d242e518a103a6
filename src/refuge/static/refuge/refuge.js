// Small enhancements only; every page works without this file.
document.addEventListener("DOMContentLoaded", function () {
  // Auto-submit selects marked data-autosubmit (e.g. filters) after the user changes them.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (el) {
    el.addEventListener("change", function () { el.form.requestSubmit(); });
  });
  // Copy buttons: data-copy="#id" copies the text of that element.
  document.querySelectorAll("button[data-copy]").forEach(function (btn) {
    btn.addEventListener("click", function () {
      var target = document.querySelector(btn.getAttribute("data-copy"));
      if (target && navigator.clipboard) { navigator.clipboard.writeText(target.textContent.trim()); }
    });
  });
});
// htmx polling marks itself as background, so it does not keep an idle session alive.
document.addEventListener("htmx:configRequest", function (evt) {
  if (evt.detail.triggeringEvent && evt.detail.triggeringEvent.type === "every") {
    evt.detail.headers["X-Refuge-Background"] = "1";
  }
});
// Conditional questions: the live score names the items to show (data-visible-items).
document.addEventListener("htmx:afterSwap", function (evt) {
  var marker = evt.detail.target.querySelector("[data-visible-items]");
  if (!marker) { return; }
  var visible = marker.getAttribute("data-visible-items").split(" ");
  document.querySelectorAll("fieldset[data-item]").forEach(function (el) {
    el.hidden = visible.indexOf(el.getAttribute("data-item")) === -1;
  });
});
