// The demo page's own Socket.IO client (examples/server/web/sio.js) in
// Node, against a scripted WebSocket: the packets it writes and reads, the
// namespaces sharing one connection, reconnection.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

// The file is a browser module outside any package.json: load it as one.
const src = readFileSync(new URL("../../examples/server/web/sio.js", import.meta.url), "utf8");
const { Manager, decodePacket, encodePacket } = await import("data:text/javascript," + encodeURIComponent(src));

/** A WebSocket whose server side the test plays. */
class FakeWebSocket {
  static created = [];
  static waiters = [];
  constructor(url) {
    this.url = url;
    this.sent = [];
    this.watchers = [];
    this.closed = false;
    FakeWebSocket.created.push(this);
    for (const w of FakeWebSocket.waiters.splice(0)) w(this);
  }
  send(data) {
    this.sent.push(data);
    for (const w of this.watchers.splice(0)) w();
  }
  close() {
    if (this.closed) return;
    this.closed = true;
    queueMicrotask(() => this.onclose?.({}));
  }
  /** The server sends text. */
  receive(text) {
    this.onmessage({ data: text });
  }
  /** Resolves with the first packet sent (now or later) that equals want. */
  async expectSent(want) {
    for (;;) {
      if (this.sent.includes(want)) return;
      await new Promise((r) => this.watchers.push(r));
    }
  }
  /** Resolves with the next WebSocket created after n exist. */
  static async nth(n) {
    while (FakeWebSocket.created.length <= n) await new Promise((r) => FakeWebSocket.waiters.push(r));
    return FakeWebSocket.created[n];
  }
}
globalThis.WebSocket = FakeWebSocket;

const once = (emitter, name) => new Promise((resolve) => {
  const fn = (...args) => {
    emitter.off(name, fn);
    resolve(args);
  };
  emitter.on(name, fn);
});

const OPEN = '0{"sid":"e1","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}';

test("packets are encoded and decoded as Socket.IO v5 writes them", () => {
  assert.equal(encodePacket("0", "/rooms", { token: "t" }), '0/rooms,{"token":"t"}');
  assert.equal(encodePacket("2", "/rooms", ["room:kick", { kickUserId: "u" }], 7), '2/rooms,7["room:kick",{"kickUserId":"u"}]');
  assert.equal(encodePacket("1", "/rooms"), "1/rooms,");
  assert.equal(encodePacket("2", "/", ["hi"]), '2["hi"]');
  assert.deepEqual(decodePacket('0/rooms,{"sid":"s"}'), { type: "0", nsp: "/rooms", id: undefined, data: { sid: "s" } });
  assert.deepEqual(decodePacket('3/chat,12[{"ok":true}]'), { type: "3", nsp: "/chat", id: 12, data: [{ ok: true }] });
  assert.deepEqual(decodePacket('4/video,{"message":"m","data":{"code":"C"}}'), {
    type: "4", nsp: "/video", id: undefined, data: { message: "m", data: { code: "C" } },
  });
  assert.deepEqual(decodePacket("1/rooms,"), { type: "1", nsp: "/rooms", id: undefined, data: undefined });
  assert.deepEqual(decodePacket('2["e",1]'), { type: "2", nsp: "/", id: undefined, data: ["e", 1] });
});

test("one connection: connect with auth, events, acks, pings, several namespaces, a refused connect", async () => {
  const start = FakeWebSocket.created.length;
  const m = new Manager("ws://example.test/socket.io/?EIO=4&transport=websocket");
  const rooms = m.socket("/rooms", { auth: { token: "room-token" } });
  const video = m.socket("/video", { auth: () => ({ token: "access" }) });
  rooms.connect();
  video.connect();
  const ws = await FakeWebSocket.nth(start);
  assert.equal(FakeWebSocket.created.length, start + 1, "one WebSocket for both namespaces");
  assert.equal(ws.url, "ws://example.test/socket.io/?EIO=4&transport=websocket");

  ws.receive(OPEN);
  await ws.expectSent('40/rooms,{"token":"room-token"}');
  await ws.expectSent('40/video,{"token":"access"}');

  const connected = once(rooms, "connect");
  ws.receive('40/rooms,{"sid":"s1"}');
  await connected;
  assert.equal(rooms.connected, true);
  assert.equal(rooms.id, "s1");

  const refused = once(video, "connect_error");
  ws.receive('44/video,{"message":"banned","data":{"code":"USER_BANNED","until":"2030-01-01T00:00:00Z"}}');
  const [err] = await refused;
  assert.equal(err.message, "banned");
  assert.deepEqual(err.data, { code: "USER_BANNED", until: "2030-01-01T00:00:00Z" });
  assert.equal(video.active, false);

  const state = once(rooms, "room:state");
  ws.receive('42/rooms,["room:state",{"room":{"code":"ABCD"},"users":[]}]');
  assert.deepEqual((await state)[0], { room: { code: "ABCD" }, users: [] });

  let acked;
  const ack = new Promise((r) => (acked = r));
  rooms.emit("room:toggle_lock", (res) => acked(res));
  await ws.expectSent('42/rooms,0["room:toggle_lock"]');
  ws.receive('43/rooms,0[{"ok":true,"isLocked":true}]');
  assert.deepEqual(await ack, { ok: true, isLocked: true });

  ws.receive("2");
  await ws.expectSent("3");

  // The server ends the socket: no reconnection, and with no socket left
  // the connection closes.
  const gone = once(rooms, "disconnect");
  ws.receive("41/rooms,");
  assert.deepEqual(await gone, ["io server disconnect"]);
  assert.equal(ws.closed, true);
});

test("a lost connection reconnects with back-off and connects the namespace again with a fresh auth", async () => {
  const start = FakeWebSocket.created.length;
  const m = new Manager("ws://example.test/socket.io/?EIO=4&transport=websocket", { reconnectionDelay: 5, reconnectionDelayMax: 20 });
  let n = 0;
  const s = m.socket("/chat", { auth: () => ({ token: `t${++n}` }) });
  s.connect();
  const ws1 = await FakeWebSocket.nth(start);
  ws1.receive(OPEN);
  await ws1.expectSent('40/chat,{"token":"t1"}');
  ws1.receive('40/chat,{"sid":"a"}');

  const lost = once(s, "disconnect");
  const attempt = once(m, "reconnect_attempt");
  ws1.close();
  assert.deepEqual(await lost, ["transport close"]);
  assert.deepEqual(await attempt, [1]);

  // Events emitted meanwhile are sent once connected again.
  s.emit("hello", { x: 1 });
  const ws2 = await FakeWebSocket.nth(start + 1);
  const back = once(s, "connect");
  ws2.receive(OPEN);
  await ws2.expectSent('40/chat,{"token":"t2"}');
  ws2.receive('40/chat,{"sid":"b"}');
  await back;
  await ws2.expectSent('42/chat,["hello",{"x":1}]');
  assert.equal(s.id, "b");

  s.disconnect();
  await ws2.expectSent("41/chat,");
  assert.equal(ws2.closed, true);
});
