/**
 * @module auth/authenticate
 * The authentication middleware for `/v1/*` and `/widget/session`, in every mode:
 *
 * - **single-tenant**: the secret key is `UNSANDBOX_API_KEY`, the one publishable key is
 *   `UNSANDBOX_PUBLISHABLE_KEY` (allowed from `UNSANDBOX_ALLOWED_ORIGINS`), upstream calls use
 *   `OPENAI_API_KEY`, and the secret key has no rate limit (so benchmarks are not throttled).
 * - **multi-tenant**: keys are looked up by hash in the tenant directory (cached ≤ 2 s per
 *   isolate); upstream calls use the tenant's own key when it has one.
 * - **pass-through**: the caller's own OpenAI key is forwarded upstream, and unsandbox's data is
 *   scoped to the tenant `pt_<hash of that key>`. Off by default: it lets anyone with any OpenAI
 *   key store files on the operator's R2. A key must have an upstream key's shape and upstream
 *   must have accepted it (auth/upstream-key.ts) before anything runs for it, so a made-up string
 *   is a 401 that leaves no state behind.
 *
 * Secret keys sent with an `Origin` header (from a browser) are refused, because a key in a web
 * page is public. Publishable keys must come from an allowed origin and, except on
 * `/widget/session`, carry a visitor session (`x-unsandbox-session`).
 */
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app";
import { UnsandboxError } from "../errors";
import { lookupKeyCached } from "../tenants/store";
import { WidgetSettings, type Limits } from "../tenants/schema";
import { unseal } from "../tenants/sealed-key";
import type { Caller } from "./caller";
import { constantTimeEqual, hashKey, looksLikeKey } from "./keys";
import { enforceLimits, type RequestClass } from "./limits";
import { looksLikeUpstreamKey, upstreamAccepts } from "./upstream-key";
import { verifySession } from "./session";

/** The header carrying a visitor session. */
export const SESSION_HEADER = "x-unsandbox-session";

/** A key resolved to its tenant, before origin, session and limits are checked. */
export type ResolvedKey = Omit<Caller, "visitor" | "origin" | "unknownIdsAllowed">;

const resolved = new WeakMap<Request, Promise<ResolvedKey | null>>();

/** The bearer token of the request, or null. CR/LF and other control characters never match. */
export function bearerOf(c: Context): string | null {
  const m = /^Bearer ([\x21-\x7e]+)$/i.exec(c.req.header("authorization") ?? "");
  return m ? m[1]! : null;
}

/** Resolves the request's bearer key once per request (CORS and authentication both ask). */
export function resolveKey(c: Context<AppEnv>): Promise<ResolvedKey | null> {
  let p = resolved.get(c.req.raw);
  if (!p) {
    p = doResolve(c);
    resolved.set(c.req.raw, p);
  }
  return p;
}

async function doResolve(c: Context<AppEnv>): Promise<ResolvedKey | null> {
  const key = bearerOf(c);
  if (!key || !looksLikeKey(key)) return null;
  const config = c.get("config");
  const none: { tenant: Limits; key: Limits } = { tenant: {}, key: {} };
  switch (config.UNSANDBOX_MODE) {
    case "single-tenant": {
      if (config.UNSANDBOX_PUBLISHABLE_KEY && key.startsWith("pk_")) {
        if (!(await constantTimeEqual(key, config.UNSANDBOX_PUBLISHABLE_KEY))) return null;
        const widget = WidgetSettings.parse({
          allowed_origins: config.UNSANDBOX_ALLOWED_ORIGINS.length
            ? config.UNSANDBOX_ALLOWED_ORIGINS
            : ["https://invalid.invalid"],
        });
        return {
          mode: "single-tenant",
          tenant: "default",
          kind: "publishable",
          keyId: "default-publishable",
          limits: none,
          widget,
          upstreamKey: config.OPENAI_API_KEY,
        };
      }
      if (!(await constantTimeEqual(key, config.UNSANDBOX_API_KEY))) return null;
      return {
        mode: "single-tenant",
        tenant: "default",
        kind: "secret",
        keyId: "default-secret",
        limits: none,
        upstreamKey: config.OPENAI_API_KEY,
      };
    }
    case "multi-tenant": {
      const hit = await lookupKeyCached(c.env, await hashKey(key));
      if (!hit) return null;
      const upstreamKey = hit.tenant.upstream_key_sealed
        ? await unseal(hit.tenant.upstream_key_sealed, hit.tenant.id, config.TENANT_KEY_ENCRYPTION_KEYS ?? [])
        : config.OPENAI_API_KEY;
      return {
        mode: "multi-tenant",
        tenant: hit.tenant.id,
        kind: hit.key.kind,
        keyId: hit.key.id,
        limits: { tenant: hit.tenant.limits, key: hit.key.limits },
        features: hit.tenant.features ?? {},
        ...(hit.key.widget ? { widget: hit.key.widget } : {}),
        upstreamKey,
      };
    }
    case "pass-through": {
      if (key.startsWith("pk_") || !looksLikeUpstreamKey(key)) return null;
      return {
        mode: "pass-through",
        tenant: `pt_${(await hashKey(key)).slice(0, 32)}`,
        kind: "secret",
        keyId: "pt",
        limits: none,
        upstreamKey: key,
      };
    }
  }
}

/** Options of `authenticate`. */
export interface AuthenticateOptions {
  /**
   * Whether publishable keys need a visitor session here: everywhere but `/widget/session`,
   * which issues them (and so is limited as session issuance: auth/limits.ts).
   */
  session: "required" | "none";
}

/** Pure: what a request counts as for the rate limits (auth/limits.ts). */
export function requestClass(method: string, options: AuthenticateOptions): RequestClass {
  if (options.session === "none") return "session";
  // Publishable keys reach one POST (creating a response) and GETs of their own responses
  // (auth/route-policy.ts): whatever is not a read counts as a create, the dearer side.
  return method === "GET" || method === "HEAD" ? "read" : "create";
}

/**
 * Authenticates the request, checks origin and session, counts it against its rate limits and
 * sets `caller`, `tenant` and the per-caller `config` (see auth/caller.ts).
 * @throws UnsandboxError 401 `missing_api_key` | `invalid_api_key` | `missing_session` |
 *   `invalid_session` | `session_expired`; 403 `secret_key_in_browser` | `origin_not_allowed`;
 *   429 `rate_limit_exceeded`.
 */
export function authenticate(options: AuthenticateOptions) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const header = c.req.header("authorization");
    if (!header) {
      throw new UnsandboxError(401, "You didn't provide an API key. Send it as `Authorization: Bearer <key>`.", {
        code: "missing_api_key",
      });
    }
    const key = await resolveKey(c);
    if (!key) throw new UnsandboxError(401, "Incorrect API key provided.", { code: "invalid_api_key" });
    const origin = c.req.header("origin");
    const caller: Caller = { ...key, unknownIdsAllowed: key.mode !== "multi-tenant" && key.kind === "secret" };

    if (key.kind === "secret" && origin !== undefined) {
      throw new UnsandboxError(
        403,
        "Secret keys must not be used from a browser: anyone can read a key in a web page. Use a publishable key (pk_…) and a visitor session instead.",
        {
          code: "secret_key_in_browser",
        },
      );
    }
    if (key.kind === "publishable") {
      const origin = requestOrigin(c);
      if (!origin || !key.widget!.allowed_origins.includes(origin)) {
        throw new UnsandboxError(403, "This publishable key is not allowed from this origin.", {
          code: "origin_not_allowed",
        });
      }
      caller.origin = origin;
      if (options.session === "required") caller.visitor = await visitorOf(c, key, origin);
    }

    if (key.mode === "pass-through" && !(await upstreamAccepts(c.get("config"), key.upstreamKey, key.tenant))) {
      throw new UnsandboxError(401, "Incorrect API key provided.", { code: "invalid_api_key" });
    }
    await enforceLimits(
      c.env,
      caller,
      c.req.header("cf-connecting-ip") ?? "unknown",
      requestClass(c.req.method, options),
    );
    c.set("caller", caller);
    c.set("tenant", caller.tenant);
    if (caller.upstreamKey !== c.get("config").OPENAI_API_KEY)
      c.set("config", { ...c.get("config"), OPENAI_API_KEY: caller.upstreamKey });
    await next();
  });
}

/**
 * The page origin a browser request comes from. Browsers send `Origin` on cross-origin requests
 * and on same-origin POSTs, but not on same-origin GETs (the demo page polling its files); those
 * carry `Sec-Fetch-Site: same-origin`, a header page scripts cannot set, and then the page's
 * origin is this request's own.
 */
function requestOrigin(c: Context<AppEnv>): string | undefined {
  const origin = c.req.header("origin");
  if (origin !== undefined) return origin;
  if (c.req.header("sec-fetch-site") === "same-origin") return new URL(c.req.url).origin;
  return undefined;
}

async function visitorOf(c: Context<AppEnv>, key: ResolvedKey, origin: string): Promise<string> {
  const token = c.req.header(SESSION_HEADER);
  if (!token) {
    throw new UnsandboxError(
      401,
      `Publishable keys need a visitor session: POST /widget/session, then send it as ${SESSION_HEADER}.`,
      { code: "missing_session" },
    );
  }
  const result = await verifySession(token, c.get("config").LINK_SECRETS, Date.now());
  if (!result.ok && result.reason === "expired") {
    throw new UnsandboxError(401, "The visitor session has expired; get a new one from POST /widget/session.", {
      code: "session_expired",
    });
  }
  // A session is only good for the key and origin it was issued to.
  if (!result.ok || result.claims.t !== key.tenant || result.claims.k !== key.keyId || result.claims.o !== origin) {
    throw new UnsandboxError(401, "Invalid visitor session.", { code: "invalid_session" });
  }
  return result.claims.v;
}
