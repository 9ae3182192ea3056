// The enroll form: the pre-filled procedure time follows the patient's zone. It is "now",
// written in the clinic's zone; when the nurse picks another zone and has not touched the
// time, it is written again as now in that zone (the server reads an untouched time in the
// zone it was written in, so the form is right without this script too).
(function () {
  "use strict";

  function wallTime(zone) {
    var parts = {};
    new Intl.DateTimeFormat("en-CA", {
      timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit"
    }).formatToParts(new Date()).forEach(function (p) { parts[p.type] = p.value; });
    return parts.year + "-" + parts.month + "-" + parts.day + "T" + parts.hour + ":" + parts.minute;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var zone = document.getElementById("timezone");
    var time = document.getElementById("performed_at");
    var shown = document.getElementById("performed_at_default");
    var writtenIn = document.getElementById("performed_at_zone");
    if (!zone || !time || !shown || !writtenIn) return;
    function follow() {
      var name = zone.value.trim().replace(/ /g, "_");
      if (!name || time.value !== shown.value) return;  // the nurse typed a time: keep it
      var now;
      try { now = wallTime(name); } catch (e) { return; }  // not a zone (yet)
      time.value = now;
      shown.value = now;
      writtenIn.value = name;
    }
    zone.addEventListener("change", follow);
    zone.addEventListener("input", follow);
  });
})();
