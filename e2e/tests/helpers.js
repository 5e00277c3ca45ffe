// Shared helpers of the end-to-end suite: configuration from the
// environment, a small REST client, and Socket.IO sockets that record every
// event they receive so that tests never miss one that arrived before they
// started waiting.

import assert from "node:assert/strict";
import { createHmac, randomBytes } from "node:crypto";
import { io } from "socket.io-client";

function baseURL(name) {
  const v = (process.env[name] ?? "").trim();
  return v === "" ? undefined : v.replace(/\/+$/, "");
}

/** The server under test. */
export const BASE_URL = baseURL("BASE_URL");
if (BASE_URL === undefined) {
  throw new Error("BASE_URL must be set to the server under test, e.g. http://127.0.0.1:3000");
}
/** Optional second instance sharing the first one's Redis. */
export const BASE_URL_2 = baseURL("BASE_URL_2");
/** Optional instance started with THROTTLE_LIMIT=3. */
export const BASE_URL_THROTTLED = baseURL("BASE_URL_THROTTLED");
/** Optional instance started with ROOM_CLOSE_ON_HOST_LEAVE=true. */
export const BASE_URL_CLOSE_ON_HOST_LEAVE = baseURL("BASE_URL_CLOSE_ON_HOST_LEAVE");
/** Optional instances of the dating loop (two, sharing Redis and Postgres). */
export const BASE_URL_DATING = baseURL("BASE_URL_DATING");
export const BASE_URL_DATING_2 = baseURL("BASE_URL_DATING_2");
/** Optional JWT_SECRET of the instances, to forge expired tokens. */
export const JWT_SECRET = process.env.JWT_SECRET || undefined;

/** "default" (polling, then upgrade) or "websocket" (WebSocket only). */
export const SIO_TRANSPORTS = (process.env.SIO_TRANSPORTS || "default").trim();
if (SIO_TRANSPORTS !== "default" && SIO_TRANSPORTS !== "websocket") {
  throw new Error(`SIO_TRANSPORTS must be "default" or "websocket", not ${JSON.stringify(SIO_TRANSPORTS)}`);
}

/** Options of every test: a hang fails the test instead of blocking the run. */
export const T = { timeout: 40_000 };

/** How long to wait for an event that must arrive. */
export const EVENT_TIMEOUT = 15_000;
/** How long to watch for an event that must not arrive. */
export const QUIET_MS = 600;

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
export const CODE_RE = /^[A-Z0-9]{4}$/;

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- REST

/**
 * Calls the REST API. body is sent as JSON unless raw is given (a string
 * sent as is). Returns {status, headers, body} with body parsed as JSON
 * when possible.
 */
export async function api(method, path, { base = BASE_URL, body, raw, token, headers = {} } = {}) {
  const h = { ...headers };
  let payload;
  if (raw !== undefined) {
    payload = raw;
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    h["Content-Type"] ??= "application/json";
  }
  if (token !== undefined) h.Authorization = `Bearer ${token}`;
  const res = await fetch(base + path, { method, headers: h, body: payload, signal: AbortSignal.timeout(15_000) });
  const text = await res.text();
  let parsed = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON; keep the text
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

let nameSeq = 0;
/** A fresh, valid display name. */
export function uniqueName(prefix = "user") {
  nameSeq += 1;
  return `${prefix}-${nameSeq}`.slice(0, 32);
}

/** Asserts a ticket body: {roomCode, token, userId}. */
export function assertTicket(body, roomCode) {
  assert.equal(typeof body, "object");
  assert.deepEqual(Object.keys(body).sort(), ["roomCode", "token", "userId"]);
  assert.match(body.roomCode, CODE_RE);
  if (roomCode !== undefined) assert.equal(body.roomCode, roomCode);
  assert.equal(typeof body.token, "string");
  assert.equal(body.token.split(".").length, 3, "token is a JWT");
  assert.match(body.userId, UUID_RE);
}

/** POST /rooms, asserting 201. Returns the ticket. */
export async function createRoom({ base = BASE_URL, displayName = uniqueName("host"), maxUsers } = {}) {
  const body = { displayName };
  if (maxUsers !== undefined) body.maxUsers = maxUsers;
  const res = await api("POST", "/rooms", { base, body });
  assert.equal(res.status, 201, `POST /rooms: ${JSON.stringify(res.body)}`);
  assertTicket(res.body);
  return res.body;
}

/** POST /rooms/:code/join, asserting 200. Returns the ticket. */
export async function joinRoom(code, { base = BASE_URL, displayName = uniqueName("guest") } = {}) {
  const res = await api("POST", `/rooms/${code}/join`, { base, body: { displayName } });
  assert.equal(res.status, 200, `POST /rooms/${code}/join: ${JSON.stringify(res.body)}`);
  assertTicket(res.body, code.toUpperCase());
  return res.body;
}

/** GET /rooms/:code, asserting 200. Returns the room. */
export async function getRoom(code, { base = BASE_URL } = {}) {
  const res = await api("GET", `/rooms/${code}`, { base });
  assert.equal(res.status, 200, `GET /rooms/${code}: ${JSON.stringify(res.body)}`);
  return res.body;
}

const STATUS_TEXT = {
  400: "Bad Request",
  401: "Unauthorized",
  402: "Payment Required",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  429: "Too Many Requests",
};

/** Asserts a REST error response: status and the error body with code. */
export function assertError(res, status, code) {
  assert.equal(res.status, status, `status of ${JSON.stringify(res.body)}`);
  assert.equal(typeof res.body, "object", `error body is JSON: ${res.body}`);
  assert.deepEqual(Object.keys(res.body).sort(), ["code", "error", "message", "statusCode"]);
  assert.equal(res.body.statusCode, status);
  assert.equal(res.body.error, STATUS_TEXT[status]);
  assert.equal(res.body.code, code);
  assert.equal(typeof res.body.message, "string");
  assert.ok(res.body.message.length > 0, "message is not empty");
  assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
}

// ---------------------------------------------------------------- tokens

function b64url(v) {
  return Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url");
}

/** Signs an HS256 JWT with claims. */
export function signJWT(claims, secret) {
  const head = b64url({ alg: "HS256", typ: "JWT" });
  const body = b64url(claims);
  const sig = createHmac("sha256", secret).update(`${head}.${body}`).digest("base64url");
  return `${head}.${body}.${sig}`;
}

/** Decodes a JWT's claims without verifying it. */
export function decodeJWT(token) {
  return JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString());
}

/**
 * A room token shaped like the server's, for roomCode and userId, signed
 * with secret and expiring at exp (seconds since the epoch).
 */
export function roomToken({ roomCode, userId, secret, exp = Math.floor(Date.now() / 1000) + 3600 }) {
  const now = Math.floor(Date.now() / 1000);
  return signJWT(
    {
      roomCode,
      userId,
      typ: "room",
      iss: "rendezvous",
      sub: userId,
      aud: ["rendezvous:rooms"],
      iat: Math.min(now, exp - 60),
      exp,
      jti: randomBytes(16).toString("hex"),
    },
    secret,
  );
}

// ---------------------------------------------------------------- sockets

const live = new Set();

/** Client options for the transport mode of this run. */
export function transportOptions() {
  return SIO_TRANSPORTS === "websocket" ? { transports: ["websocket"] } : {};
}

function record(socket) {
  const rec = { entries: [], waiters: new Set(), transports: [] };
  const push = (event, args) => {
    const entry = { event, args, consumed: false, at: Date.now() };
    rec.entries.push(entry);
    for (const w of [...rec.waiters]) w(entry);
  };
  socket.onAny((event, ...args) => push(event, args));
  socket.on("disconnect", (...args) => push("disconnect", args));
  const engine = socket.io.engine;
  rec.transports.push(engine.transport.name);
  engine.on("upgrade", (tr) => rec.transports.push(tr.name));
  socket.rec = rec;
}

/**
 * Opens a socket on the nsp namespace (default /rooms). The token goes in the handshake
 * auth ({token}) or, with header: true, in an Authorization: Bearer header
 * (extraHeaders). token undefined sends no credentials at all.
 * Resolves with the connected socket; rejects with the connect_error.
 */
export function connect(token, { base = BASE_URL, header = false, nsp = "/rooms", ...extra } = {}) {
  const opts = {
    forceNew: true,
    reconnection: false,
    timeout: EVENT_TIMEOUT,
    ...transportOptions(),
    ...extra,
  };
  if (token !== undefined) {
    if (header) opts.extraHeaders = { Authorization: `Bearer ${token}` };
    else opts.auth = { token };
  }
  const socket = io(`${base}${nsp}`, opts);
  live.add(socket);
  record(socket);
  if (SIO_TRANSPORTS === "websocket" && !("transports" in extra) && socket.rec.transports[0] !== "websocket") {
    socket.disconnect();
    return Promise.reject(new Error(`websocket-only run opened with ${socket.rec.transports[0]}`));
  }
  return new Promise((resolve, reject) => {
    const onConnect = () => {
      socket.off("connect_error", onError);
      resolve(socket);
    };
    const onError = (err) => {
      socket.off("connect", onConnect);
      socket.disconnect();
      live.delete(socket);
      reject(err);
    };
    socket.once("connect", onConnect);
    socket.once("connect_error", onError);
  });
}

/** Connects and waits for the socket's room:state. Returns {socket, state}. */
export async function join(token, opts) {
  const socket = await connect(token, opts);
  const state = await once(socket, "room:state");
  return { socket, state };
}

/** Expects connect to fail; returns the connect_error. */
export async function connectError(token, opts) {
  let socket;
  try {
    socket = await connect(token, opts);
  } catch (err) {
    return err;
  }
  socket.disconnect();
  assert.fail("the connection was accepted");
}

/** Asserts a connect_error with message and data.code. */
export function assertConnectError(err, code) {
  assert.ok(err instanceof Error, "connect_error is an Error");
  assert.equal(err.data?.code, code, `data.code of connect_error "${err.message}"`);
  assert.equal(typeof err.message, "string");
  assert.ok(err.message.length > 0, "connect_error has a message");
  assert.notEqual(err.message, "timeout", "connect_error is not a client-side timeout");
}

/** Disconnects every socket opened by connect. */
export function disconnectAll() {
  for (const s of live) s.disconnect();
  live.clear();
}

function matcher(event, filter) {
  return (e) => !e.consumed && e.event === event && (!filter || filter(...e.args));
}

/**
 * Waits for the next occurrence of event on socket that has not been
 * consumed by an earlier call, including occurrences received before this
 * call, and resolves with its arguments. filter, if given, selects among
 * occurrences by their arguments. Rejects after timeoutMs.
 */
export function onceArgs(socket, event, timeoutMs = EVENT_TIMEOUT, filter) {
  const rec = socket.rec;
  const match = matcher(event, filter);
  const found = rec.entries.find(match);
  if (found) {
    found.consumed = true;
    return Promise.resolve(found.args);
  }
  return new Promise((resolve, reject) => {
    const waiter = (e) => {
      if (!match(e)) return;
      e.consumed = true;
      clearTimeout(timer);
      rec.waiters.delete(waiter);
      resolve(e.args);
    };
    const timer = setTimeout(() => {
      rec.waiters.delete(waiter);
      const seen = rec.entries.map((e) => e.event).join(", ") || "nothing";
      reject(new Error(`timed out after ${timeoutMs} ms waiting for "${event}" (received: ${seen})`));
    }, timeoutMs);
    rec.waiters.add(waiter);
  });
}

/** Like onceArgs, resolving with the first argument. */
export async function once(socket, event, timeoutMs = EVENT_TIMEOUT, filter) {
  const args = await onceArgs(socket, event, timeoutMs, filter);
  return args[0];
}

/** Asserts that no unconsumed occurrence of event arrives within ms. */
export async function expectNoEvent(socket, event, ms = QUIET_MS, filter) {
  await sleep(ms);
  const hit = socket.rec.entries.find(matcher(event, filter));
  assert.equal(hit, undefined, `unexpected "${event}" ${JSON.stringify(hit?.args)}`);
}

/** Names of the events received so far, in order. */
export function received(socket) {
  return socket.rec.entries.map((e) => e.event);
}

/** Emits event with args and waits for the acknowledgement. */
export function emitAck(socket, event, ...args) {
  return socket.timeout(EVENT_TIMEOUT).emitWithAck(event, ...args);
}

/** Asserts a failed acknowledgement {ok:false, error:{code,message}}. */
export function assertAckError(ack, code) {
  assert.equal(typeof ack, "object");
  assert.deepEqual(Object.keys(ack).sort(), ["error", "ok"]);
  assert.equal(ack.ok, false);
  assert.deepEqual(Object.keys(ack.error).sort(), ["code", "message"]);
  assert.equal(ack.error.code, code);
  assert.equal(typeof ack.error.message, "string");
  assert.ok(ack.error.message.length > 0);
}

/** Waits for an error:room with code and asserts its shape. */
export async function expectRoomError(socket, code) {
  const p = await once(socket, "error:room", EVENT_TIMEOUT, (e) => e?.code === code);
  assert.deepEqual(Object.keys(p).sort(), ["code", "message"]);
  assert.equal(typeof p.message, "string");
  assert.ok(p.message.length > 0);
  return p;
}

/** Waits for the server to disconnect socket. */
export async function expectServerDisconnect(socket) {
  const reason = await once(socket, "disconnect");
  assert.equal(reason, "io server disconnect");
  assert.equal(socket.connected, false);
}

/**
 * A room with a connected host and n connected guests, joined in order.
 * Returns {code, host, guests}, each member {ticket, socket, state}.
 * Every member's own room:state and the user:connected events of later
 * members are consumed. A member's user:connected about itself is not
 * waited for (connect.test.js checks it), but consumed if it arrived.
 */
export async function roomWith(n, { base = BASE_URL, maxUsers } = {}) {
  const ht = await createRoom({ base, maxUsers });
  const code = ht.roomCode;
  const members = [];
  const h = await join(ht.token, { base });
  members.push({ ticket: ht, ...h });
  for (let i = 0; i < n; i++) {
    const t = await joinRoom(code, { base });
    const m = await join(t.token, { base });
    members.push({ ticket: t, ...m });
  }
  // Every member sees the user:connected of the members after it.
  for (let i = 0; i < members.length; i++) {
    for (let j = i + 1; j < members.length; j++) {
      const id = members[j].ticket.userId;
      await once(members[i].socket, "user:connected", EVENT_TIMEOUT, (p) => p?.user?.id === id);
    }
  }
  for (const m of members) {
    const id = m.ticket.userId;
    for (const e of m.socket.rec.entries) {
      if (e.event === "user:connected" && e.args[0]?.user?.id === id) e.consumed = true;
    }
  }
  return { code, host: members[0], guests: members.slice(1) };
}
