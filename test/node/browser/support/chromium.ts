/**
 * @module test/node/browser/support/chromium
 * Debian's `chromium` driven by playwright-core (which downloads no browser). A missing browser
 * skips the browser tests with a message, except under `CI=true`, where it fails the run: CI
 * installs the package (.ci/run) and must not pass by testing nothing.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext } from "playwright-core";

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** True when the browser is there; logs why the tests skip, throws under CI when it is not. */
export function chromiumAvailable(): boolean {
  if (existsSync(CHROMIUM_PATH)) return true;
  const message = `${CHROMIUM_PATH} not found: install Debian's chromium (apt-get install chromium) to run the browser tests`;
  if (process.env.CI === "true") throw new Error(message);
  console.warn(`skipping browser tests: ${message}`);
  return false;
}

export interface Chromium {
  context: BrowserContext;
  close(): Promise<void>;
}

/** A fresh headless browser with a temporary profile (no state shared between test files). */
export async function launchChromium(): Promise<Chromium> {
  const profile = mkdtempSync(join(tmpdir(), "unsandbox-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    acceptDownloads: true,
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
  return {
    context,
    async close() {
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
