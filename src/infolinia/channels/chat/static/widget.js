/* infolinia chat widget. Embed with:
 *   <script src="https://HOST/chat/widget.js" data-key="WIDGET_KEY" async></script>
 * Plain JavaScript, no dependencies, nothing loaded from anywhere but HOST. It renders in a shadow root, and every
 * text that comes from a person (customer or agent) is inserted with textContent, never as HTML.
 * Protocol: docs/chat.md (and src/infolinia/channels/chat/protocol.py). */
(function () {
  "use strict";
  var script = document.currentScript || document.querySelector('script[data-key][src*="/chat/widget.js"]');
  if (!script || !script.getAttribute("data-key")) return;
  var KEY = script.getAttribute("data-key");
  var BASE = new URL(script.src, location.href).origin;
  var API = BASE + "/chat/api/" + encodeURIComponent(KEY);
  var WS = BASE.replace(/^http/, "ws") + "/chat/ws/" + encodeURIComponent(KEY);
  var STORE = "infolinia-chat:" + KEY;

  var state = load() || null; // {chat, token, after: {customer, agent}, pending: [{client_id, text}], ended}
  var config = null;
  var socket = null;
  var retry = 0;
  var typingSent = 0;
  var typingTimer = null;
  var shown = {}; // "sender:seq" of lines on screen
  var firstHello = true;

  function load() {
    try { return JSON.parse(sessionStorage.getItem(STORE) || "null"); } catch (e) { return null; }
  }
  function save() {
    try { sessionStorage.setItem(STORE, JSON.stringify(state)); } catch (e) { /* private mode: memory only */ }
  }
  function newId() {
    var bytes = new Uint8Array(12);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  // --- the elements (no HTML strings: every node made and filled here) -------------------------------------------
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (name === "text") node.textContent = attrs[name];
      else if (name === "on") Object.keys(attrs.on).forEach(function (ev) { node.addEventListener(ev, attrs.on[ev]); });
      else node.setAttribute(name, attrs[name]);
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }

  var host = el("div", { "data-infolinia-chat": "" });
  var root = host.attachShadow({ mode: "open" });
  var style = document.createElement("style");
  style.textContent = [
    ":host { all: initial; }",
    ".launcher { position: fixed; right: 1rem; bottom: 1rem; z-index: 2147483000; padding: .7rem 1.1rem;",
    "  border: 0; border-radius: 1.5rem; background: #1f5eff; color: #fff; font: 600 15px system-ui, sans-serif;",
    "  cursor: pointer; box-shadow: 0 2px 8px rgba(0,0,0,.25); }",
    ".panel { position: fixed; right: 1rem; bottom: 4.5rem; z-index: 2147483000; width: 22rem; max-width: 92vw;",
    "  height: 32rem; max-height: 80vh; display: flex; flex-direction: column; background: #fff; color: #111;",
    "  border-radius: .6rem; box-shadow: 0 4px 20px rgba(0,0,0,.3); font: 14px/1.4 system-ui, sans-serif; }",
    ".panel[hidden] { display: none; }",
    "header { padding: .6rem .8rem; background: #1f5eff; color: #fff; border-radius: .6rem .6rem 0 0;",
    "  display: flex; justify-content: space-between; align-items: center; font-weight: 600; }",
    "header button { background: none; border: 0; color: #fff; font-size: 18px; cursor: pointer; }",
    ".body { flex: 1; overflow: auto; padding: .6rem .8rem; }",
    "label { display: block; margin-top: .5rem; font-weight: 600; }",
    "input, select, textarea { width: 100%; box-sizing: border-box; padding: .35rem; font: inherit; }",
    "button.primary { margin-top: .7rem; padding: .45rem .9rem; font: inherit; background: #1f5eff; color: #fff;",
    "  border: 0; border-radius: .3rem; cursor: pointer; }",
    ".status { font-size: 13px; color: #444; padding: .3rem .8rem; border-bottom: 1px solid #eee; }",
    ".lines { display: flex; flex-direction: column; gap: .35rem; }",
    ".line { max-width: 85%; padding: .35rem .55rem; border-radius: .5rem; white-space: pre-wrap;",
    "  overflow-wrap: anywhere; }",
    ".line.customer { align-self: flex-end; background: #dbe6ff; }",
    ".line.agent { align-self: flex-start; background: #f0f0f0; }",
    ".line.pending { opacity: .6; }",
    ".typing { font-size: 12px; color: #666; min-height: 1.1em; padding: 0 .8rem; }",
    ".compose { display: flex; gap: .3rem; padding: .5rem .8rem; border-top: 1px solid #eee; }",
    ".compose textarea { flex: 1; height: 2.4rem; resize: none; }",
    ".tools { display: flex; gap: .6rem; padding: 0 .8rem .5rem; font-size: 12px; }",
    ".tools button, .file { background: none; border: 0; color: #1f5eff; cursor: pointer; padding: 0; font: inherit;",
    "  text-decoration: underline; }",
    ".error { color: #a00; font-weight: 600; }",
    ".note { color: #333; }",
  ].join("\n");
  root.appendChild(style);

  var launcher = el("button", { class: "launcher", type: "button", "aria-label": "Chat with us", text: "Chat" });
  var title = el("span", { text: "Chat" });
  var closeButton = el("button", { type: "button", "aria-label": "Close", text: "×" });
  var body = el("div", { class: "body" });
  var panel = el("div", { class: "panel", role: "dialog", "aria-label": "Chat", hidden: "" }, [
    el("header", {}, [title, closeButton]), body,
  ]);
  root.appendChild(launcher);
  root.appendChild(panel);
  launcher.addEventListener("click", function () { toggle(true); });
  closeButton.addEventListener("click", function () { toggle(false); });
  (document.body || document.documentElement).appendChild(host);

  function toggle(open) {
    if (open) panel.removeAttribute("hidden"); else panel.setAttribute("hidden", "");
    if (open && !config) start();
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  function request(method, path, payload, headers) {
    var init = { method: method, headers: headers || {}, credentials: "omit", mode: "cors" };
    if (payload instanceof Blob) init.body = payload;
    else if (payload !== undefined) {
      init.body = JSON.stringify(payload);
      init.headers["Content-Type"] = "application/json";
    }
    return fetch(API + path, init).then(function (r) {
      if (r.status === 204) return {};
      return r.json().then(function (data) {
        if (!r.ok) {
          var error = new Error((data.error && data.error.message) || "request refused");
          error.code = data.error && data.error.code;
          error.details = data.error && data.error.details;
          throw error;
        }
        return data;
      });
    });
  }

  function start() {
    body.textContent = "…";
    request("GET", "/config").then(function (data) {
      config = data;
      title.textContent = data.name;
      if (state && state.chat && !state.ended) chatView(); else preChat(null);
    }).catch(function (error) { body.textContent = error.message; });
  }

  // --- the pre-chat form, and leaving a message / asking for a callback ------------------------------------------
  function field(label, input) { return [el("label", { text: label, for: input.id }), input]; }

  function preChat(error) {
    clear(body);
    var name = el("input", { id: "ic-name", autocomplete: "name", maxlength: "200" });
    var email = el("input", { id: "ic-email", type: "email", autocomplete: "email", maxlength: "254" });
    var phone = el("input", { id: "ic-phone", type: "tel", autocomplete: "tel", maxlength: "40" });
    var topic = el("select", { id: "ic-topic" });
    config.topics.forEach(function (t) { topic.appendChild(el("option", { value: t.id, text: t.label })); });
    var go = el("button", { class: "primary", type: "submit", text: "Start chat" });
    var form = el("form", {}, [].concat(
      error ? [el("p", { class: "error", role: "alert", text: error })] : [],
      field("Name", name), field("E-mail", email), field("Phone (or e-mail)", phone), field("Topic", topic), [go]
    ));
    function availability() {
      var chosen = config.topics.filter(function (t) { return t.id === topic.value; })[0];
      return chosen ? chosen.availability : "no_queue";
    }
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var who = { name: name.value, email: email.value, phone: phone.value, topic: topic.value };
      if (availability() !== "open") { unavailable(who, availability()); return; }
      go.disabled = true;
      request("POST", "/start", who).then(function (data) {
        state = { chat: data.chat, token: data.token, after: { customer: 0, agent: 0 }, pending: [], ended: false,
                  email: who.email };
        save();
        chatView();
      }).catch(function (error) {
        go.disabled = false;
        if (error.code === "chat_unavailable") unavailable(who, error.details && error.details.reason);
        else preChat(error.message);
      });
    });
    body.appendChild(form);
  }

  function unavailable(who, reason) {
    clear(body);
    body.appendChild(el("p", { class: "note", text: reason === "closed"
      ? "We are closed now. Leave us a message, or ask us to call you back."
      : "Nobody can chat right now. Leave us a message, or ask us to call you back." }));
    var message = el("textarea", { id: "ic-message", maxlength: "5000", rows: "5" });
    var send = el("button", { class: "primary", type: "submit", text: "Send message" });
    var leave = el("form", { "data-form": "message" }, [].concat(field("Your message", message), [send]));
    leave.addEventListener("submit", function (ev) {
      ev.preventDefault();
      request("POST", "/message", Object.assign({ message: message.value }, who)).then(function (data) {
        done("Thank you, we will answer soon. Your case number is " + data.case_number + ".");
      }).catch(function (error) { note(leave, error.message); });
    });
    var number = el("input", { id: "ic-callback-phone", type: "tel", value: who.phone || "", maxlength: "40" });
    var ask = el("button", { class: "primary", type: "submit", text: "Call me back" });
    var callback = el("form", { "data-form": "callback" }, [].concat(field("Phone number", number), [ask]));
    callback.addEventListener("submit", function (ev) {
      ev.preventDefault();
      request("POST", "/callback", { phone: number.value, name: who.name, topic: who.topic, reason: "asked in chat" })
        .then(function () { done("Thank you, we will call you back."); })
        .catch(function (error) { note(callback, error.message); });
    });
    body.appendChild(leave);
    body.appendChild(callback);
  }

  function note(form, text) {
    var old = form.querySelector(".error");
    if (old) old.remove();
    form.insertBefore(el("p", { class: "error", role: "alert", text: text }), form.firstChild);
  }

  function done(text) {
    clear(body);
    body.appendChild(el("p", { role: "status", text: text }));
  }

  // --- the chat --------------------------------------------------------------------------------------------------
  var status, lines, typing, input;

  function chatView() {
    clear(body);
    shown = {};
    status = el("div", { class: "status", role: "status", text: "Connecting…" });
    lines = el("div", { class: "lines", "aria-live": "polite" });
    typing = el("div", { class: "typing" });
    input = el("textarea", { "aria-label": "Your message", maxlength: "4000", placeholder: "Write a message…" });
    var send = el("button", { class: "primary", type: "button", text: "Send" });
    var file = el("input", { type: "file", "aria-label": "Send a file", style: "display:none" });
    var attach = el("button", { type: "button", text: "Send a file" });
    var transcript = el("button", { type: "button", text: "E-mail me the transcript" });
    var end = el("button", { type: "button", text: "End chat" });
    clear(panel);
    panel.appendChild(el("header", {}, [title, closeButton]));
    panel.appendChild(status);
    body.appendChild(lines);
    panel.appendChild(body);
    panel.appendChild(typing);
    panel.appendChild(el("div", { class: "compose" }, [input, send]));
    panel.appendChild(el("div", { class: "tools" }, [attach, file, transcript, end]));
    send.addEventListener("click", submit);
    input.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); submit(); }
    });
    input.addEventListener("input", function () {
      var now = Date.now();
      if (now - typingSent > 2000) { typingSent = now; frame({ type: "typing" }); }
    });
    attach.addEventListener("click", function () { file.click(); });
    file.addEventListener("change", function () { if (file.files[0]) upload(file.files[0]); file.value = ""; });
    transcript.addEventListener("click", function () {
      var to = window.prompt("Send the transcript to which e-mail address?", state.email || "");
      if (!to) return;
      request("POST", "/chats/" + state.chat + "/transcript", { email: to }, { "X-Chat-Token": state.token })
        .then(function () { system("The transcript is on its way to " + to + "."); })
        .catch(function (error) { system(error.message); });
    });
    end.addEventListener("click", function () { frame({ type: "end" }); });
    state.pending.forEach(function (line) { render("customer", null, line.text, line.client_id, null); });
    connect();
  }

  function submit() {
    var text = input.value.trim();
    if (!text || state.ended) return;
    input.value = "";
    var line = { client_id: newId(), text: text };
    state.pending.push(line);
    save();
    render("customer", null, text, line.client_id, null);
    frame({ type: "message", client_id: line.client_id, text: text });
  }

  function frame(data) {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(data));
  }

  function connect() {
    socket = new WebSocket(WS);
    socket.addEventListener("open", function () {
      retry = 0;
      // the page's first connection asks for the whole chat (a reload shows it again); later ones resume
      var after = firstHello ? { customer: 0, agent: 0 } : state.after;
      firstHello = false;
      socket.send(JSON.stringify({ type: "hello", chat: state.chat, token: state.token, after: after }));
    });
    socket.addEventListener("message", function (ev) {
      var data;
      try { data = JSON.parse(ev.data); } catch (e) { return; }
      handle(data);
    });
    socket.addEventListener("close", function (ev) {
      socket = null;
      if (state.ended) return;
      if (ev.code === 4401 || ev.code === 4404 || ev.code === 4403) {
        status.textContent = "This chat is no longer available.";
        state.ended = true;
        save();
        return;
      }
      status.textContent = "Reconnecting…";
      retry = Math.min(retry + 1, 6);
      setTimeout(connect, 300 * Math.pow(2, retry - 1));
    });
  }

  function handle(data) {
    if (data.type === "ready") {
      state.pending.forEach(function (line) {  // lines not acknowledged: sent again, stored once (client_id)
        frame({ type: "message", client_id: line.client_id, text: line.text });
      });
    } else if (data.type === "message") {
      if (shown[data.sender + ":" + data.seq]) return;
      render(data.sender, data.seq, data.text, data.client_id, data.file);
      if (data.seq > state.after[data.sender]) state.after[data.sender] = data.seq;
      if (data.sender === "agent") typing.textContent = "";
      save();
    } else if (data.type === "ack") {  // our line is stored (this socket gets no "message" of it)
      state.pending = state.pending.filter(function (line) { return line.client_id !== data.client_id; });
      render("customer", data.seq, null, data.client_id, null);
      if (data.seq > state.after.customer) state.after.customer = data.seq;
      save();
    } else if (data.type === "typing") {
      typing.textContent = "The agent is writing…";
      clearTimeout(typingTimer);
      typingTimer = setTimeout(function () { typing.textContent = ""; }, 4000);
    } else if (data.type === "state") {
      showState(data);
    } else if (data.type === "error" && data.code === "rate_limited") {
      // too many lines at once: this one was not stored; it stays pending and goes again after the wait
      setTimeout(function () {
        state.pending.forEach(function (line) {
          if (line.client_id === data.client_id) frame({ type: "message", client_id: line.client_id, text: line.text });
        });
      }, Math.ceil((data.retry_after_s || 1) * 1000));
    } else if (data.type === "error") {
      system(data.message);
    }
  }

  function showState(data) {
    if (data.state === "waiting") {
      var text = "Waiting for an agent";
      if (data.position) text += " — you are number " + data.position + " in line";
      if (data.estimated_wait_s != null) text += ", about " + Math.max(1, Math.round(data.estimated_wait_s / 60)) +
        " min";
      status.textContent = text + ".";
    } else if (data.state === "active") {
      status.textContent = "You are chatting with " + (data.agent || "an agent") + ".";
    } else if (data.state === "ended") {
      status.textContent = "The chat has ended.";
      state.ended = true;
      state.pending = [];
      save();
    }
  }

  function render(sender, seq, text, clientId, file) {
    var existing = clientId && sender === "customer" ? lines.querySelector('[data-client="' + clientId + '"]') : null;
    if (seq !== null) shown[sender + ":" + seq] = true;
    if (existing) {  // our own line, now stored
      existing.classList.remove("pending");
      return;
    }
    if (text === null) return;
    var line = el("div", { class: "line " + sender + (seq === null ? " pending" : "") });
    if (clientId && /^[A-Za-z0-9_.:-]+$/.test(clientId)) line.setAttribute("data-client", clientId);
    if (file) {
      var link = el("button", { type: "button", class: "file", text: "📎 " + file.name });
      link.addEventListener("click", function () { download(file); });
      line.appendChild(link);
    } else {
      line.textContent = text;
    }
    lines.appendChild(line);
    body.scrollTop = body.scrollHeight;
  }

  function system(text) {
    lines.appendChild(el("div", { class: "note", role: "status", text: text }));
  }

  function upload(file) {
    if (config && file.size > config.max_file_bytes) { system("The file is too large."); return; }
    request("POST", "/chats/" + state.chat + "/files", file,
            { "X-Chat-Token": state.token, "X-File-Name": encodeURIComponent(file.name) })
      .catch(function (error) { system(error.message); });
  }

  function download(file) {
    fetch(API + "/chats/" + state.chat + "/files/" + file.id, { headers: { "X-Chat-Token": state.token } })
      .then(function (r) { if (!r.ok) throw new Error("the file could not be fetched"); return r.blob(); })
      .then(function (blob) {
        var url = URL.createObjectURL(blob);
        var a = el("a", { href: url, download: file.name });
        root.appendChild(a);
        a.click();
        a.remove();
        setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
      })
      .catch(function (error) { system(error.message); });
  }

  if (state && state.chat && !state.ended) toggle(true);
})();
