// The portal's "push on this browser" button: register the service worker, ask permission,
// subscribe with the instance's VAPID key and store the subscription (a push contact point).
"use strict";

(function () {
  const root = document.getElementById("push-setup");
  if (!root) return;
  const button = document.getElementById("push-subscribe");
  const status = document.getElementById("push-status");
  const say = (text) => { status.textContent = text; };
  if (!("serviceWorker" in navigator) || !("PushManager" in window)) {
    say("This browser cannot receive push notifications.");
    return;
  }
  button.hidden = false;

  function keyBytes(base64url) {
    const padded = (base64url + "===".slice((base64url.length + 3) % 4))
      .replace(/-/g, "+").replace(/_/g, "/");
    return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  }

  // The worker's scope (/push/) is not this page's, so `serviceWorker.ready` would never
  // resolve here: wait for this registration's worker to become active instead.
  function activated(registration) {
    if (registration.active) return Promise.resolve(registration);
    const worker = registration.installing || registration.waiting;
    return new Promise((resolve) => {
      worker.addEventListener("statechange", () => {
        if (worker.state === "activated") resolve(registration);
      });
    });
  }

  async function subscribe() {
    button.disabled = true;
    say("Asking this browser…");
    try {
      const permission = await Notification.requestPermission();
      if (permission !== "granted") {
        say("Notifications are blocked for this site in this browser's settings.");
        return;
      }
      const registration = await activated(
        await navigator.serviceWorker.register(root.dataset.worker, { scope: root.dataset.scope })
      );
      const subscription = await registration.pushManager.subscribe({
        userVisibleOnly: true,
        applicationServerKey: keyBytes(root.dataset.publicKey),
      });
      const response = await fetch("/api/v1/me/push-subscriptions", {
        method: "POST",
        headers: { "content-type": "application/json", "x-csrf-token": root.dataset.csrf },
        body: JSON.stringify(subscription.toJSON()),
        credentials: "same-origin",
      });
      if (!response.ok) {
        const problem = await response.json().catch(() => ({}));
        say(problem.detail || "Accord could not store this browser's subscription.");
        return;
      }
      say("Push notifications are on for this browser.");
      window.location.reload();
    } catch (error) {
      say("This browser could not subscribe: " + error.message);
    } finally {
      button.disabled = false;
    }
  }

  button.addEventListener("click", subscribe);
})();
