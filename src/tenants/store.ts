/**
 * @module tenants/store
 * The Worker's side of the tenant directory: stubs, and a per-isolate cache of key lookups.
 *
 * The cache holds an answer (found or not) for KEY_CACHE_MS. With that bound a key revoked in the
 * directory is refused everywhere within KEY_CACHE_MS plus one directory round trip, well inside
 * the promised 5 seconds, while a busy key costs one directory call per isolate per interval.
 */
import type { Bindings, Config } from "../config";
import { seal, unseal } from "./sealed-key";
import { UnsandboxError } from "../errors";
import type { KeyLookup, TenantDirectory } from "./directory";

/** How long an isolate trusts a lookup. Revocation takes effect within this (plus one RPC). */
export const KEY_CACHE_MS = 2_000;

/** The single directory instance. */
export function directory(env: Bindings): DurableObjectStub<TenantDirectory> {
  return env.TENANT_DIRECTORY.getByName("directory");
}

const keyCache = new Map<string, { at: number; value: KeyLookup | null }>();
const originCache = new Map<string, { at: number; value: boolean }>();
const MAX_CACHE_ENTRIES = 10_000;

/** The active key with this hash and its tenant, cached per isolate for at most KEY_CACHE_MS. */
export async function lookupKeyCached(env: Bindings, hash: string, now = Date.now()): Promise<KeyLookup | null> {
  const hit = keyCache.get(hash);
  if (hit && now - hit.at < KEY_CACHE_MS) return hit.value;
  const value = await directory(env).lookupKey(hash);
  if (keyCache.size >= MAX_CACHE_ENTRIES) keyCache.clear();
  keyCache.set(hash, { at: now, value });
  return value;
}

/** Whether some publishable key allows this origin (for CORS preflight), cached like keys. */
export async function originAllowedCached(env: Bindings, origin: string, now = Date.now()): Promise<boolean> {
  const hit = originCache.get(origin);
  if (hit && now - hit.at < KEY_CACHE_MS) return hit.value;
  const value = await directory(env).originAllowed(origin);
  if (originCache.size >= MAX_CACHE_ENTRIES) originCache.clear();
  originCache.set(origin, { at: now, value });
  return value;
}

/** Drops this isolate's cached lookups (the admin API calls it after every change it makes). */
export function forgetCachedLookups(): void {
  keyCache.clear();
  originCache.clear();
}

/**
 * The OpenAI key to use for `tenant` in work that runs after the request (alarms, sweeps,
 * background polling). Single-tenant: the deployment's key. Multi-tenant: the tenant's own key,
 * unsealed, or the deployment's when it has none. Pass-through tenants (`pt_…`) have no stored
 * key: whoever holds their work must keep the caller's key sealed with `seal()` for that long.
 * @throws UnsandboxError 404 `tenant_not_found` when the tenant does not exist or was revoked.
 */
export async function upstreamKeyFor(env: Bindings, config: Config, tenant: string): Promise<string> {
  if (config.UNSANDBOX_MODE !== "multi-tenant") return config.OPENAI_API_KEY;
  const record = await directory(env).tenantRecord(tenant);
  if (!record || record.status !== "active") {
    throw new UnsandboxError(404, `Tenant ${tenant} does not exist or was revoked`, { code: "tenant_not_found" });
  }
  return record.upstream_key_sealed ? unseal(record.upstream_key_sealed, tenant, config.TENANT_KEY_ENCRYPTION_KEYS ?? []) : config.OPENAI_API_KEY;
}

/**
 * A pass-through caller's upstream key sealed for work that outlives the request, or null when
 * that work can find the key itself (`upstreamKeyFor`: the deployment's key, or a multi-tenant
 * tenant's from the directory, which an admin may rotate). Pass-through callers' keys exist
 * nowhere else, so whoever schedules work for them (container trackers, a response's background
 * watch) keeps this string while the work lasts and opens it with `keyForLaterWork`.
 */
export async function sealForLaterWork(config: Config, caller: { mode: string; tenant: string; upstreamKey: string }): Promise<string | null> {
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
    upstreamKeySealed: own ? await seal(caller.upstreamKey, caller.tenant, config.TENANT_KEY_ENCRYPTION_KEYS ?? []) : null,
  };
}

/** The upstream key for work done after a request: the sealed caller's key when one was kept, else `upstreamKeyFor`. */
export async function keyForLaterWork(env: Bindings, config: Config, tenant: string, sealed: string | null | undefined): Promise<string> {
  if (sealed) return unseal(sealed, tenant, config.TENANT_KEY_ENCRYPTION_KEYS ?? []);
  return upstreamKeyFor(env, config, tenant);
}
