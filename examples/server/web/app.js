// The rendezvous demo: a rooms lobby and the dating loop, on the REST API
// and Socket.IO of the server that serves this page.

import { Manager } from "./sio.js";

// The API lives where the page does (the server's API_PREFIX).
const BASE = location.pathname.replace(/[^/]*$/, "");

const $ = (id) => document.querySelector(`[data-testid="${id}"]`);
const store = window.sessionStorage;

// ------------------------------------------------------------ helpers

/**
 * Calls the REST API; throws an Error with .code on an error answer. An
 * expired access token (me.token) is refreshed once with the cookie.
 */
async function api(method, path, opts = {}) {
  try {
    return await call(method, path, opts);
  } catch (err) {
    if (err.code !== "TOKEN_EXPIRED" || !opts.token || opts.token !== me.token) throw err;
    await refreshAccess();
    return call(method, path, { ...opts, token: me.token });
  }
}

async function call(method, path, { body, token } = {}) {
  const headers = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(BASE + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  const text = await res.text();
  const data = text ? JSON.parse(text) : null;
  if (!res.ok) {
    const err = new Error(data?.message ?? res.statusText);
    err.code = data?.code ?? String(res.status);
    err.status = res.status;
    throw err;
  }
  return data;
}

function notify(msg) {
  const el = $("notice");
  el.textContent = msg;
  el.hidden = !msg;
}

function fail(err) {
  notify(err.code ? `${err.code}: ${err.message}` : String(err.message ?? err));
}

/** Wraps an event handler: errors are shown, never thrown away. */
const guard = (fn) => async (ev) => {
  ev?.preventDefault?.();
  notify("");
  try {
    await fn(ev);
  } catch (err) {
    fail(err);
  }
};

function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k.startsWith("data-") || k.startsWith("aria-")) e.setAttribute(k, v);
    else e[k] = v;
  }
  e.append(...children);
  return e;
}

const manager = new Manager();
manager.on("open", () => ($("connection").textContent = "online"));
manager.on("close", () => ($("connection").textContent = "offline"));
manager.on("reconnect_attempt", (n) => ($("connection").textContent = `reconnecting (${n})…`));

// ------------------------------------------------------------ navigation

function show(view) {
  for (const b of document.querySelectorAll("nav button")) b.setAttribute("aria-pressed", String(b.dataset.view === view));
  document.getElementById("rooms").hidden = view !== "rooms";
  document.getElementById("dating").hidden = view !== "dating";
  store.setItem("view", view);
}
for (const b of document.querySelectorAll("nav button")) b.addEventListener("click", () => show(b.dataset.view));

// ------------------------------------------------------------ rooms

const room = { code: "", token: "", userId: "", hostId: "", locked: false, users: new Map(), socket: null };

function saveRoom() {
  store.setItem("roomCode", room.code);
  store.setItem("roomToken", room.token);
}

function forgetRoom() {
  store.removeItem("roomCode");
  store.removeItem("roomToken");
}

function renderRoom() {
  $("room-code").textContent = room.code;
  $("room-locked").hidden = !room.locked;
  const isHost = room.userId === room.hostId;
  for (const b of document.querySelectorAll(".host-only")) b.hidden = !isHost;
  $("lock-toggle").textContent = room.locked ? "Unlock" : "Lock";
  const list = $("member-list");
  list.replaceChildren();
  for (const u of room.users.values()) {
    const li = el("li", { "data-testid": "member", "data-user-id": u.id, "data-connected": String(u.isConnected) });
    li.append(el("span", { className: "name", "data-testid": "member-name" }, u.displayName));
    if (u.id === room.userId) li.append(el("span", { className: "badge" }, "you"));
    if (u.id === room.hostId) li.append(el("span", { className: "badge host", "data-testid": "member-host" }, "host"));
    li.append(
      el("span", { className: `presence ${u.isConnected ? "on" : "off"}`, "data-testid": "member-presence" }, u.isConnected ? "online" : "offline"),
    );
    if (isHost && u.id !== room.userId) {
      const kick = el("button", { type: "button", "data-testid": "kick", "aria-label": `Kick ${u.displayName}` }, "Kick");
      kick.addEventListener("click", () => roomCommand("room:kick", { kickUserId: u.id }));
      const transfer = el("button", { type: "button", "data-testid": "transfer", "aria-label": `Make ${u.displayName} host` }, "Make host");
      transfer.addEventListener("click", () => roomCommand("room:transfer_host", { newHostId: u.id }));
      li.append(kick, transfer);
    }
    list.append(li);
  }
}

function roomCommand(event, payload) {
  notify("");
  const ack = (res) => {
    if (!res?.ok) fail(res?.error ?? { message: "failed" });
  };
  if (payload === undefined) room.socket.emit(event, ack);
  else room.socket.emit(event, payload, ack);
}

function endRoom(reason) {
  forgetRoom();
  room.socket?.disconnect();
  room.socket = null;
  document.getElementById("room").hidden = true;
  document.getElementById("lobby").hidden = true;
  document.getElementById("room-over").hidden = false;
  $("room-over-reason").textContent = reason;
}

function enterRoom({ roomCode, token, userId }) {
  Object.assign(room, { code: roomCode, token, userId, users: new Map() });
  saveRoom();
  document.getElementById("lobby").hidden = true;
  document.getElementById("room-over").hidden = true;
  document.getElementById("room").hidden = false;
  $("room-status").textContent = "Connecting…";
  renderRoom();
  const s = manager.socket("/rooms", { auth: () => ({ token: room.token }) });
  if (!s.wired) {
    s.wired = true;
    s.on("connect", () => ($("room-status").textContent = "Connected."));
    s.on("disconnect", (reason) => {
      if (room.socket) $("room-status").textContent = `Disconnected (${reason}).`;
    });
    s.on("connect_error", (err) => {
      if (!room.socket) return;
      endRoom(`Cannot connect: ${err.data?.code ?? err.message}`);
    });
    s.on("room:state", ({ room: r, users }) => {
      room.hostId = r.hostId;
      room.locked = r.isLocked;
      room.users = new Map(users.map((u) => [u.id, u]));
      renderRoom();
    });
    s.on("user:connected", ({ user }) => {
      room.users.set(user.id, { ...room.users.get(user.id), ...user, isConnected: true });
      renderRoom();
    });
    s.on("user:disconnected", ({ user }) => {
      const u = room.users.get(user.id);
      if (u) u.isConnected = false;
      renderRoom();
    });
    s.on("user:left", ({ userId, reason }) => {
      const u = room.users.get(userId);
      room.users.delete(userId);
      $("room-status").textContent = `${u?.displayName ?? "Someone"} ${reason === "KICKED" ? "was kicked" : "left"}.`;
      renderRoom();
    });
    s.on("user:kicked", () => endRoom("You were kicked from the room."));
    s.on("room:host_updated", ({ hostId }) => {
      room.hostId = hostId;
      renderRoom();
    });
    s.on("room:lock_toggled", ({ isLocked }) => {
      room.locked = isLocked;
      renderRoom();
    });
    s.on("room:closed", ({ reason }) => endRoom(`The room was closed (${reason}).`));
    s.on("error:room", ({ code, message }) => fail({ code, message }));
  }
  room.socket = s;
  s.connect();
}

document.getElementById("create-form").addEventListener(
  "submit",
  guard(async (ev) => {
    const f = new FormData(ev.target);
    const body = { displayName: String(f.get("displayName")) };
    if (f.get("maxUsers")) body.maxUsers = Number(f.get("maxUsers"));
    enterRoom(await api("POST", "rooms", { body }));
  }),
);
document.getElementById("join-form").addEventListener(
  "submit",
  guard(async (ev) => {
    const f = new FormData(ev.target);
    const code = String(f.get("code")).trim();
    enterRoom(await api("POST", `rooms/${encodeURIComponent(code)}/join`, { body: { displayName: String(f.get("displayName")) } }));
  }),
);
$("lock-toggle").addEventListener("click", () => roomCommand("room:toggle_lock"));
$("close-room").addEventListener("click", () => roomCommand("room:close"));
$("leave-room").addEventListener("click", () => {
  room.socket?.emit("room:leave", () => endRoom("You left the room."));
});
$("back-to-lobby").addEventListener("click", () => {
  document.getElementById("room-over").hidden = true;
  document.getElementById("lobby").hidden = false;
});

/** After a reload: exchange the stored token for a fresh one. */
async function resumeRoom() {
  const code = store.getItem("roomCode");
  const token = store.getItem("roomToken");
  if (!code || !token) return;
  try {
    enterRoom(await api("POST", `rooms/${encodeURIComponent(code)}/rejoin`, { token }));
  } catch (err) {
    forgetRoom();
    fail(err);
  }
}

// ------------------------------------------------------------ dating

const me = { token: "", user: null, session: null, countdown: null, match: null, chatMatchId: "" };

/** Exchanges the refresh cookie for a new access token. */
async function refreshAccess() {
  const { accessToken } = await call("POST", "auth/refresh");
  me.token = accessToken;
  store.setItem("accessToken", accessToken);
}
const auth = () => ({ token: me.token });
let queue, video, chat;

function userSockets() {
  if (queue) return;
  queue = manager.socket("/queue", { auth });
  video = manager.socket("/video", { auth });
  chat = manager.socket("/chat", { auth });
  queue.on("match", () => ($("queue-status").textContent = "Paired! Starting the call…"));
  queue.on("queue:left", ({ refunded }) => {
    $("queue-status").textContent = `You left the queue while away${refunded ? " (token refunded)" : ""}.`;
    queueButtons(false);
    refreshBalance();
  });
  video.on("session:start", startCall);
  video.on("session:end", endCall);
  video.on("match:mutual", ({ sessionId, matchId }) => {
    if (me.session?.sessionId !== sessionId) return;
    $("outcome").textContent = "It's a match! Say hello in the chat.";
    $("queue-join").disabled = false;
    $("outcome").dataset.outcome = "mutual";
    loadMatches().then(() => openChat(matchId));
  });
  video.on("match:non_mutual", ({ sessionId }) => {
    if (me.session?.sessionId !== sessionId) return;
    $("outcome").textContent = "No match this time.";
    $("queue-join").disabled = false;
    $("outcome").dataset.outcome = "non_mutual";
  });
  video.on("moderation:action", ({ action, reason, until }) => {
    notify(action === "ban" ? `You are banned until ${until}: ${reason}` : `Warning: ${reason}`);
  });
  chat.on("message:new", (m) => {
    if (m.matchId === me.chatMatchId) appendMessage(m);
    else loadMatches();
  });
  chat.on("match:removed", ({ matchId }) => {
    if (matchId === me.chatMatchId) document.getElementById("chat").hidden = true;
    loadMatches();
  });
  for (const s of [queue, video, chat]) {
    s.on("connect_error", async (err) => {
      if (err.data?.code === "TOKEN_EXPIRED") {
        try {
          await refreshAccess();
          s.connect();
          return;
        } catch (e) {
          err = e;
        }
      }
      fail({ code: err.data?.code ?? err.code, message: err.message });
    });
  }
}

async function signedIn(user) {
  me.user = user;
  store.setItem("accessToken", me.token);
  document.getElementById("signup").hidden = true;
  document.getElementById("account").hidden = false;
  document.querySelector("#profile-form [name=displayName]").value = user.displayName ?? "";
  userSockets();
  await Promise.all([queue.ready(), video.ready(), chat.ready()]);
  await Promise.all([refreshBalance(), loadPacks(), loadMatches(), refreshQueue()]);
}

async function refreshBalance() {
  const { balance } = await api("GET", "tokens/balance", { token: me.token });
  $("balance").textContent = String(balance);
}

async function loadPacks() {
  const { packs } = await api("GET", "tokens/packs");
  $("packs").replaceChildren(
    ...packs.map((p) =>
      el("li", { "data-testid": "pack" }, `${p.id}: ${p.tokens} tokens${p.amount ? ` for ${(p.amount / 100).toFixed(2)} ${String(p.currency ?? "").toUpperCase()}` : ""}`),
    ),
  );
}

function queueButtons(queued) {
  $("queue-join").hidden = queued;
  $("queue-leave").hidden = !queued;
}

async function refreshQueue() {
  const st = await api("GET", "queue/status", { token: me.token });
  if (st.status === "queued") {
    $("queue-status").textContent = `Waiting in ${st.queueKey} (${st.position} ahead).`;
    queueButtons(true);
  }
}

$("signup").addEventListener(
  "click",
  guard(async () => {
    const { user, accessToken } = await api("POST", "auth/signup-anonymous");
    me.token = accessToken;
    await signedIn(user);
  }),
);

document.getElementById("profile-form").addEventListener(
  "submit",
  guard(async (ev) => {
    const displayName = String(new FormData(ev.target).get("displayName"));
    me.user = await api("PATCH", "users/me", { token: me.token, body: { displayName } });
    $("queue-status").textContent = `Saved as ${me.user.displayName}.`;
  }),
);

document.getElementById("queue-form").addEventListener(
  "submit",
  guard(async (ev) => {
    const region = String(new FormData(ev.target).get("region"));
    await Promise.all([queue.ready(), video.ready()]);
    const res = await api("POST", "queue/join", { token: me.token, body: { region } });
    $("queue-status").textContent = `Waiting in ${res.queueKey} (${res.position} ahead).`;
    queueButtons(true);
    await refreshBalance();
  }),
);
$("queue-leave").addEventListener(
  "click",
  guard(async () => {
    const res = await api("DELETE", "queue/leave", { token: me.token });
    $("queue-status").textContent = res.status === "left" ? "Left the queue (token refunded)." : "Not queued.";
    queueButtons(false);
    await refreshBalance();
  }),
);

function startCall(s) {
  const fresh = me.session?.sessionId !== s.sessionId;
  me.session = s;
  queueButtons(false);
  $("queue-status").textContent = "In a call.";
  document.getElementById("call").hidden = false;
  $("no-video").hidden = s.rtc !== null;
  $("rtc-info").hidden = s.rtc === null;
  if (s.rtc) $("rtc-info").textContent = `Agora channel ${s.channelName} (app ${s.rtc.appId}, uid ${s.rtc.uid}).`;
  $("queue-join").disabled = true; // no queueing during a call or its choice
  if (fresh) {
    document.getElementById("call").scrollIntoView({ block: "nearest" });
    $("call-status").textContent = "Connected to your partner.";
    $("choice").hidden = true;
    $("outcome").textContent = "";
    delete $("outcome").dataset.outcome;
  }
  $("hang-up").hidden = false;
  clearInterval(me.countdown);
  const endAt = Date.parse(s.endAt);
  const tick = () => {
    const left = Math.max(0, Math.ceil((endAt - Date.now()) / 1000));
    $("countdown").textContent = String(left);
  };
  tick();
  me.countdown = setInterval(tick, 250);
  refreshBalance().catch(fail);
}

function endCall({ sessionId, reason }) {
  if (me.session?.sessionId !== sessionId) return;
  clearInterval(me.countdown);
  $("countdown").textContent = "0";
  $("hang-up").hidden = true;
  const why = { timeout: "Time is up.", ended: "The call was ended.", token_error: "The call could not start.", moderation: "The call was ended by moderation." };
  $("call-status").textContent = why[reason] ?? "The call ended.";
  if (reason === "timeout" || reason === "ended") $("choice").hidden = false;
  else $("queue-join").disabled = false;
}

async function choose(choice) {
  const res = await api("POST", `sessions/${me.session.sessionId}/choice`, { token: me.token, body: { choice } });
  $("choice").hidden = true;
  if (res.status === "pending") $("outcome").textContent = `You chose ${choice}. Waiting for the other side…`;
}
$("choice-match").addEventListener("click", guard(() => choose("MATCH")));
$("choice-pass").addEventListener("click", guard(() => choose("PASS")));
$("hang-up").addEventListener(
  "click",
  guard(() => api("POST", `sessions/${me.session.sessionId}/end`, { token: me.token })),
);

let matches = new Map();

async function loadMatches() {
  const res = await api("GET", "matches", { token: me.token });
  matches = new Map(res.matches.map((m) => [m.id, m]));
  $("matches").replaceChildren(
    ...res.matches.map((m) => {
      const name = m.partner?.displayName || "Anonymous";
      const open = el("button", { type: "button", "data-testid": "open-chat", "aria-label": `Chat with ${name}` }, "Chat");
      open.addEventListener("click", guard(() => openChat(m.id)));
      const last = m.lastMessage ? el("span", { className: "last" }, m.lastMessage.text) : "";
      return el("li", { "data-testid": "match", "data-match-id": m.id }, el("span", { className: "name", "data-testid": "match-name" }, name), last, open);
    }),
  );
}
$("matches-refresh").addEventListener("click", guard(loadMatches));

function appendMessage(m) {
  const list = $("messages");
  if (list.querySelector(`[data-message-id="${m.id}"]`)) return;
  const mine = m.senderId === me.user?.id;
  list.append(
    el("li", { "data-testid": "message", "data-message-id": m.id, className: mine ? "mine" : "theirs" }, el("span", { className: "text" }, m.text)),
  );
  list.scrollTop = list.scrollHeight;
}

async function openChat(matchId) {
  const m = matches.get(matchId);
  me.chatMatchId = matchId;
  $("chat-partner").textContent = m?.partner?.displayName || "your match";
  $("messages").replaceChildren();
  document.getElementById("chat").hidden = false;
  const res = await api("GET", `matches/${matchId}/messages`, { token: me.token });
  for (const msg of res.messages) appendMessage(msg);
}

document.getElementById("chat-form").addEventListener(
  "submit",
  guard(async (ev) => {
    const input = ev.target.elements.text;
    const text = input.value;
    const msg = await api("POST", `matches/${me.chatMatchId}/messages`, {
      token: me.token,
      body: { text, clientMessageId: crypto.randomUUID() },
    });
    input.value = "";
    appendMessage(msg);
  }),
);

/**
 * After a reload: the stored access token (api() refreshes it with the
 * cookie once it has expired).
 */
async function resumeAccount() {
  me.token = store.getItem("accessToken") ?? "";
  if (!me.token) return;
  try {
    await signedIn(await api("GET", "users/me", { token: me.token }));
  } catch (err) {
    if (err.status === 401) {
      me.token = "";
      store.removeItem("accessToken");
      return;
    }
    fail(err);
  }
}

// For debugging from the console (and the browser tests): the connection.
window.rendezvousDemo = { manager };

show(store.getItem("view") ?? "rooms");
resumeRoom();
resumeAccount();
