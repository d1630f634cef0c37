/**
 * @module tenants/store
 * The Worker's side of the tenant directory: stubs, and per-isolate caches of what it answers
 * (src/durable/lookup-cache.ts: single-flight, stale-if-error).
 *
 * Budgets (docs/architecture.md, "Shared objects"): in single-tenant and pass-through mode nothing
 * here calls the directory. In multi-tenant mode a key, an origin or a tenant record costs one
 * directory call per isolate per KEY_CACHE_MS, however many requests ask at once.
 *
 * Revocation: a key revoked in the directory is refused everywhere within KEY_CACHE_MS plus one
 * directory round trip (the README promises 5 s). Only while the directory fails does an isolate
 * keep serving what it last read, for at most STALE_IF_ERROR_MS after it read it; past that the
 * request fails instead of guessing.
 */
import type { Bindings, Config } from "../config";
import { loadConfig } from "../config";
import { LookupCache } from "../durable/lookup-cache";
import { seal, unseal } from "./sealed-key";
import { UnsandboxError } from "../errors";
import type { KeyLookup, TenantDirectory } from "./directory";
import type { TenantRecord } from "./schema";

/** How long an isolate trusts a lookup. Revocation takes effect within this (plus one RPC). */
export const KEY_CACHE_MS = 2_000;
/** How long a lookup may still be served while the directory fails (never when it answers). */
export const STALE_IF_ERROR_MS = 30_000;
/**
 * How long an isolate trusts a tenant record for work after a request (a tracker's limits and
 * upstream key when the request did not hand them over): a revoked tenant's later work stops
 * within this.
 */
export const TENANT_CACHE_MS = 30_000;

/** The single directory instance. */
export function directory(env: Bindings): DurableObjectStub<TenantDirectory> {
  return env.TENANT_DIRECTORY.getByName("directory");
}

const bounds = { freshMs: KEY_CACHE_MS, staleIfErrorMs: STALE_IF_ERROR_MS, maxEntries: 10_000 };
const keyCache = new LookupCache<KeyLookup | null>(bounds);
const originCache = new LookupCache<boolean>(bounds);
const tenantCache = new LookupCache<TenantRecord | null>({
  ...bounds,
  freshMs: TENANT_CACHE_MS,
  staleIfErrorMs: 10 * TENANT_CACHE_MS,
});

/** The active key with this hash and its tenant, cached per isolate for at most KEY_CACHE_MS. */
export function lookupKeyCached(env: Bindings, hash: string, now = Date.now()): Promise<KeyLookup | null> {
  return keyCache.get(hash, () => directory(env).lookupKey(hash), now);
}

/** Whether some publishable key allows this origin (for CORS preflight), cached like keys. */
export function originAllowedCached(env: Bindings, origin: string, now = Date.now()): Promise<boolean> {
  return originCache.get(origin, () => directory(env).originAllowed(origin), now);
}

/**
 * A tenant's record for work after a request (its limits, its sealed upstream key), cached for
 * TENANT_CACHE_MS. Null, without any call, outside multi-tenant mode: there the deployment's settings are
 * the tenant's. `caller`: the Durable Object asking, which shares a call under way with no other
 * object (src/durable/lookup-cache.ts); absent on the Worker's request path.
 */
export function tenantRecordFor(
  env: Bindings,
  tenant: string,
  now = Date.now(),
  caller?: object,
): Promise<TenantRecord | null> {
  if (loadConfig(env).UNSANDBOX_MODE !== "multi-tenant") return Promise.resolve(null);
  return tenantCache.get(tenant, () => directory(env).tenantRecord(tenant), now, caller);
}

/** Drops this isolate's cached lookups (the admin API calls it after every change it makes). */
export function forgetCachedLookups(): void {
  keyCache.clear();
  originCache.clear();
  tenantCache.clear();
}

/**
 * The OpenAI key to use for `tenant` in work that runs after the request (alarms, sweeps,
 * background polling). Single-tenant: the deployment's key. Multi-tenant: the tenant's own key,
 * unsealed, or the deployment's when it has none. Pass-through tenants (`pt_…`) have no stored
 * key: whoever holds their work must keep the caller's key sealed with `seal()` for that long.
 * @throws UnsandboxError 404 `tenant_not_found` when the tenant does not exist or was revoked.
 */
export async function upstreamKeyFor(env: Bindings, config: Config, tenant: string, caller?: object): Promise<string> {
  if (config.UNSANDBOX_MODE !== "multi-tenant") return config.OPENAI_API_KEY;
  const record = await tenantRecordFor(env, tenant, Date.now(), caller);
  if (!record || record.status !== "active") {
    throw new UnsandboxError(404, `Tenant ${tenant} does not exist or was revoked`, { code: "tenant_not_found" });
  }
  return record.upstream_key_sealed
    ? unseal(record.upstream_key_sealed, tenant, config.TENANT_KEY_ENCRYPTION_KEYS ?? [])
    : config.OPENAI_API_KEY;
}

/**
 * A pass-through caller's upstream key sealed for work that outlives the request, or null when
 * that work can find the key itself (`upstreamKeyFor`: the deployment's key, or a multi-tenant
 * tenant's from the directory, which an admin may rotate). Pass-through callers' keys exist
 * nowhere else, so whoever schedules work for them (container trackers, a response's background
 * watch) keeps this string while the work lasts and opens it with `keyForLaterWork`.
 */
export async function sealForLaterWork(
  config: Config,
  caller: { mode: string; tenant: string; upstreamKey: string },
): Promise<string | null> {
  if (caller.mode !== "pass-through" || caller.upstreamKey === config.OPENAI_API_KEY) return null;
  return seal(caller.upstreamKey, caller.tenant, config.TENANT_KEY_ENCRYPTION_KEYS ?? []);
}

/**
 * What a tracker needs of a multi-tenant tenant, handed to it with the request that opens it so it
 * need not ask the one directory for every new container: the tenant's limits (as the key lookup
 * returned them, at most KEY_CACHE_MS old) and its upstream key, sealed (null: the deployment's).
 * Null outside multi-tenant mode (no tenant records: the deployment's limits and key).
 */
export interface TenantHandOff {
  limits: Record<string, unknown> | null;
  upstreamKeySealed: string | null;
}

export async function tenantForLaterWork(
  config: Config,
  caller: { mode: string; tenant: string; upstreamKey: string; limits: { tenant: object } } | undefined,
): Promise<TenantHandOff | null> {
  if (!caller || config.UNSANDBOX_MODE !== "multi-tenant" || caller.mode !== "multi-tenant") return null;
  const own = caller.upstreamKey !== config.OPENAI_API_KEY;
  return {
    limits: { ...caller.limits.tenant },
    upstreamKeySealed: own
      ? await seal(caller.upstreamKey, caller.tenant, config.TENANT_KEY_ENCRYPTION_KEYS ?? [])
      : null,
  };
}

/**
 * The upstream key for work done after a request: the sealed caller's key when one was kept, else
 * `upstreamKeyFor`. `caller`: the Durable Object doing the work (its instance), so its lookup is
 * never a promise another object made (src/durable/lookup-cache.ts).
 */
export async function keyForLaterWork(
  env: Bindings,
  config: Config,
  tenant: string,
  sealed: string | null | undefined,
  caller: object,
): Promise<string> {
  if (sealed) return unseal(sealed, tenant, config.TENANT_KEY_ENCRYPTION_KEYS ?? []);
  return upstreamKeyFor(env, config, tenant, caller);
}
