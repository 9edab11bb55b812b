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
      // A sample the desk refused (too long, voice service down) must not fail in silence:
      // the refusal page carries the reason in Vietnamese, shown at the foot of the screen.
      var alert = document.createElement("p");
      alert.id = "player-error";
      alert.className = "error";
      alert.setAttribute("role", "alert");
      alert.hidden = true;
      alert.title = "Bấm để ẩn";
      // Fixed at the foot of the screen (desk.css): the ▶ may be far down a long script.
      document.body.appendChild(alert);
      alert.addEventListener("click", function () { alert.hidden = true; });
      var show = function (text) {
        alert.textContent = text;
        alert.hidden = false;
      };
      player.addEventListener("playing", function () { alert.hidden = true; });
      player.addEventListener("error", function () {
        var src = player.currentSrc || player.src;
        if (!src) { return; }
        document.querySelectorAll("a.play.playing").forEach(function (a) { a.classList.remove("playing"); });
        fetch(src, {credentials: "same-origin"}).then(function (resp) {
          return resp.ok ? "" : resp.text();
        }).then(function (html) {
          var said = html && new DOMParser().parseFromString(html, "text/html").querySelector("p.error");
          show(said ? said.textContent : "Không phát được âm thanh của đoạn này: hãy tải lại trang rồi thử lại.");
        }).catch(function () {
          show("Không nghe thử được đoạn này: mất kết nối tới bàn duyệt. Hãy tải lại trang rồi thử lại.");
        });
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
      keepDraft(form, function () { dirty = true; });
    }
  });

  // What is typed in the script boxes is kept in this tab until the script changes, so an edit that
  // outlived the session (or a reload, or a phone browser that dropped the page) comes back into its
  // box on the same version of the script. A newer version is never overwritten: the server's
  // refusal shows the typed text beside it instead.
  function keepDraft(form, markDirty) {
    var store;
    try { store = window.sessionStorage; } catch (e) { return; }
    if (!store) { return; }
    var key = "desk-draft:" + form.getAttribute("action");
    var base = form.querySelector("input[name=base_sha]");
    var boxes = form.querySelectorAll("textarea[name^=block-]");
    var draft = null;
    try { draft = JSON.parse(store.getItem(key) || "null"); } catch (e) { draft = null; }
    var restored = 0;
    if (draft && base && draft.base === base.value) {
      boxes.forEach(function (box) {
        var typed = draft.boxes[box.name];
        if (typeof typed === "string" && typed !== box.value) { box.value = typed; restored += 1; }
      });
    }
    if (restored) {
      markDirty();
      var note = document.createElement("p");
      note.id = "draft-note";
      note.className = "warn";
      note.setAttribute("role", "status");
      note.textContent = "Đã đưa lại vào ô " + restored + " phần bạn gõ trước đó nhưng chưa lưu. " +
        "Hãy đọc lại rồi bấm “Lưu kịch bản”.";
      form.insertAdjacentElement("beforebegin", note);
    } else {
      store.removeItem(key);
    }
    form.addEventListener("input", function () {
      var typed = {};
      boxes.forEach(function (box) { typed[box.name] = box.value; });
      try { store.setItem(key, JSON.stringify({base: base ? base.value : "", boxes: typed})); } catch (e) { /* full */ }
    });
  }
})();
