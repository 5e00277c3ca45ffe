// ROOM_CLOSE_ON_HOST_LEAVE=true: the room closes when its host leaves.

import assert from "node:assert/strict";
import { after, afterEach, test } from "node:test";

import {
  BASE_URL_CLOSE_ON_HOST_LEAVE,
  T,
  api,
  assertConnectError,
  assertError,
  connectError,
  disconnectAll,
  emitAck,
  expectNoEvent,
  expectServerDisconnect,
  getRoom,
  once,
  roomWith,
} from "./helpers.js";

afterEach(disconnectAll);
after(disconnectAll);

const skip = BASE_URL_CLOSE_ON_HOST_LEAVE ? false : "BASE_URL_CLOSE_ON_HOST_LEAVE not set";

test("a guest leaving does not close the room; the host leaving closes it with HOST_LEFT", { ...T, skip }, async () => {
  const base = BASE_URL_CLOSE_ON_HOST_LEAVE;
  const { code, host, guests } = await roomWith(3, { base });
  const [a, b, c] = guests;

  c.socket.emit("room:leave");
  await expectServerDisconnect(c.socket);
  for (const s of [host.socket, a.socket, b.socket]) {
    assert.deepEqual(await once(s, "user:left"), { reason: "LEFT", userId: c.ticket.userId });
  }
  assert.equal((await getRoom(code, { base })).hostId, host.ticket.userId);

  host.socket.emit("room:leave");
  await expectServerDisconnect(host.socket);
  for (const s of [a.socket, b.socket]) {
    assert.deepEqual(await once(s, "room:closed"), { reason: "HOST_LEFT" });
    await expectServerDisconnect(s);
  }
  await expectNoEvent(a.socket, "room:host_updated", 0);
  await expectNoEvent(a.socket, "user:left", 0);

  assertError(await api("GET", `/rooms/${code}`, { base }), 404, "ROOM_NOT_FOUND");
  for (const m of [host, a, b]) {
    assertConnectError(await connectError(m.ticket.token, { base }), "ROOM_NOT_FOUND");
    assertError(await api("POST", `/rooms/${code}/rejoin`, { base, token: m.ticket.token }), 404, "ROOM_NOT_FOUND");
  }
});

test("a transferred host leaving closes the room too", { ...T, skip }, async () => {
  const base = BASE_URL_CLOSE_ON_HOST_LEAVE;
  const { code, host, guests } = await roomWith(1, { base });
  assert.deepEqual(await emitAck(host.socket, "room:transfer_host", { newHostId: guests[0].ticket.userId }), { ok: true });
  await once(host.socket, "room:host_updated");
  guests[0].socket.emit("room:leave");
  assert.deepEqual(await once(host.socket, "room:closed"), { reason: "HOST_LEFT" });
  await expectServerDisconnect(host.socket);
  assertError(await api("GET", `/rooms/${code}`, { base }), 404, "ROOM_NOT_FOUND");
});
