// Keeps the Inbox tab's count and the inbox list fresh, without a build step or inline script
// (the pages' Content-Security-Policy allows only scripts from this server).
(function () {
  "use strict";
  var EVERY_MS = 20000;
  // The page's own refreshes say so: the server does not count them as the person's
  // activity, so idle logoff still comes on a page left open (staff_session.py).
  var BACKGROUND = { "X-Background-Refresh": "1" };
  var WARN_S = 180; // the "you will be signed out" notice shows this long before

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
    fetch(badge.getAttribute("data-count-url"), { credentials: "same-origin", headers: { Accept: "application/json", "X-Background-Refresh": "1" } })
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
    fetch(box.getAttribute("data-fragment-url"), { credentials: "same-origin", headers: BACKGROUND })
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

  function idleNotice() {
    var idle = parseInt(document.body.getAttribute("data-idle-seconds") || "0", 10);
    var notice = document.getElementById("idle-notice");
    if (!idle || !notice) return;
    var since = Date.now();
    var text = notice.querySelector("span");
    notice.querySelector("button").addEventListener("click", function () {
      // An ordinary request (no background header): it counts as activity.
      fetch("/staff/inbox/count", { credentials: "same-origin" }).then(function (r) {
        if (r.ok && !r.redirected) { since = Date.now(); notice.hidden = true; }
      });
    });
    setInterval(function () {
      var left = idle - (Date.now() - since) / 1000;
      if (left <= 0) { window.location.href = "/staff/login"; return; }
      if (left <= WARN_S) {
        text.textContent = "You will be signed out in about " + Math.max(1, Math.round(left / 60)) +
          " minute(s) because the page has not been used. Unsaved typing will be lost.";
        notice.hidden = false;
      }
    }, 5000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    idleNotice();
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
