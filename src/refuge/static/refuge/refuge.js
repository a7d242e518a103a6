// Small enhancements only; every page works without this file.
document.addEventListener("DOMContentLoaded", function () {
  // Auto-submit selects marked data-autosubmit (e.g. filters) after the user changes them.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (el) {
    el.addEventListener("change", function () { el.form.requestSubmit(); });
  });
  // Screening: "no" to every shown question not answered yet (she was asked them all and
  // said no); the answers stay visible and can be changed before finishing.
  document.querySelectorAll("button[data-rest-no]").forEach(function (btn) {
    btn.hidden = false;
    btn.addEventListener("click", function () {
      btn.form.querySelectorAll("fieldset[data-item]:not([hidden])").forEach(function (fs) {
        var no = fs.querySelector("input[type=radio][value=no]");
        if (no && !fs.querySelector("input[type=radio]:checked")) { no.checked = true; }
      });
      btn.form.dispatchEvent(new Event("change", { bubbles: true }));
    });
  });
  // Copy buttons: data-copy="#id" copies the text of that element.
  document.querySelectorAll("button[data-copy]").forEach(function (btn) {
    btn.addEventListener("click", function () {
      var target = document.querySelector(btn.getAttribute("data-copy"));
      if (target && navigator.clipboard) { navigator.clipboard.writeText(target.textContent.trim()); }
    });
  });
});
// htmx polling marks itself as background, so it does not keep an idle session alive. htmx 2
// runs a poll ("every 30s") with no triggering event at all; an element marked data-background
// (a refresh that a poll asked for) is background whatever triggered it.
document.addEventListener("htmx:configRequest", function (evt) {
  var trigger = evt.detail.triggeringEvent;
  var elt = evt.detail.elt;
  var polled = !trigger && /(^|,)\s*every\s/.test(elt.getAttribute("hx-trigger") || "");
  if (polled || (trigger && trigger.type === "every") || elt.hasAttribute("data-background")) {
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
// Every reason is on the page; on a phone all but the first two are folded into a <details>
// ("n more reasons"), on a wider screen they are shown open.
// Only new ones are set: one a person opened or closed stays as she left it.
function refugeFoldReasons() {
  var wide = window.matchMedia("(min-width: 601px)").matches;
  document.querySelectorAll("details.more-reasons:not([data-folded])").forEach(function (el) {
    el.open = wide;
    el.setAttribute("data-folded", "");
  });
}
document.addEventListener("DOMContentLoaded", refugeFoldReasons);
document.addEventListener("htmx:afterSettle", refugeFoldReasons);
