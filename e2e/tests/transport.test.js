// The Engine.IO transports: with the client's defaults the connection
// starts on HTTP long-polling and upgrades to WebSocket; with
// transports: ["websocket"] it never touches polling.

import assert from "node:assert/strict";
import { after, afterEach, test } from "node:test";

import {
  EVENT_TIMEOUT,
  SIO_TRANSPORTS,
  T,
  createRoom,
  disconnectAll,
  emitAck,
  join,
  joinRoom,
  once,
} from "./helpers.js";

afterEach(disconnectAll);
after(disconnectAll);

/** Resolves once the socket's engine runs on WebSocket. */
function upgraded(socket) {
  const engine = socket.io.engine;
  if (engine.transport.name === "websocket") return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no upgrade within ${EVENT_TIMEOUT} ms; transport ${engine.transport.name}`)), EVENT_TIMEOUT);
    engine.once("upgrade", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

test(`transport mode "${SIO_TRANSPORTS}": the connection ends up on WebSocket and events flow both ways`, T, async () => {
  const host = await createRoom();
  const { socket } = await join(host.token);
  await upgraded(socket);
  assert.equal(socket.io.engine.transport.name, "websocket");
  if (SIO_TRANSPORTS === "websocket") {
    assert.deepEqual(socket.rec.transports, ["websocket"], "polling was never used");
  } else {
    assert.deepEqual(socket.rec.transports, ["polling", "websocket"], "started on polling, then upgraded");
  }

  // Over the upgraded transport: an ack, a broadcast, an event from another member.
  assert.deepEqual(await emitAck(socket, "room:toggle_lock"), { ok: true, isLocked: true });
  assert.deepEqual(await once(socket, "room:lock_toggled"), { isLocked: true });
  assert.deepEqual(await emitAck(socket, "room:toggle_lock"), { ok: true, isLocked: false });
  const guest = await joinRoom(host.roomCode);
  const { socket: other } = await join(guest.token);
  await once(socket, "user:connected", undefined, (p) => p?.user?.id === guest.userId);
  other.disconnect();
  assert.equal((await once(socket, "user:disconnected")).user.id, guest.userId);
  assert.equal(socket.io.engine.transport.name, "websocket");
});

test(`transport mode "${SIO_TRANSPORTS}": an Authorization header survives the transport in use`, T, async () => {
  const host = await createRoom();
  const { socket, state } = await join(host.token, { header: true });
  assert.equal(state.users[0].id, host.userId);
  await upgraded(socket);
  assert.deepEqual(await emitAck(socket, "room:toggle_lock"), { ok: true, isLocked: true });
  if (SIO_TRANSPORTS === "websocket") assert.deepEqual(socket.rec.transports, ["websocket"]);
});
