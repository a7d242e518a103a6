// Turn on Web Push for this device: register our service worker, subscribe with the server's
// VAPID public key, and send the subscription to Refuge. No inline script (strict CSP).
(function () {
  "use strict";
  var state = document.getElementById("push-state");
  var button = document.getElementById("push-on");
  if (!state || !button) { return; }
  if (!("serviceWorker" in navigator) || !("PushManager" in window)) { button.hidden = true; return; }

  function csrf() {
    try { return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"]; }
    catch (e) { return ""; }
  }
  function keyBytes(b64) {
    var pad = "=".repeat((4 - (b64.length % 4)) % 4);
    var raw = atob((b64 + pad).replace(/-/g, "+").replace(/_/g, "/"));
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { out[i] = raw.charCodeAt(i); }
    return out;
  }
  button.addEventListener("click", function () {
    Notification.requestPermission().then(function (permission) {
      if (permission !== "granted") { state.textContent = state.dataset.denied; return null; }
      return navigator.serviceWorker.register(state.dataset.worker, { scope: "/notifications/" })
        .then(function () { return navigator.serviceWorker.ready; })
        .then(function (reg) {
          return reg.pushManager.subscribe({
            userVisibleOnly: true, applicationServerKey: keyBytes(state.dataset.vapid)
          });
        })
        .then(function (sub) {
          return fetch(state.dataset.subscribe, {
            method: "POST", credentials: "same-origin",
            headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() },
            body: JSON.stringify(sub.toJSON())
          });
        })
        .then(function (resp) { state.textContent = resp.ok ? state.dataset.on : state.dataset.failed; });
    }).catch(function () { state.textContent = state.dataset.failed; });
  });
})();
