// Connecting to /rooms: authentication, room:state, presence events and
// the page-reload flow.

import assert from "node:assert/strict";
import { after, afterEach, describe, test } from "node:test";

import {
  JWT_SECRET,
  T,
  api,
  assertConnectError,
  connect,
  connectError,
  createRoom,
  disconnectAll,
  expectNoEvent,
  getRoom,
  join,
  joinRoom,
  once,
  received,
  roomToken,
  roomWith,
} from "./helpers.js";

afterEach(disconnectAll);
after(disconnectAll);

function assertUser(u, { id, displayName, isConnected, isHost }) {
  assert.deepEqual(Object.keys(u).sort(), ["displayName", "id", "isConnected", "isHost"]);
  assert.deepEqual(u, { id, displayName, isConnected, isHost });
}

describe("authentication at connect", () => {
  test("a token in the handshake auth connects", T, async () => {
    const host = await createRoom();
    const socket = await connect(host.token);
    assert.equal(socket.connected, true);
    assert.equal(typeof socket.id, "string");
  });

  test("a token in an Authorization: Bearer header connects", T, async () => {
    const host = await createRoom({ displayName: "Header" });
    const { socket, state } = await join(host.token, { header: true });
    assert.equal(socket.connected, true);
    assert.equal(state.room.code, host.roomCode);
    assert.equal(state.users[0].id, host.userId);
  });

  test("connect_error TOKEN_MISSING without a token", T, async () => {
    assertConnectError(await connectError(undefined), "TOKEN_MISSING");
    assertConnectError(await connectError(""), "TOKEN_MISSING");
  });

  test("connect_error TOKEN_INVALID for a garbage or foreign-signed token", T, async () => {
    assertConnectError(await connectError("garbage"), "TOKEN_INVALID");
    assertConnectError(await connectError("garbage", { header: true }), "TOKEN_INVALID");
    const host = await createRoom();
    const [h, b] = host.token.split(".");
    assertConnectError(await connectError(`${h}.${b}.${"A".repeat(43)}`), "TOKEN_INVALID");
  });

  test("connect_error TOKEN_EXPIRED for an expired token", { ...T, skip: JWT_SECRET ? false : "JWT_SECRET not given" }, async () => {
    const host = await createRoom();
    const expired = roomToken({ roomCode: host.roomCode, userId: host.userId, secret: JWT_SECRET, exp: Math.floor(Date.now() / 1000) - 60 });
    assertConnectError(await connectError(expired), "TOKEN_EXPIRED");
    // The same claims, unexpired, connect.
    const fresh = roomToken({ roomCode: host.roomCode, userId: host.userId, secret: JWT_SECRET });
    const { state } = await join(fresh);
    assert.equal(state.users[0].id, host.userId);
  });

  test("connect_error MEMBER_NOT_FOUND for a genuine token of a user who is not a member", { ...T, skip: JWT_SECRET ? false : "JWT_SECRET not given" }, async () => {
    const host = await createRoom();
    const stranger = roomToken({ roomCode: host.roomCode, userId: "00000000-0000-4000-8000-000000000000", secret: JWT_SECRET });
    assertConnectError(await connectError(stranger), "MEMBER_NOT_FOUND");
  });
});

describe("room:state", () => {
  test("arrives on connect with the room and its members", T, async () => {
    const host = await createRoom({ displayName: "  Hostess  " });
    const socket = await connect(host.token);
    const state = await once(socket, "room:state");
    assert.equal(received(socket)[0], "room:state", "room:state is the first event");

    assert.deepEqual(Object.keys(state).sort(), ["room", "users"]);
    const room = await getRoom(host.roomCode);
    assert.deepEqual(Object.keys(state.room).sort(), Object.keys(room).sort());
    assert.equal(state.room.code, host.roomCode);
    assert.equal(state.room.hostId, host.userId);
    assert.equal(state.room.isLocked, false);
    assert.equal(state.room.maxUsers, room.maxUsers);
    assert.equal(state.room.state, "CREATED");
    assert.equal(state.room.createdAt, room.createdAt);
    assert.equal(state.users.length, 1);
    // The display name is trimmed.
    assertUser(state.users[0], { id: host.userId, displayName: "Hostess", isConnected: true, isHost: true });
  });

  test("every connecting socket gets room:state, then its own user:connected", T, async () => {
    // Tried with several sockets, since a lost or early user:connected
    // shows up as a race.
    const host = await createRoom({ displayName: "Host" });
    const problems = [];
    for (let i = 0; i < 8; i++) {
      const name = i === 0 ? "Host" : `Guest ${i}`;
      const t = i === 0 ? host : await joinRoom(host.roomCode, { displayName: name });
      const socket = await connect(t.token);
      await once(socket, "room:state");
      try {
        const self = await once(socket, "user:connected", 1_000, (p) => p?.user?.id === t.userId);
        assert.deepEqual(Object.keys(self), ["user"]);
        assertUser(self.user, { id: t.userId, displayName: name, isConnected: true, isHost: i === 0 });
      } catch (err) {
        problems.push(`socket ${i + 1}: ${err.message}`);
        continue;
      }
      const order = received(socket);
      if (order.indexOf("room:state") > order.indexOf("user:connected")) {
        problems.push(`socket ${i + 1}: user:connected before room:state (${order})`);
      }
    }
    assert.deepEqual(problems, []);
  });

  test("lists members longest-present first, with presence and host flags", T, async () => {
    const host = await createRoom({ displayName: "First" });
    const second = await joinRoom(host.roomCode, { displayName: "Second" });
    const third = await joinRoom(host.roomCode, { displayName: "Third" });
    // Only the second member is connected when the third connects.
    await join(second.token);
    const { state } = await join(third.token);
    assert.equal(state.users.length, 3);
    assertUser(state.users[0], { id: host.userId, displayName: "First", isConnected: false, isHost: true });
    assertUser(state.users[1], { id: second.userId, displayName: "Second", isConnected: true, isHost: false });
    assertUser(state.users[2], { id: third.userId, displayName: "Third", isConnected: true, isHost: false });
  });
});

describe("presence", () => {
  test("user:connected reaches every member when someone connects", T, async () => {
    const { code, host, guests } = await roomWith(1);
    const late = await joinRoom(code, { displayName: "Late" });
    await join(late.token);
    const expected = { user: { id: late.userId, displayName: "Late", isConnected: true, isHost: false } };
    for (const s of [host.socket, guests[0].socket]) {
      const p = await once(s, "user:connected", undefined, (p) => p?.user?.id === late.userId);
      assert.deepEqual(p, expected);
    }
  });

  test("user:disconnected reaches the others when a user's only socket closes", T, async () => {
    const { host, guests } = await roomWith(2);
    const [a, b] = guests;
    a.socket.disconnect();
    const expected = { user: { id: a.ticket.userId, displayName: a.state.users[1].displayName, isConnected: false, isHost: false } };
    for (const s of [host.socket, b.socket]) {
      assert.deepEqual(await once(s, "user:disconnected"), expected);
    }
    // The member is still in the room, shown as not connected.
    const { state } = await join(host.ticket.token);
    assert.equal(state.users.length, 3);
    assert.equal(state.users[1].id, a.ticket.userId);
    assert.equal(state.users[1].isConnected, false);
  });

  test("user:disconnected comes only when the user's LAST socket closes", T, async () => {
    const { host, guests } = await roomWith(1);
    const g = guests[0];
    // A second socket with the same token, e.g. a second tab.
    const { socket: second, state } = await join(g.ticket.token);
    assert.equal(state.users.find((u) => u.id === g.ticket.userId).isConnected, true);
    const p = await once(host.socket, "user:connected", undefined, (p) => p?.user?.id === g.ticket.userId);
    assert.equal(p.user.isConnected, true);

    g.socket.disconnect();
    await expectNoEvent(host.socket, "user:disconnected");
    await expectNoEvent(second, "user:disconnected", 0);

    second.disconnect();
    const gone = await once(host.socket, "user:disconnected");
    assert.equal(gone.user.id, g.ticket.userId);
    assert.equal(gone.user.isConnected, false);
  });

  test("the host's user:disconnected says isHost", T, async () => {
    const { host, guests } = await roomWith(1);
    host.socket.disconnect();
    const p = await once(guests[0].socket, "user:disconnected");
    assert.deepEqual(p.user, { id: host.ticket.userId, displayName: host.state.users[0].displayName, isConnected: false, isHost: true });
  });

  test("rejoin after a page reload: disconnect, rejoin with the old token, connect with the new one", T, async () => {
    const { code, host, guests } = await roomWith(1);
    const g = guests[0];
    const name = g.state.users[1].displayName;

    // The page goes away.
    g.socket.disconnect();
    assert.deepEqual(await once(host.socket, "user:disconnected"), {
      user: { id: g.ticket.userId, displayName: name, isConnected: false, isHost: false },
    });

    // The reloaded page trades its stored token for a fresh one.
    const res = await api("POST", `/rooms/${code}/rejoin`, { token: g.ticket.token });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.userId, g.ticket.userId);
    assert.equal(res.body.roomCode, code);
    assert.notEqual(res.body.token, g.ticket.token);

    const { state } = await join(res.body.token);
    assert.equal(state.room.code, code);
    assert.deepEqual(
      state.users.map((u) => [u.id, u.isConnected, u.isHost]),
      [
        [host.ticket.userId, true, true],
        [g.ticket.userId, true, false],
      ],
    );
    assert.deepEqual(await once(host.socket, "user:connected", undefined, (p) => p?.user?.id === g.ticket.userId), {
      user: { id: g.ticket.userId, displayName: name, isConnected: true, isHost: false },
    });
  });
});
