/**
 * Helpers for the suites that call the Worker with an env of their choosing (log lines, metering,
 * health, OpenAPI, managed containers): the Worker's own fetch handler with that env (the real
 * R2, Durable Objects and simulator behind it), waiting for
 * `waitUntil` work (metering) before returning, and the official SDK pointed at it.
 */
import { env } from "cloudflare:workers";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import OpenAI from "openai";
import app from "../../../src/index";

export const ADMIN_SECRET = "admin-secret-for-production-tests-0123456789";
export const KEY = "usk_test_0123456789abcdef";
export const BASE = "https://unsandbox.test";

/** The test env plus an admin secret (config is parsed once per env object, so it is one object). */
export const ENV = { ...(env as object), ADMIN_SECRET } as never;

/** One request through the Worker, waiting for its `waitUntil` work. */
export async function call(path: string, init: RequestInit = {}, environment: unknown = ENV): Promise<Response> {
  const ctx = createExecutionContext();
  const req = new Request(path.startsWith("http") ? path : `${BASE}${path}`, init);
  const res = await app.fetch(req, environment as never, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

/** The SDK as an app uses it, through `call` (with `environment`, default `ENV`). */
export function client(headers: Record<string, string> = {}, environment: unknown = ENV): OpenAI {
  return new OpenAI({
    apiKey: KEY,
    baseURL: `${BASE}/v1`,
    maxRetries: 0,
    defaultHeaders: headers,
    fetch: (input, init) =>
      call(String(input instanceof Request ? input.url : input), init as RequestInit, environment),
  });
}

/** The usage report of one tenant through the admin route. */
export async function usage(tenant = "default"): Promise<any> {
  const res = await call(`/admin/usage/${tenant}`, { headers: { authorization: `Bearer ${ADMIN_SECRET}` } });
  if (res.status !== 200) throw new Error(`usage: ${res.status} ${await res.text()}`);
  return res.json();
}

/** Console lines that parse as JSON objects with the given `event`. */
export function linesOf(spy: { mock: { calls: unknown[][] } }, event: string): any[] {
  const out: any[] = [];
  for (const args of spy.mock.calls) {
    if (typeof args[0] !== "string") continue;
    try {
      const v = JSON.parse(args[0]);
      if (v && v.event === event) out.push(v);
    } catch {}
  }
  return out;
}
