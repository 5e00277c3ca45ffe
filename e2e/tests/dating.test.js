// The dating core loop, driven by the official client: two strangers sign
// up, connect to /queue and /video on two instances, queue, are paired,
// get session:start for one channel, see the server's session:end, choose,
// and learn the outcome together. The instances run with 2-second calls,
// 5-second choice windows (long enough for a loaded machine to choose in
// them) and a 1-second disconnect grace.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, afterEach, describe, test } from "node:test";

import {
  BASE_URL,
  BASE_URL_DATING,
  BASE_URL_DATING_2,
  EVENT_TIMEOUT,
  UUID_RE,
  api,
  assertConnectError,
  assertError,
  connect,
  connectError,
  disconnectAll,
  expectNoEvent,
  once,
  sleep,
} from "./helpers.js";

afterEach(disconnectAll);
after(disconnectAll);

const ONE = BASE_URL_DATING;
const TWO = BASE_URL_DATING_2 ?? BASE_URL_DATING;
const CALL_SECONDS = 2;
const T = { timeout: 30_000, skip: ONE === undefined ? "BASE_URL_DATING is not set" : false };
/** Calls, choice windows and the grace are seconds long here. */
const SLOW_EVENT = 15_000;

/** A region of this test's own, so that no other test's waiter pairs with it. */
function region() {
  return `e2e-${randomBytes(6).toString("hex")}`;
}

/** An anonymous account on base: {id, token}. */
async function signup(base) {
  const res = await api("POST", "/auth/signup-anonymous", { base });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return { id: res.body.user.id, token: res.body.accessToken, base };
}

async function balance(u) {
  const res = await api("GET", "/tokens/balance", { base: u.base, token: u.token });
  assert.equal(res.status, 200);
  return res.body.balance;
}

/** A user with sockets on /queue and /video of its instance. */
async function dater(base) {
  const u = await signup(base);
  u.queue = await connect(u.token, { base, nsp: "/queue" });
  u.video = await connect(u.token, { base, nsp: "/video" });
  return u;
}

function join(u, body) {
  return api("POST", "/queue/join", { base: u.base, token: u.token, body });
}

/** Two users on two instances, paired in one region; returns their session. */
async function pair(reg = region()) {
  const a = await dater(ONE);
  const b = await dater(TWO);
  const ja = await join(a, { region: reg });
  assert.equal(ja.status, 201, JSON.stringify(ja.body));
  const jb = await join(b, { region: reg });
  assert.equal(jb.status, 201, JSON.stringify(jb.body));
  const [ma, mb] = await Promise.all([once(a.queue, "match", SLOW_EVENT), once(b.queue, "match", SLOW_EVENT)]);
  const [sa, sb] = await Promise.all([once(a.video, "session:start", SLOW_EVENT), once(b.video, "session:start", SLOW_EVENT)]);
  return { a, b, ma, mb, sa, sb, id: ma.sessionId };
}

describe("dating loop", () => {
  test("queue → match → session:start → session:end → MATCH/MATCH → match:mutual", T, async () => {
    const reg = region();
    const a = await dater(ONE);
    const b = await dater(TWO);
    assert.equal(await balance(a), 3, "the sign-up bonus");

    const ja = await join(a, { region: ` ${reg.toUpperCase()} `, preferences: { b: 2, a: [ "x" ] } });
    assert.equal(ja.status, 201, JSON.stringify(ja.body));
    assert.deepEqual(Object.keys(ja.body).sort(), ["position", "queueKey", "status"]);
    assert.equal(ja.body.status, "queued");
    assert.equal(ja.body.position, 0);
    assert.match(ja.body.queueKey, new RegExp(`^${reg}:[0-9a-f]{12}$`));
    assert.equal(await balance(a), 2, "one token debited");
    const again = await join(a, { region: reg, preferences: { a: ["x"], b: 2 } });
    assert.equal(again.status, 200);
    assert.deepEqual(again.body, { status: "already_queued", queueKey: ja.body.queueKey, position: 0 });
    assert.equal(await balance(a), 2, "nothing charged twice");
    const status = await api("GET", "/queue/status", { base: a.base, token: a.token });
    assert.deepEqual(status.body, { status: "queued", queueKey: ja.body.queueKey, position: 0 });

    // Same preferences in another key order: the same queue.
    const jb = await join(b, { region: reg, preferences: { a: ["x"], b: 2 } });
    assert.equal(jb.status, 201, JSON.stringify(jb.body));
    assert.equal(jb.body.queueKey, ja.body.queueKey);

    const [ma, mb] = await Promise.all([once(a.queue, "match", SLOW_EVENT), once(b.queue, "match", SLOW_EVENT)]);
    for (const m of [ma, mb]) {
      assert.deepEqual(Object.keys(m).sort(), ["matchedAt", "queueKey", "sessionId"], "no partner id");
      assert.match(m.sessionId, UUID_RE);
    }
    assert.equal(ma.sessionId, mb.sessionId);
    assert.equal(ma.queueKey, ja.body.queueKey);

    const [sa, sb] = await Promise.all([once(a.video, "session:start", SLOW_EVENT), once(b.video, "session:start", SLOW_EVENT)]);
    for (const s of [sa, sb]) {
      assert.deepEqual(Object.keys(s).sort(), ["channelName", "durationSeconds", "endAt", "expiresAt", "rtc", "rtm", "sessionId", "startAt"]);
      assert.equal(s.sessionId, ma.sessionId);
      assert.equal(s.channelName, `session_${ma.sessionId}`);
      assert.equal(s.durationSeconds, CALL_SECONDS);
      assert.equal(Date.parse(s.endAt) - Date.parse(s.startAt), CALL_SECONDS * 1000);
      assert.equal(s.rtc, null, "no Agora credentials configured");
      assert.equal(s.rtm, null);
    }
    assert.equal(sa.channelName, sb.channelName);
    const st = await api("GET", "/queue/status", { base: b.base, token: b.token });
    assert.deepEqual(st.body, { status: "matched", sessionId: ma.sessionId });
    const busy = await join(a, { region: reg });
    assertError(busy, 409, "ALREADY_IN_SESSION");

    const early = await api("POST", `/sessions/${ma.sessionId}/choice`, { base: a.base, token: a.token, body: { choice: "MATCH" } });
    assertError(early, 409, "SESSION_NOT_ENDED");
    const view = await api("GET", `/sessions/${ma.sessionId}`, { base: b.base, token: b.token });
    assert.equal(view.status, 200);
    assert.equal(view.body.status, "live");
    assert.equal(view.body.channelName, sa.channelName);

    const [ea, eb] = await Promise.all([once(a.video, "session:end", SLOW_EVENT), once(b.video, "session:end", SLOW_EVENT)]);
    for (const e of [ea, eb]) {
      assert.deepEqual(e, { sessionId: ma.sessionId, reason: "timeout", endedAt: e.endedAt });
      assert.ok(Date.parse(e.endedAt) >= Date.parse(sa.endAt), "not before endAt");
    }

    const ca = await api("POST", `/sessions/${ma.sessionId}/choice`, { base: a.base, token: a.token, body: { choice: "MATCH" } });
    assert.equal(ca.status, 200, JSON.stringify(ca.body));
    assert.equal(ca.body.status, "pending");
    assert.ok(Date.parse(ca.body.deadline) > Date.parse(ea.endedAt));
    const same = await api("POST", `/sessions/${ma.sessionId}/choice`, { base: a.base, token: a.token, body: { choice: "MATCH" } });
    assert.equal(same.body.status, "pending", "idempotent");
    const other = await api("POST", `/sessions/${ma.sessionId}/choice`, { base: a.base, token: a.token, body: { choice: "PASS" } });
    assertError(other, 409, "CHOICE_ALREADY_MADE");
    const cb = await api("POST", `/sessions/${ma.sessionId}/choice`, { base: b.base, token: b.token, body: { choice: "MATCH" } });
    assert.equal(cb.status, 200, JSON.stringify(cb.body));
    assert.equal(cb.body.status, "resolved");
    assert.equal(cb.body.outcome, "mutual");
    assert.match(cb.body.matchId, UUID_RE);

    const [xa, xb] = await Promise.all([once(a.video, "match:mutual", SLOW_EVENT), once(b.video, "match:mutual", SLOW_EVENT)]);
    assert.deepEqual(xa, { sessionId: ma.sessionId, matchId: cb.body.matchId });
    assert.deepEqual(xb, xa);
    await expectNoEvent(a.video, "match:mutual");
    await expectNoEvent(a.video, "session:end");
    assert.equal(await balance(a), 2);
    assert.equal(await balance(b), 2);
    // After the outcome, both may queue again.
    const next = await join(a, { region: region() });
    assert.equal(next.status, 201, JSON.stringify(next.body));
  });

  test("silence until the window closes is an auto-pass: match:non_mutual to both", T, async () => {
    const { a, b, id } = await pair();
    await Promise.all([once(a.video, "session:end", SLOW_EVENT), once(b.video, "session:end", SLOW_EVENT)]);
    const ca = await api("POST", `/sessions/${id}/choice`, { base: a.base, token: a.token, body: { choice: "MATCH" } });
    assert.equal(ca.body.status, "pending");
    const [na, nb] = await Promise.all([once(a.video, "match:non_mutual", SLOW_EVENT), once(b.video, "match:non_mutual", SLOW_EVENT)]);
    assert.deepEqual(na, { sessionId: id, outcome: "non_mutual" });
    assert.deepEqual(nb, na);
    const late = await api("POST", `/sessions/${id}/choice`, { base: b.base, token: b.token, body: { choice: "MATCH" } });
    assert.deepEqual(late.body, { status: "resolved", outcome: "non_mutual" });
    await expectNoEvent(a.video, "match:non_mutual");
  });

  test("a hang-up ends the call for both; PASS makes it non-mutual at once", T, async () => {
    const { a, b, id } = await pair();
    const end = await api("POST", `/sessions/${id}/end`, { base: b.base, token: b.token });
    assert.equal(end.status, 200, JSON.stringify(end.body));
    assert.equal(end.body.status, "ended");
    assert.equal(end.body.endReason, "ended");
    const [ea, eb] = await Promise.all([once(a.video, "session:end", SLOW_EVENT), once(b.video, "session:end", SLOW_EVENT)]);
    assert.equal(ea.reason, "ended");
    assert.deepEqual(eb, ea);
    const pa = await api("POST", `/sessions/${id}/choice`, { base: a.base, token: a.token, body: { choice: "PASS" } });
    assert.equal(pa.status, 200, JSON.stringify(pa.body));
    assert.equal(pa.body.status, "pending");
    const pb = await api("POST", `/sessions/${id}/choice`, { base: b.base, token: b.token, body: { choice: "MATCH" } });
    assert.deepEqual(pb.body, { status: "resolved", outcome: "non_mutual" });
    await Promise.all([once(a.video, "match:non_mutual", SLOW_EVENT), once(b.video, "match:non_mutual", SLOW_EVENT)]);
    // The timer still fires at endAt: no second session:end.
    await sleep(CALL_SECONDS * 1000);
    await expectNoEvent(a.video, "session:end");
  });

  test("a /video socket that connects during the call gets session:start again", T, async () => {
    const { a, sa, id } = await pair();
    a.video.disconnect();
    const again = await connect(a.token, { base: a.base, nsp: "/video" });
    const s = await once(again, "session:start", SLOW_EVENT);
    assert.equal(s.sessionId, id);
    assert.equal(s.channelName, sa.channelName);
    assert.equal(s.endAt, sa.endAt);
  });

  test("strangers get 404 and 403; bad choices 400", T, async () => {
    const { a, id } = await pair();
    const stranger = await signup(ONE);
    assertError(await api("GET", `/sessions/${id}`, { base: ONE, token: stranger.token }), 404, "SESSION_NOT_FOUND");
    assertError(await api("GET", `/sessions/not-a-session`, { base: ONE, token: a.token }), 404, "SESSION_NOT_FOUND");
    assertError(await api("POST", `/sessions/${id}/end`, { base: ONE, token: stranger.token }), 404, "SESSION_NOT_FOUND");
    assertError(
      await api("POST", `/sessions/${id}/choice`, { base: ONE, token: stranger.token, body: { choice: "MATCH" } }),
      403,
      "NOT_A_PARTICIPANT",
    );
    for (const body of [{ choice: "maybe" }, { choice: "match" }, {}, { choice: 1 }]) {
      assertError(await api("POST", `/sessions/${id}/choice`, { base: ONE, token: a.token, body }), 400, "INVALID_CHOICE");
    }
    assertError(await api("GET", `/sessions/${id}`), 401, "TOKEN_MISSING");
  });

  test("leaving before a pair refunds the token, once", T, async () => {
    const u = await dater(ONE);
    const j = await join(u, { region: region() });
    assert.equal(j.status, 201);
    assert.equal(await balance(u), 2);
    const left = await api("DELETE", "/queue/leave", { base: u.base, token: u.token });
    assert.deepEqual(left.body, { status: "left", refunded: true });
    assert.equal(await balance(u), 3);
    const twice = await api("DELETE", "/queue/leave", { base: u.base, token: u.token });
    assert.deepEqual(twice.body, { status: "not_queued", refunded: false });
    assert.equal(await balance(u), 3);
    const st = await api("GET", "/queue/status", { base: u.base, token: u.token });
    assert.deepEqual(st.body, { status: "not_queued" });
  });

  test("a user whose /queue sockets stay gone past the grace leaves with a refund and is told", T, async () => {
    const u = await dater(ONE);
    assert.equal((await join(u, { region: region() })).status, 201);
    u.queue.disconnect();
    // The server keeps the notice before it refunds: once the token is
    // back, the next connect is told.
    const deadline = Date.now() + SLOW_EVENT;
    for (;;) {
      const st = await api("GET", "/queue/status", { base: u.base, token: u.token });
      if (st.body.status === "not_queued" && (await balance(u)) === 3) break;
      assert.ok(Date.now() < deadline, "still queued, or not refunded, after the grace");
      await sleep(100);
    }
    const back = await connect(u.token, { base: u.base, nsp: "/queue" });
    assert.deepEqual(await once(back, "queue:left", EVENT_TIMEOUT), { reason: "DISCONNECTED", refunded: true });
  });

  test("a reload inside the grace keeps the place", T, async () => {
    const u = await dater(ONE);
    const j = await join(u, { region: region() });
    u.queue.disconnect();
    const back = await connect(u.token, { base: u.base, nsp: "/queue" });
    await sleep(2_000); // twice the grace
    const st = await api("GET", "/queue/status", { base: u.base, token: u.token });
    assert.deepEqual(st.body, { status: "queued", queueKey: j.body.queueKey, position: 0 });
    await expectNoEvent(back, "queue:left");
  });

  test("join errors: 400 region and preferences, 401 without a token", T, async () => {
    const u = await signup(ONE);
    for (const body of [{}, { region: "" }, { region: "eu west" }, { region: "x".repeat(33) }, { region: 5 }]) {
      assertError(await join(u, body), 400, "INVALID_REGION");
    }
    for (const preferences of [[1], "x", { a: { b: 1 } }, { a: [1] }, Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, i]))]) {
      assertError(await join(u, { region: "eu", preferences }), 400, "INVALID_PREFERENCES");
    }
    assertError(await api("POST", "/queue/join", { base: ONE, body: { region: "eu" } }), 401, "TOKEN_MISSING");
    assert.equal(await balance(u), 3, "nothing charged");
    const err = await connectError(undefined, { base: ONE, nsp: "/queue" });
    assertConnectError(err, "TOKEN_MISSING");
  });

  test("without tokens the join is 402 and nothing is queued", { timeout: 40_000 }, async () => {
    // The main instance grants no sign-up bonus.
    const res = await api("POST", "/auth/signup-anonymous", { base: BASE_URL });
    const token = res.body.accessToken;
    assertError(await api("POST", "/queue/join", { base: BASE_URL, token, body: { region: "eu" } }), 402, "INSUFFICIENT_TOKENS");
    const st = await api("GET", "/queue/status", { base: BASE_URL, token });
    assert.deepEqual(st.body, { status: "not_queued" });
  });
});
