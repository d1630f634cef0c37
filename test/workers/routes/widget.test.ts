import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { WIDGET_INTEGRITY, WIDGET_VERSION } from "../../../src/routes/widget-bundle.generated";

const ORIGIN = "https://unsandbox.test";

async function sri(bytes: ArrayBuffer): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-384", bytes));
  return `sha384-${btoa(String.fromCharCode(...digest))}`;
}

describe("widget routes", () => {
  it("serves the versioned bundle, immutable, cross-origin, with bytes matching the published SRI hash", async () => {
    const meta = await exports.default.fetch(`${ORIGIN}/widget.json`);
    expect(meta.status).toBe(200);
    const { url, integrity, version, tag } = (await meta.json()) as Record<string, string>;
    expect(version).toBe(WIDGET_VERSION);
    expect(url).toBe(`${ORIGIN}/widget/${WIDGET_VERSION}.js`);
    expect(tag).toContain(`integrity="${integrity}"`);

    const res = await exports.default.fetch(url!);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("cache-control")).toContain("immutable");
    expect(await sri(await res.arrayBuffer())).toBe(integrity);
    expect(integrity).toBe(WIDGET_INTEGRITY);
  });

  it("serves the same bytes under the moving /widget.js name with a short cache", async () => {
    const [alias, pinned] = await Promise.all([
      exports.default.fetch(`${ORIGIN}/widget.js`),
      exports.default.fetch(`${ORIGIN}/widget/${WIDGET_VERSION}.js`),
    ]);
    expect(alias.headers.get("cache-control")).toBe("public, max-age=300");
    expect(alias.headers.get("x-unsandbox-widget-version")).toBe(WIDGET_VERSION);
    expect(await alias.text()).toBe(await pinned.text());
  });

  it("answers an unknown version with OpenAI's 404 shape", async () => {
    const res = await exports.default.fetch(`${ORIGIN}/widget/0.0.0-nope.js`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("unknown_route");
  });

  it("serves a demo page that embeds the widget with the publishable key under a strict CSP", async () => {
    const res = await exports.default.fetch(`${ORIGIN}/`);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain(
      `<script src="/widget/${WIDGET_VERSION}.js" integrity="${WIDGET_INTEGRITY}" crossorigin="anonymous"></script>`,
    );
    expect(html).toContain(`endpoint="${ORIGIN}" key="pk_test_widget" files-origin="https://files.unsandbox.test"`);
    const csp = res.headers.get("content-security-policy")!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("require-trusted-types-for 'script'");
    expect(csp).not.toContain("unsafe-inline");
    expect(csp).toContain("connect-src 'self' https://files.unsandbox.test");
    // The one inline style is allowed by its hash, and the hash is of exactly that style.
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1]!;
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(style)));
    expect(csp).toContain(`style-src 'sha256-${btoa(String.fromCharCode(...digest))}'`);
  });
});
