// HTTP rate limiting, against an instance started with THROTTLE_LIMIT=3.
// The limit counts requests per client IP and per route.

import assert from "node:assert/strict";
import { test } from "node:test";

import { BASE_URL_THROTTLED, T, api, assertError } from "./helpers.js";

const skip = BASE_URL_THROTTLED ? false : "BASE_URL_THROTTLED not set";

test("the 4th request to a route within the window is 429 RATE_LIMITED with Retry-After; other routes still work", { ...T, skip }, async () => {
  const base = BASE_URL_THROTTLED;
  // Three requests to GET /rooms/:code are allowed, whatever the code and outcome.
  for (const code of ["AAAA", "BBBB", "CCCC"]) {
    const res = await api("GET", `/rooms/${code}`, { base });
    assert.notEqual(res.status, 429, `request for ${code} was limited too early`);
  }
  const limited = await api("GET", "/rooms/DDDD", { base });
  assertError(limited, 429, "RATE_LIMITED");
  const retry = limited.headers.get("retry-after");
  assert.match(retry ?? "", /^\d+$/, `Retry-After: ${retry}`);
  assert.ok(Number(retry) >= 1 && Number(retry) <= 60, `Retry-After within the 60 s window: ${retry}`);
  // Still limited.
  assertError(await api("GET", "/rooms/EEEE", { base }), 429, "RATE_LIMITED");

  // Another route has its own budget.
  const created = await api("POST", "/rooms", { base, body: { displayName: "Alice" } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const joined = await api("POST", `/rooms/${created.body.roomCode}/join`, { base, body: { displayName: "Bob" } });
  assert.equal(joined.status, 200, JSON.stringify(joined.body));
  // Health checks are never limited.
  for (let i = 0; i < 5; i++) {
    assert.equal((await api("GET", "/healthz", { base })).status, 200);
  }
});
