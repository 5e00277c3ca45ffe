// After the call: matches with the partner's profile, chat across tabs and
// instances, unmatch; and moderation: a flagged call ends at once, the
// offender is warned, and the third violation bans them. Runs against the
// two dating instances (shared Redis and Postgres), started with
// HIVE_WEBHOOK_SECRET and ADMIN_TOKEN.

import assert from "node:assert/strict";
import { createHmac, randomBytes } from "node:crypto";
import { after, afterEach, describe, test } from "node:test";

import {
  BASE_URL_DATING,
  BASE_URL_DATING_2,
  UUID_RE,
  api,
  assertConnectError,
  assertError,
  connect,
  connectError,
  disconnectAll,
  expectNoEvent,
  once,
} from "./helpers.js";

afterEach(disconnectAll);
after(disconnectAll);

const ONE = BASE_URL_DATING;
const TWO = BASE_URL_DATING_2 ?? BASE_URL_DATING;
const HIVE_SECRET = process.env.HIVE_WEBHOOK_SECRET;
const ADMIN_TOKEN = process.env.ADMIN_TOKEN;
const T = { timeout: 40_000, skip: ONE === undefined || !HIVE_SECRET ? "BASE_URL_DATING and HIVE_WEBHOOK_SECRET are not set" : false };
const SLOW_EVENT = 15_000;

function region() {
  return `e2e-${randomBytes(6).toString("hex")}`;
}

async function signup(base, displayName) {
  const res = await api("POST", "/auth/signup-anonymous", { base });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  const u = { id: res.body.user.id, token: res.body.accessToken, base };
  if (displayName) {
    const p = await api("PATCH", "/users/me", { base, token: u.token, body: { displayName, bio: `${displayName}'s bio`, interests: ["chess"] } });
    assert.equal(p.status, 200, JSON.stringify(p.body));
  }
  return u;
}

const call = (u, method, path, body) => api(method, path, { base: u.base, token: u.token, body });

/** Two users on two instances, paired; their /video sockets are open. */
async function pair(names = []) {
  const reg = region();
  const a = await signup(ONE, names[0]);
  const b = await signup(TWO, names[1]);
  for (const u of [a, b]) {
    u.queue = await connect(u.token, { base: u.base, nsp: "/queue" });
    u.video = await connect(u.token, { base: u.base, nsp: "/video" });
  }
  for (const u of [a, b]) assert.equal((await call(u, "POST", "/queue/join", { region: reg })).status, 201);
  const [sa] = await Promise.all([once(a.video, "session:start", SLOW_EVENT), once(b.video, "session:start", SLOW_EVENT)]);
  return { a, b, sessionId: sa.sessionId };
}

/** A mutual match between two fresh users; returns {a, b, matchId}. */
async function matched(names) {
  const p = await pair(names);
  await Promise.all([once(p.a.video, "session:end", SLOW_EVENT), once(p.b.video, "session:end", SLOW_EVENT)]);
  await call(p.a, "POST", `/sessions/${p.sessionId}/choice`, { choice: "MATCH" });
  const r = await call(p.b, "POST", `/sessions/${p.sessionId}/choice`, { choice: "MATCH" });
  assert.equal(r.body.outcome, "mutual", JSON.stringify(r.body));
  return { ...p, matchId: r.body.matchId };
}

/** Posts a Hive webhook signed with secret, at time ts (seconds). */
function hive(body, { secret = HIVE_SECRET, ts = Math.floor(Date.now() / 1000), signature, base = ONE } = {}) {
  const raw = JSON.stringify(body);
  const sig = signature ?? createHmac("sha256", secret).update(raw).digest("hex");
  return api("POST", "/webhooks/hive", {
    base,
    raw,
    headers: { "content-type": "application/json", "x-hive-signature": sig, "x-hive-timestamp": String(ts) },
  });
}

describe("matches and chat", () => {
  test("a mutual match shows the partner's profile; chat reaches every tab on every instance, once", T, async () => {
    const { a, b, matchId } = await matched(["Ada", "Bo"]);
    const list = await call(a, "GET", "/matches");
    assert.equal(list.status, 200, JSON.stringify(list.body));
    assert.equal(list.body.matches.length, 1);
    const m = list.body.matches[0];
    assert.equal(m.id, matchId);
    assert.equal(m.lastMessage, null);
    assert.equal(m.partner.id, b.id);
    assert.equal(m.partner.displayName, "Bo");
    assert.equal(m.partner.bio, "Bo's bio");
    assert.deepEqual(m.partner.interests, ["chess"]);
    assert.ok(!("phone" in m.partner) && !("email" in m.partner), "no identifiers");

    const a1 = await connect(a.token, { base: ONE, nsp: "/chat" });
    const a2 = await connect(a.token, { base: TWO, nsp: "/chat" });
    const b1 = await connect(b.token, { base: TWO, nsp: "/chat" });
    const sent = await call(a, "POST", `/matches/${matchId}/messages`, { text: "  hello there\n ", clientMessageId: "c-1" });
    assert.equal(sent.status, 201, JSON.stringify(sent.body));
    assert.match(sent.body.id, UUID_RE);
    assert.equal(sent.body.text, "hello there");
    assert.equal(sent.body.senderId, a.id);
    assert.equal(sent.body.matchId, matchId);
    for (const s of [a1, a2, b1]) assert.deepEqual(await once(s, "message:new", SLOW_EVENT), sent.body);
    const retry = await call(a, "POST", `/matches/${matchId}/messages`, { text: "hello there", clientMessageId: "c-1" });
    assert.equal(retry.status, 201);
    assert.equal(retry.body.id, sent.body.id, "a retry returns the same message");
    const reply = await call(b, "POST", `/matches/${matchId}/messages`, { text: "hi!" });
    assert.equal(reply.status, 201);
    for (const s of [a1, a2, b1]) assert.equal((await once(s, "message:new", SLOW_EVENT)).id, reply.body.id);
    for (const s of [a1, a2, b1]) await expectNoEvent(s, "message:new");

    const all = await call(b, "GET", `/matches/${matchId}/messages`);
    assert.deepEqual(all.body.messages.map((x) => x.id), [sent.body.id, reply.body.id]);
    const newest = await call(b, "GET", `/matches/${matchId}/messages?limit=1`);
    assert.deepEqual(newest.body.messages.map((x) => x.id), [reply.body.id]);
    assert.equal(typeof newest.body.nextCursor, "string");
    const older = await call(b, "GET", `/matches/${matchId}/messages?limit=1&before=${encodeURIComponent(newest.body.nextCursor)}`);
    assert.deepEqual(older.body.messages.map((x) => x.id), [sent.body.id]);
    assert.equal(older.body.nextCursor, undefined, "nothing older");
    const list2 = await call(a, "GET", "/matches");
    assert.equal(list2.body.matches[0].lastMessage.id, reply.body.id);

    for (const text of ["", "   ", "x".repeat(1001), "bell\u0007"]) {
      assertError(await call(a, "POST", `/matches/${matchId}/messages`, { text }), 400, "INVALID_MESSAGE");
    }
    assertError(await call(a, "GET", `/matches/${matchId}/messages?before=garbage`), 400, "INVALID_CURSOR");
    assertError(await call(a, "GET", "/matches?limit=0"), 400, "INVALID_QUERY");
  });

  test("a stranger gets 403 or 404 on every match, message and session route, and no event", T, async () => {
    const { a, matchId, sessionId } = await matched();
    const c = await signup(ONE);
    const cs = await connect(c.token, { base: ONE, nsp: "/chat" });
    assertError(await call(c, "GET", `/matches/${matchId}/messages`), 403, "NOT_A_PARTICIPANT");
    assertError(await call(c, "POST", `/matches/${matchId}/messages`, { text: "hi" }), 403, "NOT_A_PARTICIPANT");
    assertError(await call(c, "DELETE", `/matches/${matchId}`), 403, "NOT_A_PARTICIPANT");
    assertError(await call(c, "GET", `/sessions/${sessionId}`), 404, "SESSION_NOT_FOUND");
    assertError(await call(c, "GET", "/matches/00000000-0000-4000-8000-000000000000/messages"), 404, "MATCH_NOT_FOUND");
    assert.deepEqual((await call(c, "GET", "/matches")).body.matches, []);
    await call(a, "POST", `/matches/${matchId}/messages`, { text: "private" });
    await expectNoEvent(cs, "message:new");
  });

  test("unmatch removes the match for both and tells the partner", T, async () => {
    const { a, b, matchId } = await matched();
    const as = await connect(a.token, { base: ONE, nsp: "/chat" });
    await call(a, "POST", `/matches/${matchId}/messages`, { text: "bye?" });
    const del = await call(b, "DELETE", `/matches/${matchId}`);
    assert.equal(del.status, 200, JSON.stringify(del.body));
    assert.deepEqual(await once(as, "match:removed", SLOW_EVENT), { matchId });
    for (const u of [a, b]) {
      assert.deepEqual((await call(u, "GET", "/matches")).body.matches, []);
      assertError(await call(u, "GET", `/matches/${matchId}/messages`), 404, "MATCH_NOT_FOUND");
    }
    assertError(await call(a, "POST", `/matches/${matchId}/messages`, { text: "hello?" }), 404, "MATCH_NOT_FOUND");
  });
});

describe("moderation", () => {
  test("a flagged call ends at once for both; the offender is warned and cannot MATCH; replays do nothing", T, async () => {
    const { a, b, sessionId } = await pair();
    const body = { sessionId, userId: a.id, violation: true, reason: "nudity", labels: ["nudity"], severity: "high" };
    assertError(await hive(body, { signature: "00".repeat(32) }), 401, "INVALID_SIGNATURE");
    assertError(await hive(body, { ts: Math.floor(Date.now() / 1000) - 3600 }), 401, "INVALID_SIGNATURE");
    assertError(await hive({ ...body, userId: (await signup(ONE)).id }), 400, "INVALID_MODERATION_WEBHOOK");
    const ts = Math.floor(Date.now() / 1000);
    const ok = await hive(body, { ts });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    const [ea, eb] = await Promise.all([once(a.video, "session:end", SLOW_EVENT), once(b.video, "session:end", SLOW_EVENT)]);
    assert.equal(ea.reason, "moderation");
    assert.deepEqual(eb, ea);
    const warn = await once(a.video, "moderation:action", SLOW_EVENT);
    assert.deepEqual(warn, { action: "warn", reason: "nudity" });
    await expectNoEvent(b.video, "moderation:action");
    assertError(await call(a, "POST", `/sessions/${sessionId}/choice`, { choice: "MATCH" }), 409, "CHOICE_ALREADY_MADE");
    const r = await call(b, "POST", `/sessions/${sessionId}/choice`, { choice: "MATCH" });
    assert.deepEqual(r.body, { status: "resolved", outcome: "non_mutual" });
    // The same delivery again (same body, time and signature): acknowledged, not applied.
    assert.equal((await hive(body, { ts, base: TWO })).status, 200);
    await expectNoEvent(a.video, "moderation:action");
  });

  test("the third violation in 24 h bans: queue 403 with until, /queue and /video refused, chat still works, an operator lifts it", T, async () => {
    const { a, b, sessionId } = await pair();
    for (const reason of ["one", "two", "three"]) {
      assert.equal((await hive({ sessionId, userId: a.id, violation: true, reason })).status, 200);
      assert.deepEqual(await once(a.video, "moderation:action", SLOW_EVENT, (e) => e.action === "warn"), { action: "warn", reason });
    }
    const ban = await once(a.video, "moderation:action", SLOW_EVENT, (e) => e.action === "ban");
    // The apply jobs of "two" and "three" may overlap: the one that counts
    // the third violation first bans, with its own reason.
    assert.ok(["two", "three"].includes(ban.reason), `ban reason ${ban.reason}`);
    const until = Date.parse(ban.until);
    assert.ok(until > Date.now() + 23 * 3600_000, `until ${ban.until}`);
    await expectNoEvent(a.video, "moderation:action", 600, (e) => e.action === "ban");

    const join = await call(a, "POST", "/queue/join", { region: region() });
    assert.equal(join.status, 403, JSON.stringify(join.body));
    assert.equal(join.body.code, "USER_BANNED");
    assert.equal(join.body.until, ban.until);
    for (const nsp of ["/queue", "/video"]) {
      const err = await connectError(a.token, { base: TWO, nsp });
      assertConnectError(err, "USER_BANNED");
      assert.equal(err.data.until, ban.until);
    }
    const chatSocket = await connect(a.token, { base: ONE, nsp: "/chat" });
    assert.ok(chatSocket.connected, "chat still works for a banned user");

    assertError(await api("GET", `/moderation/events?userId=${a.id}`, { base: ONE }), 401, "ADMIN_TOKEN_INVALID");
    const events = await api("GET", `/moderation/events?userId=${a.id}`, { base: ONE, token: ADMIN_TOKEN });
    assert.equal(events.status, 200, JSON.stringify(events.body));
    assert.deepEqual(events.body.events.map((e) => e.reason), ["three", "two", "one"]);
    assert.ok(events.body.events.every((e) => e.sessionId === sessionId && e.userId === a.id));
    const lifted = await api("DELETE", `/moderation/bans/${a.id}`, { base: TWO, token: ADMIN_TOKEN });
    assert.deepEqual(lifted.body, { lifted: true });
    const back = await connect(a.token, { base: ONE, nsp: "/queue" });
    assert.ok(back.connected);
    await expectNoEvent(b.video, "moderation:action");
  });
});
