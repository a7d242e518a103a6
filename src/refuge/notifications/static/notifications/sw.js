// Refuge's service worker: shows the neutral words a push carries and opens Refuge on a tap.
// The tag is the delivery's id, so a message sent twice shows once.
self.addEventListener("push", function (event) {
  var data = {};
  try { data = event.data ? event.data.json() : {}; } catch (e) { data = {}; }
  event.waitUntil(self.registration.showNotification(data.title || "Refuge", {
    body: data.body || "",
    tag: data.tag || "refuge",
    renotify: false
  }));
});
self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  event.waitUntil(self.clients.openWindow("/"));
});
