// Host controls over Socket.IO: room:toggle_lock, room:kick,
// room:transfer_host, with their acknowledgements, broadcasts and errors.

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
  joinRoom,
  once,
  onceArgs,
  received,
  roomWith,
  uniqueName,
} from "./helpers.js";

afterEach(disconnectAll);
after(disconnectAll);

const UNKNOWN_ID = "00000000-0000-4000-8000-000000000000";

describe("room:toggle_lock", () => {
  test("locks: ack {ok, isLocked: true}, room:lock_toggled to everyone, joins refused with 400 ROOM_LOCKED", T, async () => {
    const { code, host, guests } = await roomWith(1);
    const ack = await emitAck(host.socket, "room:toggle_lock");
    assert.deepEqual(ack, { ok: true, isLocked: true });
    for (const s of [host.socket, guests[0].socket]) {
      assert.deepEqual(await once(s, "room:lock_toggled"), { isLocked: true });
    }
    assert.equal((await getRoom(code)).isLocked, true);
    const res = await api("POST", `/rooms/${code}/join`, { body: { displayName: uniqueName() } });
    assertError(res, 400, "ROOM_LOCKED");

    // Members already in may still come back.
    guests[0].socket.disconnect();
    const rejoin = await api("POST", `/rooms/${code}/rejoin`, { token: guests[0].ticket.token });
    assert.equal(rejoin.status, 200, JSON.stringify(rejoin.body));
    const { state } = await join(rejoin.body.token);
    assert.equal(state.room.isLocked, true);
  });

  test("unlocks: ack {ok, isLocked: false}, room:lock_toggled, joins accepted again", T, async () => {
    const { code, host, guests } = await roomWith(1);
    assert.deepEqual(await emitAck(host.socket, "room:toggle_lock"), { ok: true, isLocked: true });
    assert.deepEqual(await emitAck(host.socket, "room:toggle_lock"), { ok: true, isLocked: false });
    for (const s of [host.socket, guests[0].socket]) {
      assert.deepEqual(await once(s, "room:lock_toggled"), { isLocked: true });
      assert.deepEqual(await once(s, "room:lock_toggled"), { isLocked: false });
    }
    assert.equal((await getRoom(code)).isLocked, false);
    await joinRoom(code);
  });

  test("works without an acknowledgement callback", T, async () => {
    const { host, guests } = await roomWith(1);
    host.socket.emit("room:toggle_lock");
    assert.deepEqual(await once(guests[0].socket, "room:lock_toggled"), { isLocked: true });
    assert.deepEqual(await once(host.socket, "room:lock_toggled"), { isLocked: true });
  });

  test("NOT_HOST for a guest: failed ack, error:room, nothing changes", T, async () => {
    const { code, host, guests } = await roomWith(1);
    const ack = await emitAck(guests[0].socket, "room:toggle_lock");
    assertAckError(ack, "NOT_HOST");
    await expectRoomError(guests[0].socket, "NOT_HOST");
    await expectNoEvent(host.socket, "room:lock_toggled");
    await expectNoEvent(host.socket, "error:room", 0);
    assert.equal((await getRoom(code)).isLocked, false);

    // Without an ack callback the error still arrives as error:room.
    guests[0].socket.emit("room:toggle_lock");
    await expectRoomError(guests[0].socket, "NOT_HOST");
  });
});

describe("room:kick", () => {
  test("the kicked user gets user:kicked and is disconnected; the room gets user:left KICKED", T, async () => {
    const { code, host, guests } = await roomWith(2);
    const [victim, other] = guests;
    const ack = await emitAck(host.socket, "room:kick", { kickUserId: victim.ticket.userId });
    assert.deepEqual(ack, { ok: true });

    const args = await onceArgs(victim.socket, "user:kicked");
    assert.deepEqual(args, [], "user:kicked has no payload");
    await expectServerDisconnect(victim.socket);
    const order = received(victim.socket);
    assert.ok(order.indexOf("user:kicked") < order.indexOf("disconnect"), `order: ${order}`);

    const left = { reason: "KICKED", userId: victim.ticket.userId };
    for (const s of [host.socket, other.socket]) {
      assert.deepEqual(await once(s, "user:left"), left);
      assert.equal(s.connected, true);
    }
    await expectNoEvent(host.socket, "user:kicked", 0);
    await expectNoEvent(other.socket, "user:kicked", 0);
    // A kick is not a disconnect of a member: no user:disconnected.
    await expectNoEvent(host.socket, "user:disconnected");

    // The token stops working, at connect and at rejoin.
    assertConnectError(await connectError(victim.ticket.token), "MEMBER_NOT_FOUND");
    assertError(await api("POST", `/rooms/${code}/rejoin`, { token: victim.ticket.token }), 404, "MEMBER_NOT_FOUND");

    // The member is gone from the room.
    const { state } = await join(other.ticket.token);
    assert.deepEqual(
      state.users.map((u) => u.id),
      [host.ticket.userId, other.ticket.userId],
    );
  });

  test("every socket of the kicked user is disconnected", T, async () => {
    const { host, guests } = await roomWith(1);
    const g = guests[0];
    const { socket: second } = await join(g.ticket.token);
    assert.deepEqual(await emitAck(host.socket, "room:kick", { kickUserId: g.ticket.userId }), { ok: true });
    for (const s of [g.socket, second]) {
      assert.deepEqual(await onceArgs(s, "user:kicked"), []);
      await expectServerDisconnect(s);
    }
  });

  test("a kicked user's slot frees up in a full room", T, async () => {
    const { code, host, guests } = await roomWith(1, { maxUsers: 2 });
    assertError(await api("POST", `/rooms/${code}/join`, { body: { displayName: uniqueName() } }), 400, "ROOM_FULL");
    assert.deepEqual(await emitAck(host.socket, "room:kick", { kickUserId: guests[0].ticket.userId }), { ok: true });
    await expectServerDisconnect(guests[0].socket);
    await joinRoom(code);
  });

  test("CANNOT_KICK_SELF, MEMBER_NOT_FOUND and NOT_HOST", T, async () => {
    const { host, guests } = await roomWith(2);
    const [a, b] = guests;

    assertAckError(await emitAck(host.socket, "room:kick", { kickUserId: host.ticket.userId }), "CANNOT_KICK_SELF");
    await expectRoomError(host.socket, "CANNOT_KICK_SELF");

    assertAckError(await emitAck(host.socket, "room:kick", { kickUserId: UNKNOWN_ID }), "MEMBER_NOT_FOUND");
    await expectRoomError(host.socket, "MEMBER_NOT_FOUND");

    assertAckError(await emitAck(a.socket, "room:kick", { kickUserId: b.ticket.userId }), "NOT_HOST");
    await expectRoomError(a.socket, "NOT_HOST");

    for (const s of [host.socket, a.socket, b.socket]) {
      await expectNoEvent(s, "user:left", 0);
      assert.equal(s.connected, true);
    }
    await expectNoEvent(b.socket, "user:kicked");
  });

  test("INVALID_PAYLOAD for a missing, empty or malformed payload", T, async () => {
    const { host, guests } = await roomWith(1);
    for (const args of [[], [{}], [{ kickUserId: "" }], [{ kickUserId: 42 }], ["just a string"], [{ kickUserId: guests[0].ticket.userId, extra: 1 }]]) {
      const ack = await emitAck(host.socket, "room:kick", ...args);
      assertAckError(ack, "INVALID_PAYLOAD");
      await expectRoomError(host.socket, "INVALID_PAYLOAD");
    }
    await expectNoEvent(guests[0].socket, "user:kicked");
    assert.equal(guests[0].socket.connected, true);
  });
});

describe("room:transfer_host", () => {
  test("ack ok, room:host_updated to everyone, the new host has the powers and the old one not", T, async () => {
    const { code, host, guests } = await roomWith(2);
    const [a, b] = guests;
    assert.deepEqual(await emitAck(host.socket, "room:transfer_host", { newHostId: b.ticket.userId }), { ok: true });
    for (const s of [host.socket, a.socket, b.socket]) {
      assert.deepEqual(await once(s, "room:host_updated"), { hostId: b.ticket.userId });
    }
    assert.equal((await getRoom(code)).hostId, b.ticket.userId);

    assertAckError(await emitAck(host.socket, "room:toggle_lock"), "NOT_HOST");
    await expectRoomError(host.socket, "NOT_HOST");
    assert.deepEqual(await emitAck(b.socket, "room:toggle_lock"), { ok: true, isLocked: true });

    // room:state of a new connection shows the new host.
    const { state } = await join(a.ticket.token);
    assert.equal(state.room.hostId, b.ticket.userId);
    assert.deepEqual(
      state.users.map((u) => u.isHost),
      [false, false, true],
    );
  });

  test("ALREADY_HOST, MEMBER_NOT_FOUND, NOT_HOST and INVALID_PAYLOAD", T, async () => {
    const { code, host, guests } = await roomWith(1);
    const g = guests[0];

    assertAckError(await emitAck(host.socket, "room:transfer_host", { newHostId: host.ticket.userId }), "ALREADY_HOST");
    await expectRoomError(host.socket, "ALREADY_HOST");

    assertAckError(await emitAck(host.socket, "room:transfer_host", { newHostId: UNKNOWN_ID }), "MEMBER_NOT_FOUND");
    await expectRoomError(host.socket, "MEMBER_NOT_FOUND");

    assertAckError(await emitAck(g.socket, "room:transfer_host", { newHostId: g.ticket.userId }), "NOT_HOST");
    await expectRoomError(g.socket, "NOT_HOST");

    for (const args of [[], [{}], [{ newHostId: "" }], [{ newHostId: true }], [[g.ticket.userId]], [{ newHostId: g.ticket.userId, extra: 1 }]]) {
      assertAckError(await emitAck(host.socket, "room:transfer_host", ...args), "INVALID_PAYLOAD");
      await expectRoomError(host.socket, "INVALID_PAYLOAD");
    }

    await expectNoEvent(g.socket, "room:host_updated");
    assert.equal((await getRoom(code)).hostId, host.ticket.userId);
  });
});

describe("event rate limit", () => {
  test("a socket flooding events gets RATE_LIMITED acks and error:room", T, async () => {
    const { host, guests } = await roomWith(1);
    const g = guests[0];
    // The guest's events all fail with NOT_HOST until the bucket is empty.
    // A loaded server can take longer to handle 40 events than the bucket
    // takes to refill (10 per second), so the guest floods in rounds of 40
    // until one of them is limited.
    const acks = [];
    for (let round = 0; round < 10 && !acks.some((a) => a?.error?.code === "RATE_LIMITED"); round++) {
      acks.push(...(await Promise.all(Array.from({ length: 40 }, () => emitAck(g.socket, "room:toggle_lock")))));
    }
    const codes = acks.map((a) => a?.error?.code);
    assert.ok(codes.includes("NOT_HOST"), `codes: ${codes}`);
    assert.ok(codes.includes("RATE_LIMITED"), `codes: ${codes}`);
    for (const a of acks) assert.equal(a.ok, false);
    assertAckError(acks[codes.indexOf("RATE_LIMITED")], "RATE_LIMITED");
    await expectRoomError(g.socket, "RATE_LIMITED");
    // The socket stays connected, and other sockets are not limited.
    assert.equal(g.socket.connected, true);
    assert.deepEqual(await emitAck(host.socket, "room:toggle_lock"), { ok: true, isLocked: true });
  });
});
