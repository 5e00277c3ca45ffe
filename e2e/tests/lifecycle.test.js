// Leaving and closing rooms: room:leave, host succession, room:close, and
// what happens to tokens afterwards.

import assert from "node:assert/strict";
import { after, afterEach, describe, test } from "node:test";

import {
  T,
  api,
  assertAckError,
  assertConnectError,
  assertError,
  connectError,
  disconnectAll,
  emitAck,
  expectNoEvent,
  expectRoomError,
  expectServerDisconnect,
  getRoom,
  join,
  once,
  received,
  roomWith,
  uniqueName,
} from "./helpers.js";

afterEach(disconnectAll);
after(disconnectAll);

describe("room:leave", () => {
  test("a guest leaves: disconnected, user:left LEFT to the others, token rejected", T, async () => {
    const { code, host, guests } = await roomWith(2);
    const [a, b] = guests;
    a.socket.emit("room:leave");
    await expectServerDisconnect(a.socket);

    const left = { reason: "LEFT", userId: a.ticket.userId };
    for (const s of [host.socket, b.socket]) {
      assert.deepEqual(await once(s, "user:left"), left);
    }
    await expectNoEvent(host.socket, "room:host_updated", 0);
    await expectNoEvent(host.socket, "user:disconnected");
    assert.equal((await getRoom(code)).hostId, host.ticket.userId);

    assertConnectError(await connectError(a.ticket.token), "MEMBER_NOT_FOUND");
    assertConnectError(await connectError(a.ticket.token, { header: true }), "MEMBER_NOT_FOUND");
    assertError(await api("POST", `/rooms/${code}/rejoin`, { token: a.ticket.token }), 404, "MEMBER_NOT_FOUND");

    const { state } = await join(b.ticket.token);
    assert.deepEqual(
      state.users.map((u) => u.id),
      [host.ticket.userId, b.ticket.userId],
    );
  });

  test("leaving disconnects every socket of the user", T, async () => {
    const { host, guests } = await roomWith(1);
    const g = guests[0];
    const { socket: second } = await join(g.ticket.token);
    second.emit("room:leave");
    await expectServerDisconnect(second);
    await expectServerDisconnect(g.socket);
    assert.deepEqual(await once(host.socket, "user:left"), { reason: "LEFT", userId: g.ticket.userId });
  });

  test("a member who left frees a slot of a full room", T, async () => {
    const { code, guests } = await roomWith(1, { maxUsers: 2 });
    assertError(await api("POST", `/rooms/${code}/join`, { body: { displayName: uniqueName() } }), 400, "ROOM_FULL");
    guests[0].socket.emit("room:leave");
    await expectServerDisconnect(guests[0].socket);
    const res = await api("POST", `/rooms/${code}/join`, { body: { displayName: uniqueName() } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
  });

  test("host succession with three members follows join order", T, async () => {
    const { code, host, guests } = await roomWith(2);
    const [a, b] = guests;

    // The host leaves: the longest-present remaining member, a, succeeds.
    host.socket.emit("room:leave");
    await expectServerDisconnect(host.socket);
    for (const s of [a.socket, b.socket]) {
      assert.deepEqual(await once(s, "user:left"), { reason: "LEFT", userId: host.ticket.userId });
      assert.deepEqual(await once(s, "room:host_updated"), { hostId: a.ticket.userId });
      const order = received(s);
      assert.ok(order.indexOf("user:left") < order.indexOf("room:host_updated"), `order: ${order}`);
    }
    assert.equal((await getRoom(code)).hostId, a.ticket.userId);
    // The new host has the powers.
    assert.deepEqual(await emitAck(a.socket, "room:toggle_lock"), { ok: true, isLocked: true });
    assertAckError(await emitAck(b.socket, "room:toggle_lock"), "NOT_HOST");

    // a leaves too: b is the only one left and becomes host.
    a.socket.emit("room:leave");
    await expectServerDisconnect(a.socket);
    assert.deepEqual(await once(b.socket, "user:left"), { reason: "LEFT", userId: a.ticket.userId });
    assert.deepEqual(await once(b.socket, "room:host_updated"), { hostId: b.ticket.userId });
    assert.equal((await getRoom(code)).hostId, b.ticket.userId);
    const { state } = await join(b.ticket.token);
    assert.deepEqual(
      state.users.map((u) => [u.id, u.isHost]),
      [[b.ticket.userId, true]],
    );

    // The last member leaves: the room is gone.
    b.socket.emit("room:leave");
    await expectServerDisconnect(b.socket);
    assertError(await api("GET", `/rooms/${code}`), 404, "ROOM_NOT_FOUND");
    assertError(await api("POST", `/rooms/${code}/join`, { body: { displayName: uniqueName() } }), 404, "ROOM_NOT_FOUND");
    assertConnectError(await connectError(b.ticket.token), "ROOM_NOT_FOUND");
  });

  test("succession goes to the longest-present member, not to the previous host", T, async () => {
    const { code, host, guests } = await roomWith(2);
    const [a, b] = guests;
    // b becomes host, then leaves: the original creator is the longest present.
    assert.deepEqual(await emitAck(host.socket, "room:transfer_host", { newHostId: b.ticket.userId }), { ok: true });
    await once(a.socket, "room:host_updated");
    b.socket.emit("room:leave");
    for (const s of [host.socket, a.socket]) {
      assert.deepEqual(await once(s, "room:host_updated", undefined, (p) => p?.hostId !== b.ticket.userId), { hostId: host.ticket.userId });
    }
    assert.equal((await getRoom(code)).hostId, host.ticket.userId);
  });

  test("a host who is alone closes the room by leaving", T, async () => {
    const { code, host } = await roomWith(0);
    host.socket.emit("room:leave");
    await expectServerDisconnect(host.socket);
    assertError(await api("GET", `/rooms/${code}`), 404, "ROOM_NOT_FOUND");
    assertError(await api("POST", `/rooms/${code}/rejoin`, { token: host.ticket.token }), 404, "ROOM_NOT_FOUND");
  });
});

describe("room:close", () => {
  test("the host closes: room:closed HOST_CLOSED to every socket, all disconnected, every token dead", T, async () => {
    const { code, host, guests } = await roomWith(2);
    const { socket: hostTab2 } = await join(host.ticket.token);
    const offline = await api("POST", `/rooms/${code}/join`, { body: { displayName: uniqueName() } });
    assert.equal(offline.status, 200);

    host.socket.emit("room:close");
    const sockets = [host.socket, hostTab2, ...guests.map((g) => g.socket)];
    for (const s of sockets) {
      assert.deepEqual(await once(s, "room:closed"), { reason: "HOST_CLOSED" });
      await expectServerDisconnect(s);
      const order = received(s);
      assert.ok(order.indexOf("room:closed") < order.indexOf("disconnect"), `order: ${order}`);
      assert.ok(!order.includes("user:disconnected"), `no user:disconnected: ${order}`);
    }

    assertError(await api("GET", `/rooms/${code}`), 404, "ROOM_NOT_FOUND");
    assertError(await api("POST", `/rooms/${code}/join`, { body: { displayName: uniqueName() } }), 404, "ROOM_NOT_FOUND");
    for (const t of [host.ticket, ...guests.map((g) => g.ticket), offline.body]) {
      assertConnectError(await connectError(t.token), "ROOM_NOT_FOUND");
      assertError(await api("POST", `/rooms/${code}/rejoin`, { token: t.token }), 404, "ROOM_NOT_FOUND");
    }
  });

  test("NOT_HOST for a guest; the room stays open", T, async () => {
    const { code, host, guests } = await roomWith(1);
    assertAckError(await emitAck(guests[0].socket, "room:close"), "NOT_HOST");
    await expectRoomError(guests[0].socket, "NOT_HOST");
    await expectNoEvent(host.socket, "room:closed");
    assert.equal(guests[0].socket.connected, true);
    assert.equal((await getRoom(code)).state, "CREATED");
  });

});

// The acknowledgement of room:leave and room:close must reach the client
// before the server disconnects the socket: once disconnected, the client
// drops it. Each is tried a few times, in fresh rooms, since a wrong order
// shows up as a race.
describe("acknowledgements of room:leave and room:close", () => {
  const ROUNDS = 10;

  test("room:leave by a guest is acknowledged {ok: true} before the disconnect", T, async () => {
    const acks = [];
    for (let i = 0; i < ROUNDS; i++) {
      const { guests } = await roomWith(1);
      const g = guests[0].socket;
      acks.push(await emitAck(g, "room:leave").catch((err) => `no ack: ${err.message}`));
      await expectServerDisconnect(g);
    }
    assert.deepEqual(acks, Array(ROUNDS).fill({ ok: true }));
  });

  test("room:leave by the host is acknowledged {ok: true} before the disconnect", T, async () => {
    const acks = [];
    for (let i = 0; i < ROUNDS; i++) {
      const { host, guests } = await roomWith(1);
      acks.push(await emitAck(host.socket, "room:leave").catch((err) => `no ack: ${err.message}`));
      await expectServerDisconnect(host.socket);
      await once(guests[0].socket, "room:host_updated");
    }
    assert.deepEqual(acks, Array(ROUNDS).fill({ ok: true }));
  });

  test("room:close is acknowledged {ok: true} before the disconnect", T, async () => {
    const acks = [];
    for (let i = 0; i < ROUNDS; i++) {
      const { host } = await roomWith(1);
      acks.push(await emitAck(host.socket, "room:close").catch((err) => `no ack: ${err.message}`));
      await expectServerDisconnect(host.socket);
    }
    assert.deepEqual(acks, Array(ROUNDS).fill({ ok: true }));
  });
});
