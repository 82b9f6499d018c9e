// Accord's push service worker: shows each push message as a notification and opens its link.
"use strict";

self.addEventListener("push", (event) => {
  let message = { title: "Accord", body: "" };
  try {
    message = event.data ? event.data.json() : message;
  } catch (error) {
    message = { title: "Accord", body: event.data ? event.data.text() : "" };
  }
  const shown = self.registration.showNotification(message.title || "Accord", {
    body: message.body || "",
    tag: message.tag || undefined,
    data: { url: message.url || "/inbox" },
  });
  const told = self.clients
    .matchAll({ type: "window", includeUncontrolled: true })
    .then((windows) => windows.forEach((w) => w.postMessage({ kind: "accord-push", message })));
  event.waitUntil(Promise.all([shown, told]));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const target = new URL(event.notification.data.url || "/inbox", self.location.origin);
  if (target.protocol === "https:" || target.protocol === "http:") {
    event.waitUntil(self.clients.openWindow(target.href));
  }
});
