// Small progressive enhancement; every link and form works without it.
(function () {
  "use strict";
  function ready(fn) {
    if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); }
  }
  ready(function () {
    // ▶ beside a paragraph plays its speech in the page instead of opening the WAV.
    var player = document.getElementById("para-player");
    document.querySelectorAll("a.play").forEach(function (link) {
      link.addEventListener("click", function (ev) {
        if (!player) { return; }
        ev.preventDefault();
        document.querySelectorAll("a.play.playing").forEach(function (a) { a.classList.remove("playing"); });
        link.classList.add("playing");
        player.src = link.getAttribute("href");
        player.play().catch(function () { /* autoplay refused: the controls are there */ });
      });
    });
    if (player) {
      player.addEventListener("ended", function () {
        document.querySelectorAll("a.play.playing").forEach(function (a) { a.classList.remove("playing"); });
      });
    }
    // Segment markers seek the bulletin's player.
    var whole = document.getElementById("bulletin-audio");
    document.querySelectorAll("a.marker").forEach(function (link) {
      link.addEventListener("click", function (ev) {
        if (!whole) { return; }
        ev.preventDefault();
        whole.currentTime = parseFloat(link.getAttribute("data-start")) || 0;
        whole.play().catch(function () {});
      });
    });
    // Warn before leaving a page with unsaved script edits.
    var form = document.getElementById("script-form");
    if (form) {
      var dirty = false;
      form.addEventListener("input", function () { dirty = true; });
      form.addEventListener("submit", function () { dirty = false; });
      window.addEventListener("beforeunload", function (ev) {
        if (dirty) { ev.preventDefault(); ev.returnValue = ""; }
      });
    }
  });
})();
