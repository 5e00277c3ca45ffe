// Two server instances sharing one Redis behave as one: members connected
// to different instances see each other's events, and kicks and closes
// made through one instance disconnect sockets held by the other.

import assert from "node:assert/strict";
import { after, afterEach, describe, test } from "node:test";

import {
  BASE_URL,
  BASE_URL_2,
  T,
  api,
  assertConnectError,
  assertError,
  connectError,
  createRoom,
  disconnectAll,
  emitAck,
  expectServerDisconnect,
  getRoom,
  join,
  joinRoom,
  once,
  onceArgs,
} from "./helpers.js";

afterEach(disconnectAll);
after(disconnectAll);

const skip = BASE_URL_2 ? false : "BASE_URL_2 not set";

describe("across instances", { skip }, () => {
  test("REST state is shared: create on one, read and join on the other", T, async () => {
    const host = await createRoom({ base: BASE_URL });
    const room = await getRoom(host.roomCode, { base: BASE_URL_2 });
    assert.equal(room.hostId, host.userId);
    const guest = await joinRoom(host.roomCode, { base: BASE_URL_2 });
    const res = await api("POST", `/rooms/${host.roomCode}/rejoin`, { base: BASE_URL, token: guest.token });
    assert.equal(res.status, 200, JSON.stringify(res.body));
  });

  test("members on different instances see each other's events; kick and close cross instances", T, async () => {
    const hostT = await createRoom({ base: BASE_URL });
    const code = hostT.roomCode;
    const bT = await joinRoom(code, { base: BASE_URL_2 });
    const cT = await joinRoom(code, { base: BASE_URL_2 });

    // A on instance 1, B on instance 2.
    const { socket: a } = await join(hostT.token, { base: BASE_URL });
    const { socket: b, state: bState } = await join(bT.token, { base: BASE_URL_2 });
    assert.deepEqual(
      bState.users.map((u) => [u.id, u.isConnected]),
      [
        [hostT.userId, true],
        [bT.userId, true],
        [cT.userId, false],
      ],
    );
    assert.equal((await once(a, "user:connected", undefined, (p) => p?.user?.id === bT.userId)).user.isConnected, true);

    // Instance 1 → instance 2.
    assert.deepEqual(await emitAck(a, "room:toggle_lock"), { ok: true, isLocked: true });
    assert.deepEqual(await once(b, "room:lock_toggled"), { isLocked: true });
    assertError(await api("POST", `/rooms/${code}/join`, { base: BASE_URL_2, body: { displayName: "Late" } }), 400, "ROOM_LOCKED");
    assert.deepEqual(await emitAck(a, "room:toggle_lock"), { ok: true, isLocked: false });
    assert.deepEqual(await once(b, "room:lock_toggled"), { isLocked: false });

    // Instance 2 → instance 1: a second socket of B, then its presence.
    const { socket: b2 } = await join(bT.token, { base: BASE_URL });
    await once(b, "user:connected", undefined, (p) => p?.user?.id === bT.userId);
    b2.disconnect();
    b.disconnect();
    const gone = await once(a, "user:disconnected");
    assert.equal(gone.user.id, bT.userId);
    const { socket: b3 } = await join(bT.token, { base: BASE_URL_2 });
    await once(a, "user:connected", undefined, (p) => p?.user?.id === bT.userId);

    // A kick made on instance 1 disconnects B's socket on instance 2.
    assert.deepEqual(await emitAck(a, "room:kick", { kickUserId: bT.userId }), { ok: true });
    assert.deepEqual(await onceArgs(b3, "user:kicked"), []);
    await expectServerDisconnect(b3);
    assert.deepEqual(await once(a, "user:left"), { reason: "KICKED", userId: bT.userId });
    assertConnectError(await connectError(bT.token, { base: BASE_URL }), "MEMBER_NOT_FOUND");
    assertConnectError(await connectError(bT.token, { base: BASE_URL_2 }), "MEMBER_NOT_FOUND");

    // C, on instance 2, is made host; C closes the room from instance 2 and A,
    // on instance 1, is told and disconnected.
    const { socket: c } = await join(cT.token, { base: BASE_URL_2 });
    await once(a, "user:connected", undefined, (p) => p?.user?.id === cT.userId);
    assert.deepEqual(await emitAck(a, "room:transfer_host", { newHostId: cT.userId }), { ok: true });
    assert.deepEqual(await once(c, "room:host_updated"), { hostId: cT.userId });
    c.emit("room:close");
    for (const s of [a, c]) {
      assert.deepEqual(await once(s, "room:closed"), { reason: "HOST_CLOSED" });
      await expectServerDisconnect(s);
    }
    assertError(await api("GET", `/rooms/${code}`, { base: BASE_URL }), 404, "ROOM_NOT_FOUND");
    assertConnectError(await connectError(hostT.token, { base: BASE_URL }), "ROOM_NOT_FOUND");
  });

  test("a leave on one instance disconnects the user's sockets on both and promotes across instances", T, async () => {
    const hostT = await createRoom({ base: BASE_URL_2 });
    const gT = await joinRoom(hostT.roomCode, { base: BASE_URL });
    const { socket: h1 } = await join(hostT.token, { base: BASE_URL });
    const { socket: h2 } = await join(hostT.token, { base: BASE_URL_2 });
    const { socket: g } = await join(gT.token, { base: BASE_URL_2 });
    h2.emit("room:leave");
    await expectServerDisconnect(h1);
    await expectServerDisconnect(h2);
    assert.deepEqual(await once(g, "user:left"), { reason: "LEFT", userId: hostT.userId });
    assert.deepEqual(await once(g, "room:host_updated"), { hostId: gT.userId });
  });
});
