/**
 * @module tracker/context
 * What the ContainerTracker's capabilities (./sweeps.ts, ./copies.ts, ./lifecycle.ts,
 * ./repair.ts) share: the store, the bindings, the upstream as this container's tenant reaches
 * it, the tenant's limits, and the waiters that RPC calls park on until something changes.
 * Each capability also reports when it next needs the alarm (`nextWake`); the Durable Object keeps
 * the one physical alarm and arms it for the earliest (one alarm per object:
 * https://developers.cloudflare.com/durable-objects/api/alarms/).
 */
import type { Bindings } from "../config";
import type { UsageOutbox } from "../metering/outbox";
import { deploymentLimits, effectiveLimits, type StorageLimits, type TenantLimitOverrides } from "../storage/limits";
import type { UpstreamAccess } from "../upstream/containers";
import { tenantRecordFor } from "../tenants/store";
import type { TrackerStore } from "./store";

/** A part of the tracker that needs the alarm at some time (null: not at all). */
export interface Capability {
  nextWake(now: number): number | null;
}

export interface TrackerContext {
  readonly env: Bindings;
  readonly store: TrackerStore;
  readonly waiters: Waiters;
  readonly limits: TenantLimits;
  /** Usage to meter after the copy (src/metering/outbox.ts), kept in this object's SQLite until sent. */
  readonly usage: UsageOutbox;
  /** The upstream with the key this container's work needs (see ContainerTracker). */
  upstream(): Promise<UpstreamAccess>;
  /** The wall clock, read where a time is recorded (the rules in ./policy.ts take it as a parameter). */
  now(): number;
}

/** RPC calls waiting for a state change (`waitForStored`, `waitForFile`). */
export class Waiters {
  readonly #waiting = new Set<() => void>();

  notify(): void {
    for (const w of this.#waiting) w();
    this.#waiting.clear();
  }

  /** Resolves on the next state change or after `ms`, whichever is first. */
  changed(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(done);
        resolve();
      }, Math.max(0, ms));
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.#waiting.add(done);
    });
  }
}

/**
 * Effective limits per tenant (tenant record over deployment defaults). The request that opens or
 * tracks the container hands the tenant's limits over (`seed`), so no directory call is needed;
 * work without a request (an alarm after an eviction) looks the record up once per instance
 * (none outside multi-tenant mode: tenants/store.ts `tenantRecordFor`). A failed lookup is
 * thrown, never replaced by the deployment's defaults.
 */
export class TenantLimits {
  readonly #cache = new Map<string, StorageLimits>();
  constructor(private readonly env: Bindings) {}

  /** The limits a request handed over (`undefined`: none were, keep what is known). */
  seed(tenant: string, overrides: TenantLimitOverrides | null | undefined): void {
    if (overrides !== undefined) this.#cache.set(tenant, effectiveLimits(deploymentLimits(this.env), overrides));
  }

  async load(tenant: string): Promise<StorageLimits> {
    const hit = this.#cache.get(tenant);
    if (hit) return hit;
    const overrides = ((await tenantRecordFor(this.env, tenant))?.limits as TenantLimitOverrides | undefined) ?? null;
    const limits = effectiveLimits(deploymentLimits(this.env), overrides);
    this.#cache.set(tenant, limits);
    return limits;
  }

  /** The limits loaded for the tenant, or the deployment's when none were loaded yet. */
  cached(tenant: string): StorageLimits {
    return this.#cache.get(tenant) ?? deploymentLimits(this.env);
  }

  clear(): void {
    this.#cache.clear();
  }
}
