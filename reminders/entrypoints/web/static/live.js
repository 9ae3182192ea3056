// Keeps the Inbox tab's count and the inbox list fresh, without a build step or inline script
// (the pages' Content-Security-Policy allows only scripts from this server).
(function () {
  "use strict";
  var EVERY_MS = 20000;

  function busy(box) {
    // Never replace the list under a nurse who is typing a note or has a control focused.
    var active = document.activeElement;
    if (active && box.contains(active) && active !== document.body) return true;
    var fields = box.querySelectorAll("input[type=text], textarea");
    for (var i = 0; i < fields.length; i++) if (fields[i].value) return true;
    return false;
  }

  function refreshCount() {
    var badge = document.getElementById("inbox-count");
    if (!badge) return;
    fetch(badge.getAttribute("data-count-url"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data || typeof data.open !== "number") return;
        badge.textContent = String(data.open);
        badge.setAttribute("aria-label", data.open + " open");
        badge.classList.toggle("zero", data.open === 0);
      })
      .catch(function () {});
  }

  function refreshInbox() {
    var box = document.getElementById("inbox-live");
    if (!box || busy(box)) return;
    fetch(box.getAttribute("data-fragment-url"), { credentials: "same-origin" })
      .then(function (r) { return r.ok && !r.redirected ? r.text() : null; })
      .then(function (html) {
        if (html !== null && !busy(box)) box.innerHTML = html;
      })
      .catch(function () {});
  }

  function tick() {
    if (document.hidden) return;
    refreshCount();
    refreshInbox();
  }

  document.addEventListener("DOMContentLoaded", function () {
    // Focus the first field with an error, so a keyboard or screen-reader user lands on it.
    var invalid = document.querySelector("[aria-invalid=true]");
    if (invalid) invalid.focus();
    // Or the answer to the button just pressed, shown where it was ("Send again", "Remove").
    var here = document.querySelector("[data-focus-here]");
    if (!invalid && here) here.focus();
    setInterval(tick, EVERY_MS);
    document.addEventListener("visibilitychange", tick);
  });
})();
