// Abuse limits and the JSON error body of unknown routes, with the official
// client: a member may open at most 5 sockets per instance (the default of
// ROOM_MAX_SOCKETS_PER_USER), and paths or methods that do not exist answer
// ROUTE_NOT_FOUND / METHOD_NOT_ALLOWED like every other error.

import assert from "node:assert/strict";
import { after, afterEach, describe, test } from "node:test";

import {
  EVENT_TIMEOUT,
  T,
  api,
  assertConnectError,
  assertError,
  connect,
  connectError,
  createRoom,
  disconnectAll,
  join,
  once,
  sleep,
} from "./helpers.js";

afterEach(disconnectAll);
after(disconnectAll);

/** The default of ROOM_MAX_SOCKETS_PER_USER. */
const MAX_SOCKETS = 5;

describe("sockets per member", () => {
  test("a 6th socket with one token gets connect_error TOO_MANY_SOCKETS, and nobody hears of it", T, async () => {
    const host = await createRoom();
    const first = await join(host.token);
    const sockets = [first.socket];
    for (let i = 1; i < MAX_SOCKETS; i++) sockets.push(await connect(host.token));
    assertConnectError(await connectError(host.token), "TOO_MANY_SOCKETS");
    assertConnectError(await connectError(host.token, { header: true }), "TOO_MANY_SOCKETS");

    // Each accepted socket is announced by its connected step, which may run
    // after the client has its CONNECT reply: wait until the first socket
    // has heard of all of them. The refused sockets were never announced:
    // after a lock toggle (which follows the announcements on the same
    // target), there is still exactly one user:connected per accepted socket.
    const announced = () =>
      sockets[0].rec.entries.filter((e) => e.event === "user:connected" && e.args[0]?.user?.id === host.userId).length;
    for (const deadline = Date.now() + EVENT_TIMEOUT; announced() < MAX_SOCKETS; await sleep(20)) {
      assert.ok(Date.now() < deadline, `only ${announced()} of ${MAX_SOCKETS} sockets announced`);
    }
    const ack = await sockets[0].timeout(5_000).emitWithAck("room:toggle_lock");
    assert.deepEqual(ack, { ok: true, isLocked: true });
    await once(sockets[0], "room:lock_toggled");
    assert.equal(announced(), MAX_SOCKETS, "one user:connected per accepted socket");
  });

  test("closing a socket frees its slot", T, async () => {
    const host = await createRoom();
    const sockets = [];
    for (let i = 0; i < MAX_SOCKETS; i++) sockets.push(await connect(host.token));
    assertConnectError(await connectError(host.token), "TOO_MANY_SOCKETS");
    sockets.pop().disconnect();
    // The server frees the slot once it has seen the disconnection.
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        await connect(host.token);
        break;
      } catch (err) {
        assertConnectError(err, "TOO_MANY_SOCKETS");
        assert.ok(Date.now() < deadline, "the slot was not freed within 10 s");
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  });
});

describe("unknown routes", () => {
  test("an unknown path is 404 ROUTE_NOT_FOUND with the JSON error body", T, async () => {
    assertError(await api("GET", "/no/such/route"), 404, "ROUTE_NOT_FOUND");
    assertError(await api("POST", "/rooms/ABCD/nope", { body: {} }), 404, "ROUTE_NOT_FOUND");
  });

  test("a wrong method is 405 METHOD_NOT_ALLOWED with Allow", T, async () => {
    let res = await api("DELETE", "/rooms");
    assertError(res, 405, "METHOD_NOT_ALLOWED");
    assert.equal(res.headers.get("allow"), "OPTIONS, POST");
    res = await api("GET", "/rooms/ABCD/join");
    assertError(res, 405, "METHOD_NOT_ALLOWED");
    assert.equal(res.headers.get("allow"), "OPTIONS, POST");
    res = await api("PUT", "/rooms/ABCD", { body: {} });
    assertError(res, 405, "METHOD_NOT_ALLOWED");
    assert.equal(res.headers.get("allow"), "GET, HEAD, OPTIONS");
  });
});
