/* The agent desk's live parts (docs/ui.md): the agent's events (the status and offers part reloads through htmx,
   a new offer rings), the chat panes over the desk's chat socket, the wrap-up timer and the keyboard shortcuts.
   Plain JavaScript, no framework; every text from the server or a customer is set as text, never as markup. */
(function () {
  "use strict";
  var desk = document.getElementById("desk");
  if (!desk) return;
  var csrf = desk.dataset.csrf;
  var scheme = location.protocol === "https:" ? "wss://" : "ws://";

  /* --- a socket that authenticates with the page's token and comes back after a loss ------------------------- */
  function socket(path, onFrame, onState) {
    var delay = 500;
    function open() {
      var ws = new WebSocket(scheme + location.host + path);
      ws.onopen = function () {
        ws.send(JSON.stringify({ type: "auth", csrf: csrf }));
      };
      ws.onmessage = function (event) {
        var frame;
        try { frame = JSON.parse(event.data); } catch (e) { return; }
        if (frame.type === "ready") { delay = 500; if (onState) onState(true, ws); }
        onFrame(frame, ws);
      };
      ws.onclose = function (event) {
        if (onState) onState(false, null);
        if (event.code === 4401 || event.code === 4403) return; /* logged out: the next page load goes to login */
        setTimeout(open, delay);
        delay = Math.min(delay * 2, 10000);
      };
    }
    open();
  }

  /* --- offers and status: reload the live part on the agent's events; ring for a new offer --------------------- */
  var ring = document.getElementById("desk-ring");
  var seenOffers = {};
  var rings = 0;
  var refreshTimer = null;

  function refresh() {
    if (refreshTimer) return;
    refreshTimer = setTimeout(function () {
      refreshTimer = null;
      document.body.dispatchEvent(new CustomEvent("desk-refresh"));
    }, 80);
  }

  function checkOffers() {
    var fresh = false;
    var now = {};
    document.querySelectorAll("[data-offer]").forEach(function (el) {
      var id = el.dataset.offer;
      now[id] = true;
      if (!seenOffers[id]) fresh = true;
    });
    seenOffers = now;
    if (fresh) {
      rings += 1;
      desk.dataset.rings = String(rings);
      if (ring) {
        ring.currentTime = 0;
        var played = ring.play();
        if (played && played.catch) played.catch(function () { /* no sound before the user touched the page */ });
      }
    }
  }

  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (event.target && event.target.id === "desk-live") { checkOffers(); tick(); }
  });
  checkOffers();

  socket("/desk/ws/events", function (frame) {
    if (typeof frame.type === "string" && frame.type !== "keepalive" && frame.type !== "ready") refresh();
  });

  /* --- the wrap-up timer ---------------------------------------------------------------------------------------- */
  function tick() {
    document.querySelectorAll("time.timer[data-since]").forEach(function (el) {
      var since = Date.parse(el.dataset.since);
      if (isNaN(since)) return;
      var s = Math.max(0, Math.floor((Date.now() - since) / 1000));
      var text = Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
      if (el.textContent !== text) el.textContent = text;
    });
  }
  tick();
  setInterval(tick, 1000);

  /* --- chat panes ----------------------------------------------------------------------------------------------- */
  var box = document.getElementById("chats");
  var panesEl = box.querySelector(".chat-panes");
  var noneEl = box.querySelector(".chat-none");
  var lostEl = box.querySelector(".chat-lost");
  var L = box.dataset;
  var chats = {}; /* id -> {el, lines, after: {customer, agent}, seen, status} */
  var chatSocket = null;
  var counter = 0;

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function send(frame) {
    if (chatSocket && chatSocket.readyState === 1) { chatSocket.send(JSON.stringify(frame)); return true; }
    return false;
  }

  function showNone() {
    noneEl.hidden = Object.keys(chats).length > 0;
  }

  function pane(view) {
    var chat = chats[view.id];
    if (chat) return chat;
    var section = el("section", "chat-pane");
    section.dataset.chat = String(view.id);
    var hid = "chat-" + view.id + "-h";
    section.setAttribute("aria-labelledby", hid);
    var h = el("h3", "", view.name || L.lCustomer);
    h.id = hid;
    section.appendChild(h);
    if (view.task_id) {
      var link = el("a", "chat-contact", L.lOpen);
      link.href = "/desk?task=" + encodeURIComponent(view.task_id);
      section.appendChild(link);
    }
    var lines = el("ol", "lines");
    lines.setAttribute("aria-live", "polite");
    section.appendChild(lines);
    var typing = el("p", "typing muted", "");
    section.appendChild(typing);
    var form = el("form", "chat-form");
    var inputId = "chat-" + view.id + "-text";
    var label = el("label", "", L.lMessage.replace("{name}", view.name || L.lCustomer));
    label.htmlFor = inputId;
    var input = el("input", "chat-input");
    input.id = inputId;
    input.maxLength = 4000;
    input.autocomplete = "off";
    var sendBtn = el("button", "", L.lSend);
    sendBtn.type = "submit";
    var endBtn = el("button", "secondary chat-end", L.lEnd);
    endBtn.type = "button";
    form.appendChild(label);
    form.appendChild(input);
    var row = el("div", "actions");
    row.appendChild(sendBtn);
    row.appendChild(endBtn);
    form.appendChild(row);
    section.appendChild(form);
    panesEl.appendChild(section);
    chat = { el: section, lines: lines, typing: typing, input: input, after: { customer: 0, agent: 0 },
             seen: {}, status: view.status, typingAt: 0, typingTimer: null };
    chats[view.id] = chat;

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = input.value;
      if (!text.trim() || chat.status === "ended") return;
      counter += 1;
      var clientId = "d" + Date.now().toString(36) + "-" + counter;
      var line = addLine(chat, "agent", text, null);
      line.classList.add("pending");
      line.dataset.client = clientId;
      if (send({ type: "message", chat: view.id, client_id: clientId, text: text })) input.value = "";
    });
    input.addEventListener("input", function () {
      var now = Date.now();
      if (now - chat.typingAt > 2000) { chat.typingAt = now; send({ type: "typing", chat: view.id }); }
    });
    endBtn.addEventListener("click", function () { send({ type: "end", chat: view.id }); });
    showNone();
    return chat;
  }

  function addLine(chat, sender, text, seq) {
    var li = el("li", "line " + sender);
    li.appendChild(el("span", "who", (sender === "agent" ? L.lAgent : L.lCustomer) + ": "));
    li.appendChild(el("span", "text", text));
    if (seq !== null) li.dataset.seq = String(seq);
    chat.lines.appendChild(li);
    chat.lines.scrollTop = chat.lines.scrollHeight;
    return li;
  }

  function ended(chat) {
    chat.status = "ended";
    chat.input.disabled = true;
    chat.el.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
    if (!chat.el.querySelector(".chat-ended")) chat.el.insertBefore(el("p", "chat-ended", L.lEnded), chat.lines.nextSibling);
  }

  function onChat(frame) {
    var chat;
    if (frame.type === "chat") {
      chat = pane(frame.chat);
      send({ type: "open", chat: frame.chat.id, after: chat.after });
      refresh();
      return;
    }
    chat = chats[frame.chat];
    if (!chat) return;
    if (frame.type === "message") {
      var key = frame.sender + ":" + frame.seq;
      if (chat.seen[key]) return;
      chat.seen[key] = true;
      if (frame.seq > chat.after[frame.sender]) chat.after[frame.sender] = frame.seq;
      var pending = frame.client_id ? chat.lines.querySelector('[data-client="' + CSS.escape(frame.client_id) + '"]') : null;
      if (pending) { pending.classList.remove("pending"); pending.dataset.seq = String(frame.seq); return; }
      addLine(chat, frame.sender, frame.text || (frame.file ? frame.file.name : ""), frame.seq);
      if (frame.sender === "customer") chat.typing.textContent = "";
    } else if (frame.type === "ack") {
      var mine = chat.lines.querySelector('[data-client="' + CSS.escape(frame.client_id || "") + '"]');
      if (mine) { mine.classList.remove("pending"); mine.dataset.seq = String(frame.seq); }
      chat.seen["agent:" + frame.seq] = true;
      if (frame.seq > chat.after.agent) chat.after.agent = frame.seq;
    } else if (frame.type === "typing" && frame.sender === "customer") {
      chat.typing.textContent = L.lTyping;
      clearTimeout(chat.typingTimer);
      chat.typingTimer = setTimeout(function () { chat.typing.textContent = ""; }, 4000);
    } else if (frame.type === "state" && frame.state === "ended") {
      ended(chat);
      refresh();
    } else if (frame.type === "error" && frame.code === "chat_ended") {
      ended(chat);
    }
  }

  socket("/desk/ws/chat", onChat, function (up, ws) {
    chatSocket = up ? ws : null;
    lostEl.hidden = up;
  });
  lostEl.hidden = true;
  showNone();

  /* --- keyboard shortcuts (never while typing in a field) --------------------------------------------------------- */
  function typingInField(target) {
    if (!target || !target.tagName) return false;
    var tag = target.tagName.toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
  }

  function press(selector) {
    var button = document.querySelector(selector);
    if (button && !button.disabled) button.click();
  }

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && typingInField(event.target)) { event.target.blur(); return; }
    if (event.ctrlKey || event.metaKey || event.altKey || typingInField(event.target)) return;
    var key = event.key;
    if (key === "a" || key === "A") press(".offer button.accept");
    else if (key === "d" || key === "D") press(".offer button.decline");
    else if (key === "r" || key === "R") press("#go-ready");
    else if (key === "b" || key === "B") press("#go-break");
    else if (key === "/") { event.preventDefault(); var q = document.getElementById("kb-q"); if (q) q.focus(); }
    else if (key === "c" || key === "C") {
      var input = document.querySelector(".chat-pane .chat-input:not([disabled])");
      if (input) { event.preventDefault(); input.focus(); }
    } else if (key === "?") {
      var help = document.getElementById("shortcuts");
      if (help) help.open = !help.open;
    } else return;
  });
})();
