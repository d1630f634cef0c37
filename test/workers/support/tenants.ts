/**
 * Helpers for the tenant and front-door suites: the Worker's own fetch handler under a chosen mode
 * (the env is the test env plus the mode's settings, so the DOs, R2 and the simulator are the
 * real ones), the admin API, tenants with keys, visitor sessions and the official SDK as client.
 */
import { env } from "cloudflare:workers";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import OpenAI from "openai";
import app from "../../../src/index";

export const ADMIN_SECRET = "admin-secret-for-tests-0123456789abcdef";
export const BASE = "https://unsandbox.test";
export const SINGLE_KEY = "usk_test_0123456789abcdef";
export const SINGLE_PK = "pk_test_widget";
export const SINGLE_ORIGIN = "https://host.example";

/** The env of each mode, one object each (config is parsed once per env object). */
export const ENVS = {
  single: { ...(env as object), ADMIN_SECRET },
  multi: {
    ...(env as object),
    UNSANDBOX_MODE: "multi-tenant",
    ADMIN_SECRET,
    TENANT_KEY_ENCRYPTION_KEYS: "e2:tenant-enc-two-0123456789abcdef0123,e1:tenant-enc-one-0123456789abcdef0123",
  },
  passthrough: {
    ...(env as object),
    UNSANDBOX_MODE: "pass-through",
    TENANT_KEY_ENCRYPTION_KEYS: "p1:passthrough-enc-0123456789abcdef0123",
  },
  /** pass-through without the sealing keys it needs: a configuration error. */
  passthroughUnsealed: { ...(env as object), UNSANDBOX_MODE: "pass-through", TENANT_KEY_ENCRYPTION_KEYS: undefined },
} as const;
export type ModeName = keyof typeof ENVS;

/** One request through the Worker's fetch handler in `mode`. */
export async function call(
  mode: ModeName,
  path: string,
  init: RequestInit & { json?: unknown } = {},
): Promise<Response> {
  const headers = new Headers(init.headers);
  let body = init.body;
  if (init.json !== undefined) {
    headers.set("content-type", "application/json");
    body = JSON.stringify(init.json);
  }
  const ctx = createExecutionContext();
  const res = await app.fetch(new Request(`${BASE}${path}`, { ...init, headers, body }), ENVS[mode] as never, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

/** `call` with a bearer key. */
export function as(
  mode: ModeName,
  key: string,
  path: string,
  init: RequestInit & { json?: unknown } = {},
): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set("authorization", `Bearer ${key}`);
  return call(mode, path, { ...init, headers });
}

/** An admin API call in multi-tenant mode; returns status and parsed body. */
export async function adminCall<T = any>(
  method: string,
  path: string,
  json?: unknown,
): Promise<{ status: number; body: T }> {
  const res = await as("multi", ADMIN_SECRET, path, { method, ...(json === undefined ? {} : { json }) });
  return { status: res.status, body: (await res.json()) as T };
}

export interface TestTenant {
  id: string;
  secret: string;
  secretId: string;
  publishable: string;
  publishableId: string;
  origin: string;
}

let counter = 0;

/** Creates a tenant with one secret key and one publishable key (origin `https://<id>.example`). */
export async function makeTenant(
  options: { limits?: object; keyLimits?: object; widget?: object; upstream_key?: string } = {},
): Promise<TestTenant> {
  const id = `t${Date.now().toString(36)}${(counter++).toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const origin = `https://${id}.example`;
  const t = await adminCall("POST", "/admin/tenants", {
    id,
    name: `Tenant ${id}`,
    limits: options.limits ?? {},
    ...(options.upstream_key ? { upstream_key: options.upstream_key } : {}),
  });
  if (t.status !== 201) throw new Error(`create tenant: ${t.status} ${JSON.stringify(t.body)}`);
  const s = await adminCall("POST", `/admin/tenants/${id}/keys`, { kind: "secret", limits: options.keyLimits ?? {} });
  const p = await adminCall("POST", `/admin/tenants/${id}/keys`, {
    kind: "publishable",
    widget: { allowed_origins: [origin], ...options.widget },
  });
  if (s.status !== 201 || p.status !== 201) throw new Error(`create keys: ${JSON.stringify([s.body, p.body])}`);
  return {
    id,
    secret: s.body.key,
    secretId: s.body.record.id,
    publishable: p.body.key,
    publishableId: p.body.record.id,
    origin,
  };
}

/** A visitor session for a publishable key. */
export async function session(mode: ModeName, pk: string, origin: string): Promise<string> {
  const res = await as(mode, pk, "/widget/session", { method: "POST", headers: { origin } });
  if (res.status !== 200) throw new Error(`session: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { session: string }).session;
}

/** The official SDK, pointed at unsandbox in `mode` with `key` (and extra headers). */
export function sdk(mode: ModeName, key: string, headers: Record<string, string> = {}): OpenAI {
  return new OpenAI({
    apiKey: key,
    baseURL: `${BASE}/v1`,
    maxRetries: 0,
    defaultHeaders: headers,
    // The SDK refuses to run "in a browser" unless told; workerd is not one, but be explicit.
    dangerouslyAllowBrowser: true,
    // The answer is handed over at once and its end waits for the request's waitUntil work: a
    // streamed answer is fed from waitUntil, so waiting before returning it would stall the stream.
    fetch: async (input, init) => {
      const req = new Request(input as RequestInfo, init as RequestInit);
      const ctx = createExecutionContext();
      const res = await app.fetch(req, ENVS[mode] as never, ctx);
      if (!res.body) {
        await waitOnExecutionContext(ctx);
        return res;
      }
      const drained = new TransformStream<Uint8Array, Uint8Array>({ flush: () => waitOnExecutionContext(ctx) });
      return new Response(res.body.pipeThrough(drained), res);
    },
  });
}

/** Error body helper. */
export async function errorOf(
  res: Response,
): Promise<{ status: number; code: string | null; type: string; keys: string[] }> {
  const body = (await res.json()) as { error: { code: string | null; type: string } };
  return {
    status: res.status,
    code: body.error?.code ?? null,
    type: body.error?.type,
    keys: Object.keys(body.error ?? {}).sort(),
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
