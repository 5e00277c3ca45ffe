// Shared helpers of the browser suite: Chromium driven by playwright-core
// against the demo page of the server under test (BASE_URL).

import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const base = (process.env.BASE_URL ?? "").trim().replace(/\/+$/, "");
if (base === "") {
  throw new Error("BASE_URL must be set to the server under test, e.g. http://127.0.0.1:3000");
}
/** The server under test. */
export const BASE_URL = base;

/** Where screenshots go. */
export const ARTIFACTS = process.env.BROWSER_ARTIFACTS || mkdtempSync(join(tmpdir(), "rendezvous-browser-"));
mkdirSync(ARTIFACTS, { recursive: true });

/** Options of every test: a hang fails the test instead of blocking the run. */
export const T = { timeout: 60_000 };

/** How long to wait for a page state that must come. */
export const WAIT = 15_000;

/** Launches Debian's Chromium (or CHROMIUM_PATH) headless. */
export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/**
 * A fresh browser context (its own storage and cookies, like another
 * person's browser) with the demo page open. Console errors and failed
 * page scripts are collected in page.problems.
 */
export async function openPage(browser) {
  const context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
  context.setDefaultTimeout(WAIT);
  const page = await context.newPage();
  page.problems = [];
  page.on("pageerror", (err) => page.problems.push(String(err)));
  page.on("console", (msg) => {
    if (msg.type() === "error") page.problems.push(msg.text());
  });
  await page.goto(BASE_URL + "/");
  return page;
}

/** The locator of a data-testid. */
export const id = (page, testid) => page.getByTestId(testid);

/** Saves a screenshot of page as <name>.png in ARTIFACTS. */
export async function snap(page, name) {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
}

let seq = 0;
/** A name unique to this run. */
export function unique(prefix) {
  seq++;
  return `${prefix}${process.pid.toString(36)}${seq}`;
}

// Waits on page state (playwright-core has no expect(); these wait with
// the locators' auto-waiting up to the context's default timeout).

/** Waits until locator is visible. */
export const visible = (locator) => locator.waitFor({ state: "visible" });

/** Waits until locator is hidden or absent. */
export const hidden = (locator) => locator.waitFor({ state: "hidden" });

/** Waits until the first element of locator has a text matching re. */
export const hasText = (locator, re) => locator.first().filter({ hasText: re }).waitFor({ state: "visible" });

/** Waits until the page has exactly n elements with data-testid testid. */
export function count(page, testid, n) {
  return page.waitForFunction(
    ([t, want]) => document.querySelectorAll(`[data-testid="${t}"]`).length === want,
    [testid, n],
    { timeout: WAIT },
  );
}
