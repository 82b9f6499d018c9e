// The campaign form's live SMS count: as the text is typed, ask Accord how many segments it
// takes as sent (rendered for a sample person, with what the channel adds) and show it. The
// page works without it: the count is shown once the campaign is saved.
(function () {
  "use strict";
  var out = document.getElementById("sms-count");
  if (!out || !window.fetch) { return; }
  var form = out.closest("form");
  var text = form.querySelector("[name=text]");
  var channel = form.querySelector("select[name=channel]");
  var topic = form.querySelector("select[name=topic_id]");
  var token = form.querySelector("[name=csrf_token]");
  var timer = null;
  var asked = 0;

  function isSms() {
    return channel ? channel.value === "sms" : out.getAttribute("data-channel") === "sms";
  }

  function update() {
    if (!isSms()) { out.hidden = true; return; }
    out.hidden = false;
    var body = new URLSearchParams();
    body.set("text", text.value);
    body.set("topic_id", topic ? topic.value : (out.getAttribute("data-topic") || ""));
    var mine = ++asked;
    fetch(out.getAttribute("data-url"), {
      method: "POST",
      headers: { "X-CSRF-Token": token ? token.value : "" },
      body: body,
      credentials: "same-origin"
    }).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (data) {
      if (data && mine === asked) {
        out.textContent = data.summary;
        out.classList.toggle("error", data.too_long);
      }
    }).catch(function () { /* the count is a help, not a must */ });
  }

  function soon() {
    window.clearTimeout(timer);
    timer = window.setTimeout(update, 250);
  }

  text.addEventListener("input", soon);
  if (channel) { channel.addEventListener("change", update); }
  if (topic) { topic.addEventListener("change", update); }
  update();
}());
