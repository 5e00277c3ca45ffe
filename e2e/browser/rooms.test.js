// The rooms lobby in two browsers: create, join by code, presence, lock,
// reload with the stored token, kick.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { count, hasText, hidden, id, launch, openPage, snap, T, visible } from "./helpers.js";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/** The member row of the user called name. */
const member = (page, name) => id(page, "member").filter({ has: page.getByTestId("member-name").getByText(name, { exact: true }) });

test("a host creates a room, a guest joins by code, both see each other, the host kicks the guest", T, async () => {
  const host = await openPage(browser);
  const guest = await openPage(browser);

  await id(host, "create-name").fill("Alice");
  await id(host, "create-submit").click();
  const code = id(host, "room-code");
  await hasText(code, /^[A-Z0-9]{4}$/);
  const roomCode = await code.textContent();
  await visible(member(host, "Alice").getByTestId("member-host"));
  await hasText(member(host, "Alice").getByTestId("member-presence"), /^online$/);

  // Lower case works too.
  await id(guest, "join-code").fill(roomCode.toLowerCase());
  await id(guest, "join-name").fill("Bob");
  await id(guest, "join-submit").click();
  await hasText(id(guest, "room-code"), roomCode);

  for (const page of [host, guest]) {
    await count(page, "member", 2);
    await hasText(member(page, "Bob").getByTestId("member-presence"), /^online$/);
    await visible(member(page, "Alice").getByTestId("member-host"));
    await hidden(member(page, "Bob").getByTestId("member-host"));
  }
  // Only the host has the host controls.
  await visible(id(host, "lock-toggle"));
  await hidden(id(guest, "lock-toggle"));
  await hidden(id(guest, "kick"));

  await id(host, "lock-toggle").click();
  await visible(id(guest, "room-locked"));
  await snap(host, "room-host");
  // The README's screenshot, only when asked for (DEMO_SCREENSHOT=path).
  if (process.env.DEMO_SCREENSHOT) await host.screenshot({ path: process.env.DEMO_SCREENSHOT });

  // A reload exchanges the stored token for a fresh one and reconnects.
  await guest.reload();
  await hasText(id(guest, "room-code"), roomCode);
  await count(guest, "member", 2);
  await hasText(member(guest, "Bob").getByTestId("member-presence"), /^online$/);
  await visible(id(guest, "room-locked"));

  // A lost connection comes back by itself, with back-off.
  const attempts = await guest.evaluate(
    () =>
      new Promise((resolve) => {
        const m = window.rendezvousDemo.manager;
        const seen = [];
        m.on("reconnect_attempt", (n) => seen.push(n));
        m.on("open", () => resolve(seen));
        m.ws.close();
      }),
  );
  assert.deepEqual(attempts, [1]);
  await hasText(id(guest, "connection"), /^online$/);
  await hasText(id(guest, "room-status"), /^Connected\.$/);
  await count(guest, "member", 2);
  await hasText(member(host, "Bob").getByTestId("member-presence"), /^online$/);

  await member(host, "Bob").getByTestId("kick").click();
  await hasText(id(guest, "room-over-reason"), /kicked/);
  await count(host, "member", 1);
  await hasText(id(host, "room-status"), /Bob was kicked/);
  await snap(guest, "room-kicked");

  // The kicked guest's token is gone: a reload lands in the lobby.
  await guest.reload();
  await visible(id(guest, "join-form"));
  await hidden(id(guest, "room"));

  assert.deepEqual(host.problems, []);
  await host.context().close();
  await guest.context().close();
});

test("the host hands the host role over, a member leaves, the new host closes the room", T, async () => {
  const a = await openPage(browser);
  const b = await openPage(browser);
  await id(a, "create-name").fill("Carol");
  await id(a, "create-submit").click();
  await hasText(id(a, "room-code"), /^[A-Z0-9]{4}$/);
  await id(b, "join-code").fill(await id(a, "room-code").textContent());
  await id(b, "join-name").fill("Dan");
  await id(b, "join-submit").click();
  await hasText(member(a, "Dan").getByTestId("member-presence"), /^online$/);

  await member(a, "Dan").getByTestId("transfer").click();
  await visible(member(b, "Dan").getByTestId("member-host"));
  await visible(id(b, "close-room"));
  await hidden(id(a, "close-room"));

  // A third member leaves by itself; the host closes the room for the rest.
  const c = await openPage(browser);
  await id(c, "join-code").fill(await id(a, "room-code").textContent());
  await id(c, "join-name").fill("Eve");
  await id(c, "join-submit").click();
  await count(a, "member", 3);
  await id(c, "leave-room").click();
  await hasText(id(c, "room-over-reason"), /You left/);
  await hasText(id(b, "room-status"), /Eve left/);
  await count(b, "member", 2);

  await id(b, "close-room").click();
  for (const page of [a, b]) await hasText(id(page, "room-over-reason"), /closed \(HOST_CLOSED\)/);
  await c.context().close();

  await a.context().close();
  await b.context().close();
});
