// The REST API: every endpoint, its success body and its error paths.

import assert from "node:assert/strict";
import { after, afterEach, describe, test } from "node:test";

import {
  BASE_URL,
  CODE_RE,
  JWT_SECRET,
  T,
  api,
  assertError,
  assertTicket,
  createRoom,
  decodeJWT,
  disconnectAll,
  getRoom,
  joinRoom,
  roomToken,
  signJWT,
  uniqueName,
} from "./helpers.js";

afterEach(disconnectAll);
after(disconnectAll);

/** A code of valid shape that names no room (no such room can exist). */
async function unusedCode() {
  for (;;) {
    const code = Array.from({ length: 4 }, () => "ABCDEFGHJKMNPQRSTUVWXYZ23456789"[Math.floor(Math.random() * 31)]).join("");
    const res = await api("GET", `/rooms/${code}`);
    if (res.status === 404) return code;
  }
}

describe("health", () => {
  test("GET /healthz is 200 {status: ok}", T, async () => {
    const res = await api("GET", "/healthz");
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { status: "ok" });
  });

  test("GET /readyz is 200 {status: ready} with the store reachable", T, async () => {
    const res = await api("GET", "/readyz");
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { status: "ready" });
  });
});

describe("POST /rooms", () => {
  test("creates a room: 201 {roomCode, token, userId}, the creator is host", T, async () => {
    const before = Date.now();
    const res = await api("POST", "/rooms", { body: { displayName: "Alice" } });
    assert.equal(res.status, 201);
    assertTicket(res.body);
    const claims = decodeJWT(res.body.token);
    assert.equal(claims.roomCode, res.body.roomCode);
    assert.equal(claims.userId, res.body.userId);
    assert.ok(claims.exp * 1000 > Date.now(), "token expires in the future");

    const room = await getRoom(res.body.roomCode);
    assert.deepEqual(Object.keys(room).sort(), ["code", "createdAt", "hostId", "isLocked", "maxUsers", "state", "updatedAt"]);
    assert.equal(room.code, res.body.roomCode);
    assert.match(room.code, CODE_RE);
    assert.equal(room.hostId, res.body.userId);
    assert.equal(room.isLocked, false);
    assert.equal(room.maxUsers, 8, "ROOM_MAX_USERS default");
    assert.equal(room.state, "CREATED");
    for (const k of ["createdAt", "updatedAt"]) {
      const t = Date.parse(room[k]);
      assert.ok(Number.isFinite(t), `${k} is a date: ${room[k]}`);
      assert.ok(t >= before - 5_000 && t <= Date.now() + 5_000, `${k} is now: ${room[k]}`);
    }
  });

  test("every room gets its own code and every user its own id", T, async () => {
    const a = await createRoom();
    const b = await createRoom();
    assert.notEqual(a.roomCode, b.roomCode);
    assert.notEqual(a.userId, b.userId);
  });

  test("maxUsers sets the room's capacity", T, async () => {
    for (const maxUsers of [1, 3, 8]) {
      const t = await createRoom({ maxUsers });
      const room = await getRoom(t.roomCode);
      assert.equal(room.maxUsers, maxUsers);
    }
  });

  test("400 INVALID_DISPLAY_NAME for missing, empty, blank, too long and control-character names", T, async () => {
    for (const body of [
      {},
      { displayName: "" },
      { displayName: "   " },
      { displayName: "x".repeat(33) },
      { displayName: "bad\u0007name" },
      { displayName: "line\nbreak" },
    ]) {
      const res = await api("POST", "/rooms", { body });
      assertError(res, 400, "INVALID_DISPLAY_NAME");
    }
    // 32 characters (not bytes) is the maximum.
    const ok = await api("POST", "/rooms", { body: { displayName: "é".repeat(32) } });
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
  });

  test("400 INVALID_MAX_USERS below 1 or above ROOM_MAX_USERS", T, async () => {
    for (const maxUsers of [0, -1, 9, 1000]) {
      const res = await api("POST", "/rooms", { body: { displayName: "Alice", maxUsers } });
      assertError(res, 400, "INVALID_MAX_USERS");
    }
  });

  test("400 INVALID_BODY for malformed JSON, wrong types, unknown fields and other content types", T, async () => {
    const cases = [
      { raw: "{", headers: { "Content-Type": "application/json" } },
      { raw: "not json", headers: { "Content-Type": "application/json" } },
      { raw: '{"displayName":"Alice"} {"x":1}', headers: { "Content-Type": "application/json" } },
      { raw: '["Alice"]', headers: { "Content-Type": "application/json" } },
      { raw: '"Alice"', headers: { "Content-Type": "application/json" } },
      { body: { displayName: 42 } },
      { body: { displayName: "Alice", maxUsers: "4" } },
      { body: { displayName: "Alice", maxUsers: 2.5 } },
      { body: { displayName: "Alice", isAdmin: true } },
      { raw: "displayName=Alice", headers: { "Content-Type": "application/x-www-form-urlencoded" } },
      { raw: '{"displayName":"Alice"}', headers: { "Content-Type": "text/plain" } },
    ];
    for (const c of cases) {
      const res = await api("POST", "/rooms", c);
      assertError(res, 400, "INVALID_BODY");
    }
  });

  test("400 BODY_TOO_LARGE above 16 KiB", T, async () => {
    const res = await api("POST", "/rooms", { body: { displayName: "x".repeat(20_000) } });
    assertError(res, 400, "BODY_TOO_LARGE");
  });
});

describe("GET /rooms/:code", () => {
  test("404 ROOM_NOT_FOUND for an unknown code", T, async () => {
    assertError(await api("GET", `/rooms/${await unusedCode()}`), 404, "ROOM_NOT_FOUND");
  });

  test("404 ROOM_NOT_FOUND for codes that cannot exist", T, async () => {
    for (const code of ["AB-CD", "%21%21%21%21", "A".repeat(17), "%20"]) {
      assertError(await api("GET", `/rooms/${code}`), 404, "ROOM_NOT_FOUND");
    }
  });

  test("codes typed in lower case resolve", T, async () => {
    const t = await createRoom();
    const room = await getRoom(t.roomCode.toLowerCase());
    assert.equal(room.code, t.roomCode);
  });
});

describe("POST /rooms/:code/join", () => {
  test("joins: 200 {roomCode, token, userId} for a new member", T, async () => {
    const host = await createRoom();
    const res = await api("POST", `/rooms/${host.roomCode}/join`, { body: { displayName: "Bob" } });
    assert.equal(res.status, 200);
    assertTicket(res.body, host.roomCode);
    assert.notEqual(res.body.userId, host.userId);
    assert.notEqual(res.body.token, host.token);
    const claims = decodeJWT(res.body.token);
    assert.equal(claims.roomCode, host.roomCode);
    assert.equal(claims.userId, res.body.userId);
    // The host does not change.
    assert.equal((await getRoom(host.roomCode)).hostId, host.userId);
  });

  test("a lower-case code joins the room", T, async () => {
    const host = await createRoom();
    const t = await joinRoom(host.roomCode.toLowerCase());
    assert.equal(t.roomCode, host.roomCode);
  });

  test("the same display name may join twice as two members", T, async () => {
    const host = await createRoom();
    const a = await joinRoom(host.roomCode, { displayName: "Twin" });
    const b = await joinRoom(host.roomCode, { displayName: "Twin" });
    assert.notEqual(a.userId, b.userId);
  });

  test("404 ROOM_NOT_FOUND for an unknown room", T, async () => {
    const res = await api("POST", `/rooms/${await unusedCode()}/join`, { body: { displayName: "Bob" } });
    assertError(res, 404, "ROOM_NOT_FOUND");
  });

  test("400 ROOM_FULL once maxUsers members are in", T, async () => {
    const host = await createRoom({ maxUsers: 3 });
    await joinRoom(host.roomCode);
    await joinRoom(host.roomCode);
    const res = await api("POST", `/rooms/${host.roomCode}/join`, { body: { displayName: uniqueName() } });
    assertError(res, 400, "ROOM_FULL");

    const solo = await createRoom({ maxUsers: 1 });
    assertError(await api("POST", `/rooms/${solo.roomCode}/join`, { body: { displayName: "Bob" } }), 400, "ROOM_FULL");
  });

  test("400 INVALID_DISPLAY_NAME and INVALID_BODY", T, async () => {
    const host = await createRoom();
    const path = `/rooms/${host.roomCode}/join`;
    assertError(await api("POST", path, { body: {} }), 400, "INVALID_DISPLAY_NAME");
    assertError(await api("POST", path, { body: { displayName: " " } }), 400, "INVALID_DISPLAY_NAME");
    assertError(await api("POST", path, { body: { displayName: "y".repeat(33) } }), 400, "INVALID_DISPLAY_NAME");
    assertError(await api("POST", path, { body: { displayName: 7 } }), 400, "INVALID_BODY");
    assertError(await api("POST", path, { body: { displayName: "Bob", maxUsers: 2 } }), 400, "INVALID_BODY");
    assertError(await api("POST", path, { raw: "{oops", headers: { "Content-Type": "application/json" } }), 400, "INVALID_BODY");
    assertError(await api("POST", path, { body: { displayName: "z".repeat(20_000) } }), 400, "BODY_TOO_LARGE");
  });
});

describe("POST /rooms/:code/rejoin", () => {
  test("exchanges a member's token for a fresh one: 200 {roomCode, token, userId}", T, async () => {
    const host = await createRoom();
    const guest = await joinRoom(host.roomCode);
    for (const t of [host, guest]) {
      const res = await api("POST", `/rooms/${host.roomCode}/rejoin`, { token: t.token });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assertTicket(res.body, host.roomCode);
      assert.equal(res.body.userId, t.userId);
      assert.notEqual(res.body.token, t.token, "a fresh token");
      // The fresh token works in turn.
      const again = await api("POST", `/rooms/${host.roomCode}/rejoin`, { token: res.body.token });
      assert.equal(again.status, 200);
      assert.equal(again.body.userId, t.userId);
    }
  });

  test("the scheme is case-insensitive and a lower-case code resolves", T, async () => {
    const host = await createRoom();
    const res = await api("POST", `/rooms/${host.roomCode.toLowerCase()}/rejoin`, {
      headers: { Authorization: `bearer ${host.token}` },
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.roomCode, host.roomCode);
  });

  test("401 TOKEN_MISSING without a bearer token", T, async () => {
    const host = await createRoom();
    const path = `/rooms/${host.roomCode}/rejoin`;
    assertError(await api("POST", path), 401, "TOKEN_MISSING");
    assertError(await api("POST", path, { headers: { Authorization: "" } }), 401, "TOKEN_MISSING");
    assertError(await api("POST", path, { headers: { Authorization: "Bearer " } }), 401, "TOKEN_MISSING");
    assertError(await api("POST", path, { headers: { Authorization: `Basic ${host.token}` } }), 401, "TOKEN_MISSING");
    assertError(await api("POST", path, { headers: { Authorization: host.token } }), 401, "TOKEN_MISSING");
  });

  test("401 TOKEN_INVALID for garbage, tampered and foreign-signed tokens", T, async () => {
    const host = await createRoom();
    const path = `/rooms/${host.roomCode}/rejoin`;
    assertError(await api("POST", path, { token: "not-a-jwt" }), 401, "TOKEN_INVALID");
    // Tampered: the claims of another user, the host's signature.
    const [h, , s] = host.token.split(".");
    const claims = { ...decodeJWT(host.token), userId: "00000000-0000-4000-8000-000000000000", sub: "00000000-0000-4000-8000-000000000000" };
    const tampered = `${h}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.${s}`;
    assertError(await api("POST", path, { token: tampered }), 401, "TOKEN_INVALID");
    // Well-formed, but signed with another secret.
    const forged = signJWT(decodeJWT(host.token), "another-secret-of-32-bytes-length!");
    assertError(await api("POST", path, { token: forged }), 401, "TOKEN_INVALID");
    // alg "none".
    const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString("base64url")}.${host.token.split(".")[1]}.`;
    assertError(await api("POST", path, { token: none }), 401, "TOKEN_INVALID");
  });

  test("403 TOKEN_ROOM_MISMATCH for a token of another room", T, async () => {
    const a = await createRoom();
    const b = await createRoom();
    assertError(await api("POST", `/rooms/${b.roomCode}/rejoin`, { token: a.token }), 403, "TOKEN_ROOM_MISMATCH");
  });

  test("404 ROOM_NOT_FOUND for a code that cannot exist", T, async () => {
    const a = await createRoom();
    assertError(await api("POST", "/rooms/NO-SUCH/rejoin", { token: a.token }), 404, "ROOM_NOT_FOUND");
  });

  test("400 INVALID_BODY for a body with fields", T, async () => {
    const a = await createRoom();
    assertError(await api("POST", `/rooms/${a.roomCode}/rejoin`, { token: a.token, body: { displayName: "x" } }), 400, "INVALID_BODY");
    // An empty object is fine.
    const ok = await api("POST", `/rooms/${a.roomCode}/rejoin`, { token: a.token, body: {} });
    assert.equal(ok.status, 200);
  });

  test("an expired but genuine token is exchanged while the user is a member", { ...T, skip: JWT_SECRET ? false : "JWT_SECRET not given" }, async () => {
    const host = await createRoom();
    const expired = roomToken({ roomCode: host.roomCode, userId: host.userId, secret: JWT_SECRET, exp: Math.floor(Date.now() / 1000) - 60 });
    const res = await api("POST", `/rooms/${host.roomCode}/rejoin`, { token: expired });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.userId, host.userId);
    // A genuine token for a user who never joined is not.
    const stranger = roomToken({ roomCode: host.roomCode, userId: "00000000-0000-4000-8000-000000000000", secret: JWT_SECRET });
    assertError(await api("POST", `/rooms/${host.roomCode}/rejoin`, { token: stranger }), 404, "MEMBER_NOT_FOUND");
  });
});

describe("CORS", () => {
  // The servers run with the default CORS_ORIGINS "*": every origin, never
  // with credentials.
  test("preflight and simple requests carry the CORS headers: * and no credentials", T, async () => {
    const pre = await api("OPTIONS", "/rooms", {
      headers: { Origin: "http://game.example", "Access-Control-Request-Method": "POST" },
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get("access-control-allow-origin"), "*");
    assert.equal(pre.headers.get("access-control-allow-credentials"), null);
    assert.match(pre.headers.get("access-control-allow-methods") ?? "", /POST/);
    assert.match(pre.headers.get("access-control-allow-headers") ?? "", /Authorization/i);

    const res = await api("POST", "/rooms", { body: { displayName: "Alice" }, headers: { Origin: "http://game.example" } });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get("access-control-allow-origin"), "*");
    assert.equal(res.headers.get("access-control-allow-credentials"), null);

    const hs = await fetch(`${BASE_URL}/socket.io/?EIO=4&transport=polling`, { headers: { Origin: "http://game.example" } });
    await hs.text();
    assert.equal(hs.status, 200);
    assert.equal(hs.headers.get("access-control-allow-origin"), "*");
    assert.equal(hs.headers.get("access-control-allow-credentials"), null);
  });
});
