/**
 * @module config
 * The configuration contract: one zod schema over the Worker's env (vars, secrets, bindings).
 * It is checked on the first request of an isolate (no network probe) and every problem names
 * the setting and how to set it, because a misconfigured deploy should say so in one read.
 */
import { z } from "zod";
import { UnsandboxError } from "./errors";

const HOW = "set it with `wrangler secret put NAME` in production, or in .dev.vars locally (see .dev.vars.example)";

/** `kid:secret[,kid:secret…]`; the first key signs new links, every listed key verifies. */
const linkSecrets = z.string({ error: `LINK_SECRETS is missing: ${HOW}` }).transform((raw, ctx) => {
  const keys: { kid: string; secret: string }[] = [];
  for (const entry of raw
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)) {
    const at = entry.indexOf(":");
    const kid = entry.slice(0, at);
    const secret = entry.slice(at + 1);
    if (at <= 0 || !/^[A-Za-z0-9_-]{1,16}$/.test(kid) || secret.length < 32) {
      ctx.addIssue({
        code: "custom",
        message:
          "LINK_SECRETS must be `kid:secret` pairs separated by commas, each kid 1-16 of [A-Za-z0-9_-] and each secret at least 32 characters (e.g. `k1:$(openssl rand -hex 32)`)",
      });
      return z.NEVER;
    }
    keys.push({ kid, secret });
  }
  if (keys.length === 0) {
    ctx.addIssue({ code: "custom", message: `LINK_SECRETS is empty: ${HOW}` });
    return z.NEVER;
  }
  return keys;
});

const origin = z
  .string({
    error: `PUBLIC_FILES_ORIGIN is missing: the absolute origin of download links, e.g. https://files.example.com; ${HOW}`,
  })
  .transform((raw, ctx) => {
    try {
      const url = new URL(raw);
      if ((url.protocol === "https:" || url.protocol === "http:") && url.origin === raw.replace(/\/$/, ""))
        return url.origin;
    } catch {}
    ctx.addIssue({
      code: "custom",
      message: `PUBLIC_FILES_ORIGIN must be an origin like https://files.example.com (no path), got ${JSON.stringify(raw)}`,
    });
    return z.NEVER;
  });

const list = z
  .string()
  .optional()
  .transform((raw) =>
    (raw ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
  );

/** The Durable Objects location hints (https://developers.cloudflare.com/durable-objects/reference/data-location/). */
export const LOCATION_HINTS = ["wnam", "enam", "sam", "weur", "eeur", "apac", "oc", "afr", "me"] as const;

export const ConfigSchema = z
  .object({
    OPENAI_API_KEY: z
      .string({ error: `OPENAI_API_KEY is missing: the upstream key; ${HOW}` })
      .min(1, `OPENAI_API_KEY is empty: ${HOW}`),
    OPENAI_BASE_URL: z
      .url({
        error:
          "OPENAI_BASE_URL must be an absolute URL such as https://api.openai.com/v1 (set it in wrangler.toml [vars] or .dev.vars)",
      })
      .default("https://api.openai.com/v1")
      .transform((u) => u.replace(/\/+$/, "")),
    UNSANDBOX_API_KEY: z
      .string({ error: `UNSANDBOX_API_KEY is missing: the bearer key clients send in single-tenant mode; ${HOW}` })
      .min(16, "UNSANDBOX_API_KEY must be at least 16 characters"),
    PUBLIC_FILES_ORIGIN: origin,
    LINK_SECRETS: linkSecrets,
    UNSANDBOX_PUBLISHABLE_KEY: z.string().startsWith("pk_", "UNSANDBOX_PUBLISHABLE_KEY must start with pk_").optional(),
    UNSANDBOX_ALLOWED_ORIGINS: list,
    /**
     * How the upstream key is sent: `authorization` (`Authorization: Bearer …`, OpenAI) or `api-key`
     * (`api-key: …`, Azure OpenAI and gateways like it). Applies to every upstream call.
     */
    UPSTREAM_AUTH_HEADER: z
      .enum(["authorization", "api-key"], {
        error: "UPSTREAM_AUTH_HEADER must be authorization (Bearer, default) or api-key",
      })
      .default("authorization"),
    /** Query parameters added to every upstream call, e.g. `api-version=2025-04-01-preview` for Azure-style gateways. */
    UPSTREAM_QUERY: z
      .string()
      .optional()
      .transform((raw) => [...new URLSearchParams(raw ?? "")].filter(([k]) => k !== "")),
    /**
     * Where new container trackers are placed: a Durable Objects location hint
     * (https://developers.cloudflare.com/durable-objects/reference/data-location/), e.g. `wnam`
     * when upstream and the bucket are in western North America. A tracker talks to upstream and
     * R2 far more than to the Worker that opened it. Unset: next to the first request.
     */
    TRACKER_LOCATION_HINT: z.preprocess(
      (raw) => (raw === "" ? undefined : raw),
      z
        .enum(LOCATION_HINTS, {
          error: `TRACKER_LOCATION_HINT must be one of ${LOCATION_HINTS.join(", ")} (Durable Objects location hints)`,
        })
        .optional(),
    ),
    /**
     * Which requests write unsandbox's `request` log line (src/observability/log-policy.ts):
     * `notable` (default) only those that say more than the platform's own request metrics (a
     * refusal or failure, a degraded answer, containers, links or files), `all` every request.
     */
    REQUEST_LOG: z
      .enum(["notable", "all"], { error: "REQUEST_LOG must be notable (default) or all" })
      .default("notable"),
    /**
     * How long this isolate gathers request usage before sending it to the tenant's meter, in ms
     * (src/metering/record.ts): one meter write per isolate per interval, however many requests.
     * At most 25,000: the batch is kept alive by the `waitUntil` of the request that opened it,
     * which lasts at most 30 s after its answer.
     */
    USAGE_FLUSH_MS: z.coerce
      .number({ error: "USAGE_FLUSH_MS must be a number of milliseconds" })
      .int("USAGE_FLUSH_MS must be a whole number of milliseconds")
      .min(0, "USAGE_FLUSH_MS must be at least 0")
      .max(25_000, "USAGE_FLUSH_MS must be at most 25000 (a request's waitUntil lasts at most 30 s)")
      .default(20_000),
    /** Who may call and whose upstream key is used: see README "Modes and tenants" and src/auth/. */
    UNSANDBOX_MODE: z
      .enum(["single-tenant", "multi-tenant", "pass-through"], {
        error: "UNSANDBOX_MODE must be single-tenant (default), multi-tenant or pass-through",
      })
      .default("single-tenant"),
    /** Bearer secret of the /admin API; the admin API answers 404 while it is unset. */
    ADMIN_SECRET: z
      .string()
      .min(32, "ADMIN_SECRET must be at least 32 characters (e.g. `openssl rand -hex 32`)")
      .optional(),
    /** `kid:secret[,…]` encrypting tenants' upstream keys (AES-GCM); the first encrypts, all decrypt. */
    TENANT_KEY_ENCRYPTION_KEYS: z
      .string()
      .optional()
      .transform((raw, ctx) => {
        if (raw === undefined) return undefined;
        const keys = raw
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean)
          .map((e) => ({ kid: e.slice(0, e.indexOf(":")), secret: e.slice(e.indexOf(":") + 1) }));
        if (keys.length === 0 || keys.some((k) => !/^[A-Za-z0-9_-]{1,16}$/.test(k.kid) || k.secret.length < 32)) {
          ctx.addIssue({
            code: "custom",
            message:
              "TENANT_KEY_ENCRYPTION_KEYS must be `kid:secret` pairs (kid 1-16 of [A-Za-z0-9_-], secret at least 32 characters)",
          });
          return z.NEVER;
        }
        return keys;
      }),
  })
  .superRefine((c, ctx) => {
    // Both modes keep upstream keys other than OPENAI_API_KEY for work after the request: sealed.
    if (c.UNSANDBOX_MODE !== "single-tenant" && !c.TENANT_KEY_ENCRYPTION_KEYS) {
      ctx.addIssue({
        code: "custom",
        message: `TENANT_KEY_ENCRYPTION_KEYS is required in ${c.UNSANDBOX_MODE} mode: ${HOW}`,
      });
    }
  });

export type Config = z.infer<typeof ConfigSchema>;

/**
 * The bindings the Worker needs besides its settings (declared in wrangler.toml). Their types
 * come from `Env`, which `wrangler types` generates from wrangler.toml into
 * worker-configuration.d.ts (`npm run typecheck` fails when that file is stale), so each Durable
 * Object namespace is typed with its class and callers need no casts.
 */
export interface Bindings {
  FILES: Env["FILES"];
  /** One tracker per container (src/tracker/container-tracker.ts). */
  CONTAINER_TRACKER: Env["CONTAINER_TRACKER"];
  /** One index per response (src/tracker/response-index.ts). */
  RESPONSE_INDEX: Env["RESPONSE_INDEX"];
  /** Tenants and their keys (src/tenants/directory.ts). */
  TENANT_DIRECTORY: Env["TENANT_DIRECTORY"];
  /** Who owns each upstream id (src/tenants/ownership.ts). */
  OWNERSHIP_LEDGER: Env["OWNERSHIP_LEDGER"];
  /** Exact request counters for rate limits (src/tenants/rate-counter.ts). */
  RATE_COUNTER: Env["RATE_COUNTER"];
  /** Usage counters per tenant (src/metering/meter.ts). */
  USAGE_METER: Env["USAGE_METER"];
  [setting: string]: unknown;
}

const cache = new WeakMap<object, Config>();

/**
 * Parses the env once per env object (an isolate keeps the same object across requests).
 * @throws UnsandboxError 500 `configuration_error` naming every problem.
 */
export function loadConfig(env: object): Config {
  const hit = cache.get(env);
  if (hit) return hit;
  const parsed = ConfigSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => i.message).join("; ");
    throw new UnsandboxError(500, `unsandbox is not configured: ${problems}`, {
      type: "configuration_error",
      code: "configuration_error",
    });
  }
  cache.set(env, parsed.data);
  return parsed.data;
}
