/// <reference lib="dom" />
/**
 * The widget in a real browser (Debian chromium via playwright-core), against unsandbox and the
 * simulated upstream started the way `npm start` starts them:
 * - a host page on its own origin with a strict CSP (scripts and connections only to unsandbox,
 *   no 'unsafe-inline', Trusted Types required with no policy allowed) embeds the widget with
 *   SRI; a prompt streams, a card appears, its download has the simulator's sha256, and a file
 *   name with spaces and non-ASCII survives end to end; the next prompt continues the conversation;
 * - a host origin that is not allowed is refused;
 * - the demo page at `/` gives a newcomer a PDF download;
 * - screenshots (desktop and phone, light and dark) go to screenshots/ (git-ignored).
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePorts, REPO_ROOT } from "../../../scripts/lib/wrangler-dev.mjs";
import { WIDGET_INTEGRITY, WIDGET_VERSION } from "../../../src/routes/widget-bundle.generated";
import { chromiumAvailable, launchChromium, type Chromium } from "./support/chromium";
import { startHost, type HostServer } from "./support/host-server";
import { startUnsandbox, type Unsandbox } from "./support/unsandbox-process";

const KEY = "pk_browser_test_0123";
const FILENAME = "Bericht über Q3 – Café.pdf";
const SCREENSHOTS = join(REPO_ROOT, "screenshots");

interface Logged {
  type: string;
  text?: string;
  detail?: {
    responseId?: string;
    file?: { file_id: string; filename: string; sha256?: string };
    files?: { file_id: string; filename: string }[];
    status?: number;
    message?: string;
  };
}

function hostHtml(unsandbox: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>A host site</title>
<script src="${unsandbox}/widget/${WIDGET_VERSION}.js" integrity="${WIDGET_INTEGRITY}" crossorigin="anonymous"></script>
</head><body><h1>A host site</h1><unsandbox-chat endpoint="${unsandbox}" key="${KEY}"></unsandbox-chat></body></html>`;
}

/** Records the widget's DOM events and every text its last answer showed, in order. */
async function record(page: Page) {
  await page.waitForFunction(() => customElements.get("unsandbox-chat") !== undefined);
  await page.evaluate(() => {
    const w = window as unknown as { __log: unknown[] };
    w.__log = [];
    const el = document.querySelector("unsandbox-chat")!;
    for (const type of ["file-ready", "response-completed", "error"]) {
      el.addEventListener(type, (e) =>
        w.__log.push({ type, detail: JSON.parse(JSON.stringify((e as CustomEvent).detail)) }),
      );
    }
    new MutationObserver(() => {
      const bodies = el.shadowRoot!.querySelectorAll(".msg.assistant .body");
      const last = bodies[bodies.length - 1];
      if (last) w.__log.push({ type: "text", text: last.textContent });
    }).observe(el.shadowRoot!, { subtree: true, childList: true, characterData: true });
  });
}

const log = (page: Page) => page.evaluate(() => (window as unknown as { __log: Logged[] }).__log);

async function ask(page: Page, prompt: string) {
  const input = page.locator("unsandbox-chat textarea");
  await input.fill(prompt);
  await input.press("Enter"); // the keyboard path: Enter sends
}

async function waitFor(page: Page, type: string, count = 1): Promise<Logged[]> {
  await page.waitForFunction(
    ([t, n]) =>
      (window as unknown as { __log: Logged[] }).__log.filter((e) => e.type === t || e.type === "error").length >=
      (n as number),
    [type, count] as const,
    { timeout: 90_000 },
  );
  return log(page);
}

const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

const available = chromiumAvailable();

describe.skipIf(!available)("the widget in chromium", () => {
  let unsandbox: Unsandbox;
  let strictHost: HostServer;
  let forbiddenHost: HostServer;
  let browser: Chromium;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    const [strictPort, forbiddenPort] = (await freePorts(2)) as [number, number];
    const strictOrigin = `http://127.0.0.1:${strictPort}`;
    [unsandbox, browser] = await Promise.all([
      startUnsandbox((origin) => ({
        UNSANDBOX_PUBLISHABLE_KEY: KEY,
        UNSANDBOX_ALLOWED_ORIGINS: `${strictOrigin},${origin}`,
      })),
      launchChromium(),
    ]);
    strictHost = await startHost(strictPort);
    forbiddenHost = await startHost(forbiddenPort);
    const csp = [
      "default-src 'none'",
      `script-src ${unsandbox.origin}`,
      `connect-src ${unsandbox.origin}`,
      `img-src ${unsandbox.origin} data:`,
      "style-src 'none'",
      "require-trusted-types-for 'script'",
      "trusted-types 'none'",
      "base-uri 'none'",
      "form-action 'none'",
    ].join("; ");
    strictHost.page(hostHtml(unsandbox.origin), { "content-security-policy": csp });
    forbiddenHost.page(hostHtml(unsandbox.origin));
    browser.context.on("console", (m) => {
      if (m.type() === "error") consoleErrors.push(m.text());
    });
  });

  afterAll(async () => {
    await Promise.all([browser?.close(), strictHost?.close(), forbiddenHost?.close()]);
    await unsandbox?.stop();
  });

  async function download(page: Page, card: ReturnType<Page["locator"]>) {
    const [dl] = await Promise.all([
      page.waitForEvent("download", { timeout: 60_000 }),
      card.locator("a.download").click(),
    ]);
    return { name: dl.suggestedFilename(), bytes: readFileSync((await dl.path())!) };
  }

  async function simSha(fileId: string): Promise<string> {
    const res = await fetch(`${unsandbox.simOrigin}/__sim/files/${encodeURIComponent(fileId)}`);
    expect(res.status).toBe(200);
    return ((await res.json()) as { sha256: string }).sha256;
  }

  it("streams, shows the card and downloads the simulator's bytes under a strict host CSP", async () => {
    const page = await browser.context.newPage();
    const requests: { url: string; body: Record<string, unknown> | null }[] = [];
    page.on("request", (r) => {
      if (r.method() === "POST" && r.url().endsWith("/v1/responses"))
        requests.push({ url: r.url(), body: r.postDataJSON() });
    });
    await page.goto(strictHost.origin);
    await record(page);
    await ask(page, `Write the quarterly report as a PDF.\nsim: files=${FILENAME}; pace_ms=40`);

    // Screenshots for the README (desktop and phone, light and dark), as soon as the card shows.
    await page.locator("unsandbox-chat .card").first().waitFor({ timeout: 90_000 });
    mkdirSync(SCREENSHOTS, { recursive: true });
    for (const [device, size] of [
      ["desktop", { width: 1280, height: 860 }],
      ["phone", { width: 390, height: 844 }],
    ] as const) {
      for (const scheme of ["light", "dark"] as const) {
        await page.setViewportSize(size);
        await page.emulateMedia({ colorScheme: scheme });
        await page.screenshot({ path: join(SCREENSHOTS, `widget-${device}-${scheme}.png`), fullPage: true });
      }
    }
    await page.setViewportSize({ width: 1280, height: 860 });
    await page.emulateMedia({ colorScheme: "light" });

    const events = await waitFor(page, "file-ready");
    expect(events.filter((e) => e.type === "error")).toEqual([]);
    const completedAt = events.findIndex((e) => e.type === "response-completed");
    expect(completedAt).toBeGreaterThan(-1);
    const completed = events[completedAt]!.detail!;
    // Streamed: the answer showed text before the response completed (the simulator paces its events).
    const before = events.slice(0, completedAt).filter((e) => e.type === "text" && e.text);
    expect(before.length).toBeGreaterThan(0);
    const shown = await page.locator("unsandbox-chat .msg.assistant .body").last().textContent();
    expect(shown).toContain(`Here is your file: ${FILENAME}`);

    const ready = events.find((e) => e.type === "file-ready")!.detail!.file!;
    expect(ready.filename).toBe(FILENAME);
    const card = page.locator("unsandbox-chat .card[data-state=stored]");
    await card.waitFor({ timeout: 60_000 });
    expect(await card.locator(".name").textContent()).toBe(FILENAME);
    expect(await card.locator(".info").textContent()).toMatch(/^PDF · \d/);
    expect(await card.locator("a.download").getAttribute("aria-label")).toBe(`Download ${FILENAME}`);

    const { name, bytes } = await download(page, card);
    expect(name).toBe(FILENAME);
    expect(sha256(bytes)).toBe(await simSha(ready.file_id));

    // The widget's styles applied (adopted stylesheet) and nothing violated the host's CSP or Trusted Types.
    const color = await page.locator("unsandbox-chat button.send").evaluate((b) => getComputedStyle(b).backgroundColor);
    expect(color).toBe("rgb(36, 87, 214)");
    expect(consoleErrors.filter((m) => /Content Security Policy|Trusted Type|integrity/i.test(m))).toEqual([]);

    // The conversation continues: the next turn names the previous response and links its file again.
    await ask(page, "Link the report again.\nsim: scenario=later-turn-link");
    const next = await waitFor(page, "response-completed", 2);
    expect(next.filter((e) => e.type === "error")).toEqual([]);
    expect(requests).toHaveLength(2);
    expect(requests[0]!.body!.previous_response_id).toBeUndefined();
    expect(requests[1]!.body!.previous_response_id).toBe(completed.responseId);
    const link = page.locator("unsandbox-chat .msg.assistant").last().locator("a.file-link");
    expect(await link.textContent()).toBe(FILENAME);
    expect(new URL((await link.getAttribute("href"))!).origin).toBe(unsandbox.origin);
    await page.close();
  });

  it("is refused on a host origin the publishable key does not allow", async () => {
    const direct = await fetch(`${unsandbox.origin}/widget/session`, {
      method: "POST",
      headers: { authorization: `Bearer ${KEY}`, origin: forbiddenHost.origin },
    });
    expect(direct.status).toBe(403);

    const page = await browser.context.newPage();
    await page.goto(forbiddenHost.origin);
    await record(page);
    await ask(page, "Write a PDF.");
    const events = await waitFor(page, "error");
    expect(events.filter((e) => e.type === "error")).toHaveLength(1);
    expect(events.some((e) => e.type === "response-completed")).toBe(false);
    expect((await page.locator("unsandbox-chat .status").textContent())!.length).toBeGreaterThan(0);
    expect(await page.locator("unsandbox-chat .card").count()).toBe(0);
    await page.close();
  });

  it("gives a newcomer a PDF download on the demo page at /", async () => {
    const page = await browser.context.newPage();
    await page.goto(`${unsandbox.origin}/`);
    await record(page);
    await ask(page, "Write a one-page PDF report about tides.");
    const events = await waitFor(page, "file-ready");
    expect(events.filter((e) => e.type === "error")).toEqual([]);
    const file = events.find((e) => e.type === "file-ready")!.detail!.file!;
    expect(file.filename).toBe("report.pdf");
    const card = page.locator("unsandbox-chat .card[data-state=stored]");
    const { name, bytes } = await download(page, card);
    expect(name).toBe("report.pdf");
    expect(sha256(bytes)).toBe(await simSha(file.file_id));
    await page.screenshot({ path: join(SCREENSHOTS, "demo-desktop-light.png") });
    await page.close();
  });
});
