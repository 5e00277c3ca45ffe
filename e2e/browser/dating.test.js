// The dating loop in two browsers: anonymous sign-up, balance and packs,
// the queue, the call screen with its countdown, MATCH on both sides, the
// match and a chat message seen by the other.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { count, hasText, hidden, id, launch, openPage, snap, T, unique, visible } from "./helpers.js";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

async function signUp(page, name) {
  await id(page, "nav-dating").click();
  await id(page, "signup").click();
  await hasText(id(page, "balance"), /^3$/); // SIGNUP_BONUS_TOKENS=3
  await visible(id(page, "pack").first());
  await id(page, "profile-name").fill(name);
  await id(page, "profile-save").click();
  await hasText(id(page, "queue-status"), new RegExp(`Saved as ${name}`));
}

test("two strangers meet in a call, both choose MATCH, and chat", T, async () => {
  const a = await openPage(browser);
  const b = await openPage(browser);
  await signUp(a, "Ana");
  await signUp(b, "Ben");

  // A queue of this run's own, so that nothing else pairs with them.
  const region = unique("r");
  for (const page of [a, b]) {
    await id(page, "queue-region").fill(region);
    await id(page, "queue-join").click();
  }

  // The call: no Agora credentials here, so no video; a countdown.
  for (const page of [a, b]) {
    await visible(id(page, "call"));
    await visible(id(page, "no-video"));
    await hasText(id(page, "countdown"), /^[0-3]$/);
    await hasText(id(page, "balance"), /^2$/);
    assert.equal(await id(page, "queue-join").isDisabled(), true);
  }
  await snap(a, "dating-call");

  // SESSION_DURATION_SECONDS=3: the server's session:end brings the choice.
  for (const page of [a, b]) {
    await visible(id(page, "choice"));
    await hasText(id(page, "call-status"), /Time is up/);
    await hasText(id(page, "countdown"), /^0$/);
  }
  await id(a, "choice-match").click();
  await hasText(id(a, "outcome"), /Waiting for the other side/);
  await id(b, "choice-match").click();
  for (const page of [a, b]) {
    await visible(page.locator('[data-testid="outcome"][data-outcome="mutual"]'));
    await count(page, "match", 1);
    await visible(id(page, "chat"));
  }
  assert.equal(await id(a, "queue-join").isDisabled(), false);
  await hasText(id(a, "match-name"), /^Ben$/);
  await hasText(id(b, "match-name"), /^Ana$/);
  await hasText(id(a, "chat-partner"), /^Ben$/);

  await id(a, "chat-input").fill("Hello from Ana");
  await id(a, "chat-send").click();
  await hasText(id(a, "message"), /^Hello from Ana$/);
  // The other side sees it live, over /chat.
  await hasText(id(b, "message"), /^Hello from Ana$/);
  await id(b, "chat-input").fill("Hi Ana!");
  await id(b, "chat-send").click();
  await hasText(id(a, "message").nth(1), /^Hi Ana!$/);
  await snap(b, "dating-chat");

  // After a reload the stored access token signs the user in again and
  // the history is there.
  await b.reload();
  await hasText(id(b, "balance"), /^2$/);
  await id(b, "open-chat").click();
  await count(b, "message", 2);
  await hidden(id(b, "signup"));

  assert.deepEqual(a.problems, []);
  assert.deepEqual(b.problems, []);
  await a.context().close();
  await b.context().close();
});
