// The deployment scenario of deploy/README.md, run by
// examples/server/deploy_test.go: the official socket.io-client with its
// default options (long-polling, then the upgrade to WebSocket, and
// reconnection) talks to three instances through nginx only.
//
// Each client connects from a loopback address of its own (ADDR_1..3,
// chosen by the Go test so that nginx's sticky hash sends ADDR_n to
// instance n). The script prints "STOP n" (SIGTERM) or "KILL n" (SIGKILL)
// on stdout when an instance must go, and waits for the Go side's line on
// stdin, "DONE <command> <owner of ADDR_1> <owner of ADDR_2> <owner of
// ADDR_3>", the instance each address reaches through nginx afterwards.
// It prints "PASS" and exits 0 when every check held.
//
// Environment: BASE_URL (nginx), ADDR_1, ADDR_2, ADDR_3,
// SIGNUP_BONUS_TOKENS, SESSION_DURATION_SECONDS.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import http from "node:http";
import readline from "node:readline";
import { Manager } from "socket.io-client";

function env(name) {
  const v = (process.env[name] ?? "").trim();
  if (v === "") throw new Error(`${name} must be set`);
  return v;
}

const BASE = env("BASE_URL").replace(/\/+$/, "");
const ADDR = [env("ADDR_1"), env("ADDR_2"), env("ADDR_3")];
const BONUS = Number(env("SIGNUP_BONUS_TOKENS"));
const CALL_SECONDS = Number(env("SESSION_DURATION_SECONDS"));
/** How long to wait for an event that must arrive: generous, the machine is shared. */
const WAIT = 30_000;

const log = (...args) => console.log("#", ...args);

// ------------------------------------------------------------ Go side

const lines = [];
const lineWaiters = [];
readline.createInterface({ input: process.stdin }).on("line", (l) => {
  const w = lineWaiters.shift();
  if (w) w(l);
  else lines.push(l);
});

function nextLine() {
  if (lines.length > 0) return Promise.resolve(lines.shift());
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no answer from the test on stdin")), 2 * WAIT);
    lineWaiters.push((l) => {
      clearTimeout(timer);
      resolve(l);
    });
  });
}

/** Where ADDR_1..3 land through nginx (instance numbers), as the test last reported. */
let owners = [1, 2, 3];

/** Asks the test to stop or kill an instance; returns the addresses whose instance changed. */
async function command(cmd) {
  const began = Date.now();
  console.log(cmd);
  const answer = await nextLine();
  const [done, verb, n, ...now] = answer.split(" ");
  assert.equal(`${done} ${verb} ${n}`, `DONE ${cmd}`, `the test's answer to ${cmd}: ${answer}`);
  const next = now.map(Number);
  assert.equal(next.length, 3, `owners in ${answer}`);
  const moved = [0, 1, 2].filter((i) => next[i] !== owners[i]);
  log(`${cmd} done in ${Date.now() - began} ms; ADDR_1..3 now reach instances ${next.join(", ")}`);
  owners = next;
  return moved;
}

// ------------------------------------------------------------ REST

async function api(method, path, { token, body } = {}) {
  const headers = {};
  if (token !== undefined) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(BASE + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(WAIT),
  });
  const text = await res.text();
  let parsed = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON; keep the text
  }
  return { status: res.status, body: parsed };
}

async function expectStatus(method, path, status, opts) {
  const res = await api(method, path, opts);
  assert.equal(res.status, status, `${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

// ------------------------------------------------------------ sockets

/**
 * A client at loopback address addr: one Manager (one Engine.IO
 * connection, multiplexing its namespaces, reconnecting by itself), as a
 * browser tab has, with the client's default options.
 */
function client(name, addr) {
  const agent = new http.Agent({ localAddress: addr });
  const manager = new Manager(BASE, { agent, localAddress: addr });
  const c = { name, addr, manager, transports: [], sockets: [] };
  manager.on("open", () => {
    const engine = manager.engine;
    c.transports.push(engine.transport.name);
    engine.on("upgrade", (tr) => c.transports.push(tr.name));
  });
  return c;
}

/** Opens namespace nsp on client c with token and waits for its connect. */
async function open(c, nsp, token) {
  const socket = c.manager.socket(nsp, { auth: { token } });
  const rec = { entries: [], waiters: new Set() };
  const push = (event, args) => {
    const entry = { event, args, consumed: false };
    rec.entries.push(entry);
    for (const w of [...rec.waiters]) w(entry);
  };
  socket.onAny((event, ...args) => push(event, args));
  socket.on("connect", () => push("connect", []));
  socket.on("disconnect", (reason, details) => {
    const why = details?.description?.message ?? "";
    log(`${socket.label}: disconnect (${reason}${why ? `: ${why}` : ""})`);
    push("disconnect", [reason]);
  });
  socket.on("connect_error", (err) => push("connect_error", [err.message, err.data]));
  socket.rec = rec;
  socket.label = `${c.name}${nsp}`;
  c.sockets.push(socket);
  // The socket connects by itself (autoConnect); calling connect() as well
  // would send a second CONNECT.
  await once(socket, "connect");
  return socket;
}

/**
 * Waits for the next unconsumed occurrence of event on socket (one
 * received before the call counts) and resolves with its first argument.
 */
function once(socket, event, filter = () => true) {
  const rec = socket.rec;
  const match = (e) => !e.consumed && e.event === event && filter(...e.args);
  const found = rec.entries.find(match);
  if (found) {
    found.consumed = true;
    return Promise.resolve(found.args[0]);
  }
  return new Promise((resolve, reject) => {
    const waiter = (e) => {
      if (!match(e)) return;
      e.consumed = true;
      clearTimeout(timer);
      rec.waiters.delete(waiter);
      resolve(e.args[0]);
    };
    const timer = setTimeout(() => {
      rec.waiters.delete(waiter);
      const seen = rec.entries.map((e) => e.event).join(", ") || "nothing";
      reject(new Error(`${socket.label}: no "${event}" within ${WAIT} ms (received: ${seen})`));
    }, WAIT);
    rec.waiters.add(waiter);
  });
}

/** How many occurrences of event socket received, consumed or not. */
function count(socket, event, filter = () => true) {
  return socket.rec.entries.filter((e) => e.event === event && filter(...e.args)).length;
}

/** Whether socket received an occurrence of event not consumed yet. */
function pending(socket, event) {
  return socket.rec.entries.some((e) => e.event === event && !e.consumed);
}

/** Waits until the client has upgraded to WebSocket. */
async function upgraded(c) {
  const deadline = Date.now() + WAIT;
  while (c.manager.engine?.transport?.name !== "websocket") {
    if (Date.now() > deadline) throw new Error(`${c.name}: no upgrade to WebSocket (transports ${c.transports})`);
    await new Promise((r) => c.manager.engine.once("upgrade", r).once("close", r));
  }
}

/** Waits for every socket of c to be disconnected and to connect again. */
async function reconnected(c) {
  const began = Date.now();
  for (const s of c.sockets) {
    await once(s, "disconnect");
    await once(s, "connect");
  }
  log(`${c.name} reconnected through nginx within ${Date.now() - began} ms (transports so far: ${c.transports.join(" → ")})`);
}

function close(c) {
  for (const s of c.sockets) s.disconnect();
}

// ------------------------------------------------------------ dating

function region() {
  return `deploy-${randomBytes(6).toString("hex")}`;
}

/** An anonymous account with /queue and /video open at addr. */
async function dater(name, addr) {
  const body = await expectStatus("POST", "/auth/signup-anonymous", 201);
  const u = { name, id: body.user.id, token: body.accessToken, client: client(name, addr) };
  u.queue = await open(u.client, "/queue", u.token);
  u.video = await open(u.client, "/video", u.token);
  return u;
}

/** Queues a and b in a region of their own and waits for their call. */
async function call(a, b) {
  const reg = region();
  for (const u of [a, b]) {
    const j = await expectStatus("POST", "/queue/join", 201, { token: u.token, body: { region: reg } });
    assert.equal(j.status, "queued");
  }
  const [ma, mb] = await Promise.all([once(a.queue, "match"), once(b.queue, "match")]);
  assert.equal(ma.sessionId, mb.sessionId);
  const id = ma.sessionId;
  const [sa, sb] = await Promise.all([a, b].map((u) => once(u.video, "session:start", (s) => s?.sessionId === id)));
  assert.equal(sa.channelName, `session_${id}`);
  assert.equal(sb.channelName, sa.channelName);
  assert.equal(sa.durationSeconds, CALL_SECONDS);
  return { id, endAt: Date.parse(sa.endAt) };
}

function choose(u, id, choice) {
  return expectStatus("POST", `/sessions/${id}/choice`, 200, { token: u.token, body: { choice } });
}

/** The wallet of u: one bonus, one debit per join (distinct keys), no refund. */
async function checkWallet(u, joins) {
  const { balance } = await expectStatus("GET", "/tokens/balance", 200, { token: u.token });
  assert.equal(balance, BONUS - joins, `${u.name}'s balance`);
  const { transactions } = await expectStatus("GET", "/tokens/transactions?limit=100", 200, { token: u.token });
  const kinds = transactions.map((t) => t.kind).sort();
  assert.deepEqual(kinds, ["bonus", ...Array(joins).fill("debit")].sort(), `${u.name}'s ledger ${JSON.stringify(transactions)}`);
  const refs = transactions.filter((t) => t.kind === "debit").map((t) => t.reference);
  assert.equal(new Set(refs).size, joins, `one debit key per join: ${refs}`);
  assert.equal(transactions[0].balanceAfter, balance);
}

// ------------------------------------------------------------ scenario

async function main() {
  // Rooms: a host at ADDR_1 (instance 1), a guest at ADDR_2 (instance 2).
  const hostT = await expectStatus("POST", "/rooms", 201, { body: { displayName: "Host" } });
  const guestT = await expectStatus("POST", `/rooms/${hostT.roomCode}/join`, 200, { body: { displayName: "Guest" } });
  const hc = client("host", ADDR[0]);
  const gc = client("guest", ADDR[1]);
  const host = await open(hc, "/rooms", hostT.token);
  await once(host, "room:state");
  const guest = await open(gc, "/rooms", guestT.token);
  await once(guest, "room:state");
  await once(host, "user:connected", (p) => p?.user?.id === guestT.userId);
  await Promise.all([upgraded(hc), upgraded(gc)]);
  assert.deepEqual(hc.transports, ["polling", "websocket"], "long-polling first, then the upgrade, all through nginx");
  assert.deepEqual(await host.timeout(WAIT).emitWithAck("room:toggle_lock"), { ok: true, isLocked: true });
  assert.deepEqual(await once(guest, "room:lock_toggled"), { isLocked: true });
  log("rooms: host on instance 1 and guest on instance 2 see each other's events");

  // A dating round between instance 1 and instance 3, ending with a hang-up.
  const a = await dater("A", ADDR[0]);
  const b = await dater("B", ADDR[2]);
  assert.equal((await expectStatus("GET", "/tokens/balance", 200, { token: a.token })).balance, BONUS);
  const first = await call(a, b);
  await expectStatus("POST", `/sessions/${first.id}/end`, 200, { token: b.token });
  for (const u of [a, b]) {
    const e = await once(u.video, "session:end", (e) => e?.sessionId === first.id);
    assert.equal(e.reason, "ended");
  }
  assert.equal((await choose(a, first.id, "MATCH")).status, "pending");
  const resolved = await choose(b, first.id, "MATCH");
  assert.equal(resolved.outcome, "mutual");
  for (const u of [a, b]) {
    assert.deepEqual(await once(u.video, "match:mutual"), { sessionId: first.id, matchId: resolved.matchId });
  }
  log("dating: queue, match, session:start, session:end, MATCH/MATCH, match:mutual");
  close(a.client);
  close(b.client);

  // A call between C at ADDR_1 (instance 1) and D at ADDR_2 (instance 2);
  // during it, instance 1 stops gracefully and instance 2 is killed.
  const c = await dater("C", ADDR[0]);
  const d = await dater("D", ADDR[1]);
  const second = await call(c, d);
  const clients = [hc, gc, c.client, d.client];
  const atAddr = (i) => clients.filter((x) => x.addr === ADDR[i]);

  for (const cmd of ["STOP 1", "KILL 2"]) {
    const moved = await command(cmd);
    const affected = moved.flatMap(atAddr);
    assert.ok(affected.length > 0, `${cmd} moved no client`);
    await Promise.all(affected.map(reconnected));
    for (const x of clients.filter((x) => !affected.includes(x))) {
      for (const s of x.sockets) assert.ok(!pending(s, "disconnect"), `${s.label} disconnected though its instance runs`);
    }
    // A /video socket that connects during the call gets session:start
    // again; the rooms get room:state again.
    for (const u of [c, d].filter((u) => affected.includes(u.client))) {
      await once(u.video, "session:start", (s) => s?.sessionId === second.id);
    }
    for (const [x, s] of [
      [hc, host],
      [gc, guest],
    ]) {
      if (affected.includes(x)) await once(s, "room:state");
    }
    assert.ok(Date.now() < second.endAt, `the call ended before the clients were back after ${cmd}: raise SESSION_DURATION_SECONDS`);
  }

  // The room still works across the reconnections.
  assert.deepEqual(await host.timeout(WAIT).emitWithAck("room:toggle_lock"), { ok: true, isLocked: false });
  assert.deepEqual(await once(guest, "room:lock_toggled"), { isLocked: false });

  // The call's timer survived both: session:end once, at endAt or later,
  // then C's MATCH against D's silence is an auto-pass.
  for (const u of [c, d]) {
    const e = await once(u.video, "session:end", (e) => e?.sessionId === second.id);
    assert.equal(e.reason, "timeout");
    assert.ok(Date.parse(e.endedAt) >= second.endAt, `session:end ${JSON.stringify(e)} before endAt`);
  }
  log(`the call started before the failures ended at ${new Date(second.endAt).toISOString()}`);
  // C's MATCH lands inside the window, unless this machine is so slow that
  // the window closed first; either way the outcome is the auto-pass.
  const late = await choose(c, second.id, "MATCH");
  assert.ok(late.status === "pending" || late.outcome === "non_mutual", `C's choice: ${JSON.stringify(late)}`);
  for (const u of [c, d]) {
    assert.deepEqual(await once(u.video, "match:non_mutual"), { sessionId: second.id, outcome: "non_mutual" });
  }
  for (const u of [c, d]) {
    assert.equal(count(u.video, "session:end", (e) => e?.sessionId === second.id), 1, `${u.name}: session:end once`);
    assert.equal(count(u.video, "match:non_mutual"), 1, `${u.name}: match:non_mutual once`);
  }
  log("the auto-pass came after the failures");

  // Nothing charged twice nor credited twice.
  for (const u of [a, b, c, d]) await checkWallet(u, 1);
  log("wallets: one bonus and one debit each");

  for (const x of clients) close(x);
  console.log("PASS");
}

main().then(
  () => process.exit(0),
  (err) => {
    console.log(`FAIL ${err?.stack ?? err}`);
    process.exit(1);
  },
);
