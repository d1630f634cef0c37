/**
 * @module routes/widget
 * Serves the embeddable chat widget and the demo page:
 * - `GET /widget/<version>.js`: the bundle of that version, immutable, for host pages that pin it
 *   with `integrity` (SRI);
 * - `GET /widget.js`: the current version under a moving name (short cache; SRI cannot pin a
 *   moving file, so production pages should use the versioned URL);
 * - `GET /widget.json`: `{ version, url, integrity, tag }`, the published SRI hash and a ready tag;
 * - `GET /`: a demo page that embeds the widget with the configured publishable key, under the
 *   strict CSP a careful host would use (so the demo also proves the widget works under one).
 * The bundle is built from widget/src by scripts/build-widget.mjs into a generated module, since
 * a Worker has no file system to read it from.
 */
import { Hono, type Context } from "hono";
import type { AppEnv } from "../app";
import { WIDGET_INTEGRITY, WIDGET_JS, WIDGET_VERSION } from "./widget-bundle.generated";

export const widget = new Hono<AppEnv>();

/** The versioned path of the current bundle, e.g. `/widget/0.1.0.js`. */
export const WIDGET_PATH = `/widget/${WIDGET_VERSION}.js`;

function scriptResponse(cacheControl: string): Response {
  return new Response(WIDGET_JS, {
    headers: {
      "content-type": "text/javascript; charset=utf-8",
      "cache-control": cacheControl,
      etag: `"${WIDGET_INTEGRITY}"`,
      // Host pages load it cross-origin with `crossorigin="anonymous"` (needed for SRI checks),
      // and pages with COEP need the explicit resource policy.
      "access-control-allow-origin": "*",
      "cross-origin-resource-policy": "cross-origin",
      "x-content-type-options": "nosniff",
      "x-unsandbox-widget-version": WIDGET_VERSION,
    },
  });
}

widget.get("/widget.js", () => scriptResponse("public, max-age=300"));
widget.get(WIDGET_PATH, () => scriptResponse("public, max-age=31536000, immutable"));

widget.get("/widget.json", (c) => {
  const origin = new URL(c.req.url).origin;
  c.header("access-control-allow-origin", "*");
  c.header("cache-control", "public, max-age=300");
  return c.json({
    version: WIDGET_VERSION,
    url: `${origin}${WIDGET_PATH}`,
    integrity: WIDGET_INTEGRITY,
    tag: `<script src="${origin}${WIDGET_PATH}" integrity="${WIDGET_INTEGRITY}" crossorigin="anonymous"></script>`,
  });
});

const DEMO_CSS = `
body { margin: 0; font: 16px/1.5 system-ui, sans-serif; background: #f4f6f9; color: #1b1f24; }
main { max-width: 860px; margin: 0 auto; padding: 24px 16px 48px; }
h1 { font-size: 1.5rem; margin: 0 0 4px; }
p { margin: 0 0 16px; color: #4a5360; }
code { background: #e6eaf0; padding: 1px 5px; border-radius: 4px; }
unsandbox-chat { height: 70vh; }
@media (prefers-color-scheme: dark) {
  body { background: #0e1014; color: #e6e9ee; }
  p { color: #a9b2bf; }
  code { background: #232832; }
}`;

let demoCssHash: Promise<string> | null = null;

/** The CSP hash of the demo's one inline style, computed once per isolate. */
function cssHash(): Promise<string> {
  demoCssHash ??= crypto.subtle
    .digest("SHA-256", new TextEncoder().encode(DEMO_CSS))
    .then((d) => `'sha256-${btoa(String.fromCharCode(...new Uint8Array(d)))}'`);
  return demoCssHash;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

widget.get("/", async (c: Context<AppEnv>) => {
  const config = c.get("config");
  const origin = new URL(c.req.url).origin;
  const key = config.UNSANDBOX_PUBLISHABLE_KEY;
  const filesOrigin = config.PUBLIC_FILES_ORIGIN;
  const chat = key
    ? `<unsandbox-chat endpoint="${escapeHtml(origin)}" key="${escapeHtml(key)}" files-origin="${escapeHtml(filesOrigin)}" label="unsandbox demo chat"></unsandbox-chat>`
    : `<p><strong>No publishable key is configured.</strong> Set <code>UNSANDBOX_PUBLISHABLE_KEY</code> (and <code>UNSANDBOX_ALLOWED_ORIGINS</code>, including ${escapeHtml(origin)}) to try the widget here.</p>`;
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>unsandbox demo</title>
<style>${DEMO_CSS}</style>
<script src="${WIDGET_PATH}" integrity="${WIDGET_INTEGRITY}" crossorigin="anonymous"></script>
</head>
<body>
<main>
<h1>unsandbox</h1>
<p>Ask for a file, for example <code>Write a one-page PDF report about tides</code>. The model writes it in a short-lived sandbox; unsandbox keeps it and gives you a download that still works tomorrow.</p>
${chat}
</main>
</body>
</html>`;
  const files = filesOrigin === origin ? "" : ` ${filesOrigin}`;
  // The strict policy a careful host page would send: only this origin's scripts (with SRI), no
  // inline script, Trusted Types required, images only from here, the files origin and data:.
  const csp = [
    "default-src 'none'",
    `script-src 'self'`,
    `style-src ${await cssHash()}`,
    `connect-src 'self'${files}`,
    `img-src 'self'${files} data:`,
    "require-trusted-types-for 'script'",
    "trusted-types 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
  return new Response(html, {
    headers: {
      "content-type": "text/html; charset=utf-8",
      "content-security-policy": csp,
      "referrer-policy": "no-referrer",
      "x-content-type-options": "nosniff",
      "cache-control": "no-store",
    },
  });
});
