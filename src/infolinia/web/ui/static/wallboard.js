// The wallboard, live: listen to the event stream, fetch the board's parts after each event that changes it (one
// request at a time; events that arrive meanwhile are folded into the next), swap in the parts that changed, and
// count the time in state and the longest waits every second. No inline script: loaded from our server.
(function () {
  "use strict";
  var board = document.getElementById("board");
  var live = document.getElementById("wb-live");
  if (!board) { return; }
  var tenant = Number(board.dataset.tenant);
  var wanted = 0;       // the newest event seen that the board shown does not include yet
  var busy = false;     // a fetch is under way
  var offset = 0;       // server clock - our clock, ms
  var REFRESH_MS = 15000;

  function syncClock(root) {
    var now = Date.parse(root.dataset.now);
    if (!isNaN(now)) { offset = now - Date.now(); }
  }

  function clock(seconds) {
    var s = Math.max(0, Math.floor(seconds));
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    var two = function (n) { return (n < 10 ? "0" : "") + n; };
    return h > 0 ? h + ":" + two(m) + ":" + two(r) : m + ":" + two(r);
  }

  function tick() {
    var now = Date.now() + offset;
    var cells = board.querySelectorAll("[data-since]");
    for (var i = 0; i < cells.length; i++) {
      var since = Date.parse(cells[i].dataset.since);
      if (!isNaN(since)) { cells[i].textContent = clock((now - since) / 1000); }
    }
  }

  function swap(html) {
    var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("board");
    if (!fresh) { return; }
    var parts = fresh.querySelectorAll("[data-part]");
    for (var i = 0; i < parts.length; i++) {
      var name = parts[i].dataset.part;
      var old = board.querySelector('[data-part="' + name + '"]');
      if (old && old.innerHTML !== parts[i].innerHTML) {
        old.replaceWith(document.importNode(parts[i], true));
      }
    }
    board.dataset.seq = fresh.dataset.seq;
    board.dataset.now = fresh.dataset.now;
    syncClock(fresh);
    tick();
  }

  function refresh() {
    if (busy) { return; }
    busy = true;
    var asked = wanted;
    var url = new URL(board.dataset.parts, window.location.href);
    url.searchParams.set("seq", String(asked));
    fetch(url.toString(), { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) {
        if (response.status === 401 || response.redirected) { window.location.reload(); return null; }
        return response.ok ? response.text() : null;
      })
      .then(function (html) { if (html) { swap(html); } })
      .catch(function () { /* the next event or the periodic refresh tries again */ })
      .then(function () {
        busy = false;
        if (wanted > asked) { refresh(); }
      });
  }

  function onEvent(message) {
    var event;
    try { event = JSON.parse(message.data); } catch (e) { return; }
    if (event.tenant_id !== tenant) { return; }  // a platform admin's stream carries every tenant
    wanted = Math.max(wanted, Number(event.seq) || 0);
    refresh();
  }

  function connect() {
    var stream = new EventSource("/api/v1/events");
    var types = (board.dataset.events || "").split(" ");
    for (var i = 0; i < types.length; i++) {
      if (types[i]) { stream.addEventListener(types[i], onEvent); }
    }
    stream.addEventListener("open", function () {
      if (live) { live.textContent = live.dataset.live; live.classList.remove("wb-lost"); }
      wanted = Math.max(wanted, Number(board.dataset.seq) + 1);
      refresh();  // whatever happened while we were not listening
    });
    stream.addEventListener("error", function () {
      if (live) { live.textContent = live.dataset.lost; live.classList.add("wb-lost"); }
    });
    stream.addEventListener("overflow", function () {
      stream.close();
      connect();
    });
  }

  syncClock(board);
  tick();
  window.setInterval(tick, 1000);
  window.setInterval(refresh, REFRESH_MS);
  connect();
})();
