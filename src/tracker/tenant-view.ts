/**
 * @module tracker/tenant-view
 * What a tracker knows about its tenant: its storage limits and the upstream key its work uses.
 *
 * Single-tenant and pass-through deployments have no tenant records: the limits and the key are
 * the deployment's, and no deployment-wide object is called (one `TenantDirectory` serves the
 * whole deployment, and a Durable Object serves about 500–1,000 simple requests per second:
 * https://developers.cloudflare.com/durable-objects/platform/limits/).
 *
 * In multi-tenant mode the record is read from the directory and trusted for TENANT_REFRESH_MS
 * (when it was last read is the container row's `tenant_checked_at`, so it survives an eviction
 * and ages with the tracker's other times). A refresh that fails keeps the last good record and
 * is tried again after a backoff (never the deployment's defaults for the tracker's whole life);
 * with no good record yet the caller gets `TenantUnavailableError` and backs off the item it was
 * working on. A tenant revoked or deleted gives `TenantRevokedError`: the tracker ends.
 */
import { loadConfig, type Bindings } from "../config";
import { deploymentLimits, effectiveLimits, type StorageLimits, type TenantLimitOverrides } from "../storage/limits";
import { unseal } from "../tenants/sealed-key";
import { directory } from "../tenants/store";
import { tenantRefreshDue } from "./policy";
import type { TrackerStore } from "./store";

/** The tenant was revoked or no longer exists: nothing may be read for it any more. */
export class TenantRevokedError extends Error {
  override readonly name = "TenantRevokedError";
}

/** The directory could not answer and there is no earlier record to fall back on: back off. */
export class TenantUnavailableError extends Error {
  override readonly name = "TenantUnavailableError";
}

export interface TenantState {
  limits: StorageLimits;
  /** The OpenAI key for this tenant's work (the deployment's when the tenant has none of its own). */
  upstreamKey: string;
}

export class TenantView {
  readonly #last = new Map<string, TenantState>();
  #failures = 0;
  #failedAt: number | null = null;

  constructor(
    private readonly env: Bindings,
    private readonly store: TrackerStore,
    private readonly now: () => number,
  ) {}

  /**
   * The tenant's limits and key, from the directory at most once per TENANT_REFRESH_MS.
   * @throws TenantRevokedError when the tenant was revoked or does not exist.
   * @throws TenantUnavailableError when the directory fails and no earlier record is known.
   */
  async load(tenant: string): Promise<TenantState> {
    const config = loadConfig(this.env);
    if (config.UNSANDBOX_MODE !== "multi-tenant")
      return { limits: deploymentLimits(this.env), upstreamKey: config.OPENAI_API_KEY };
    const now = this.now();
    const last = this.#last.get(tenant);
    const checkedAt = last ? (this.store.container()?.tenant_checked_at ?? null) : null;
    if (!tenantRefreshDue({ checkedAt, failures: this.#failures, failedAt: this.#failedAt }, now)) {
      if (last) return last;
      throw new TenantUnavailableError("the tenant directory failed recently; waiting before asking again");
    }
    let record;
    try {
      record = await directory(this.env).tenantRecord(tenant);
    } catch (err) {
      this.#failures++;
      this.#failedAt = now;
      if (last) return last;
      throw new TenantUnavailableError(`the tenant directory did not answer: ${String(err)}`);
    }
    if (!record || record.status !== "active") {
      this.#last.delete(tenant);
      throw new TenantRevokedError(`tenant ${tenant} does not exist or was revoked`);
    }
    const state: TenantState = {
      limits: effectiveLimits(deploymentLimits(this.env), (record.limits as TenantLimitOverrides | undefined) ?? null),
      upstreamKey: record.upstream_key_sealed
        ? await unseal(record.upstream_key_sealed, tenant, config.TENANT_KEY_ENCRYPTION_KEYS ?? [])
        : config.OPENAI_API_KEY,
    };
    this.#failures = 0;
    this.#failedAt = null;
    this.#last.set(tenant, state);
    this.store.noteTenantChecked(now);
    return state;
  }

  /**
   * The tenant's record as the request that opened the tracker knew it (multi-tenant mode; at most
   * a key-cache interval old): trusted like a directory read, so a new tracker makes none.
   */
  async seed(
    tenant: string,
    record: { limits: Record<string, unknown> | null; upstreamKeySealed: string | null },
  ): Promise<void> {
    const config = loadConfig(this.env);
    if (config.UNSANDBOX_MODE !== "multi-tenant") return;
    this.#last.set(tenant, {
      limits: effectiveLimits(deploymentLimits(this.env), (record.limits as TenantLimitOverrides | null) ?? null),
      upstreamKey: record.upstreamKeySealed
        ? await unseal(record.upstreamKeySealed, tenant, config.TENANT_KEY_ENCRYPTION_KEYS ?? [])
        : config.OPENAI_API_KEY,
    });
    this.#failures = 0;
    this.#failedAt = null;
    this.store.noteTenantChecked(this.now());
  }

  /** The limits last loaded for the tenant, or the deployment's when none were loaded yet. */
  cached(tenant: string): StorageLimits {
    return this.#last.get(tenant)?.limits ?? deploymentLimits(this.env);
  }

  clear(): void {
    this.#last.clear();
    this.#failures = 0;
    this.#failedAt = null;
  }
}
