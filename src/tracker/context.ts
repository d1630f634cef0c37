/**
 * @module tracker/context
 * What the ContainerTracker's capabilities (./sweeps.ts, ./copies.ts, ./lifecycle.ts,
 * ./repair.ts) share: the store, the bindings, the upstream as this container's tenant reaches
 * it, the tenant's limits (./tenant-view.ts), and the waiters that RPC calls park on until something changes.
 * Each capability also reports when it next needs the alarm (`nextWake`); the Durable Object keeps
 * the one physical alarm and arms it for the earliest (one alarm per object:
 * https://developers.cloudflare.com/durable-objects/api/alarms/).
 */
import type { UsageOutbox } from "../metering/outbox";
import type { Bindings } from "../config";
import type { UpstreamAccess } from "../upstream/containers";
import type { TrackerStore } from "./store";
import type { TenantView } from "./tenant-view";

/** A part of the tracker that needs the alarm at some time (null: not at all). */
export interface Capability {
  nextWake(now: number): number | null;
}

export interface TrackerContext {
  readonly env: Bindings;
  readonly store: TrackerStore;
  readonly waiters: Waiters;
  /** The tenant's limits and upstream key (./tenant-view.ts). */
  readonly tenant: TenantView;
  /** Usage to meter after the copy (src/metering/outbox.ts), kept in this object's SQLite until sent. */
  readonly usage: UsageOutbox;
  /** The upstream with the key this container's work needs (see ContainerTracker). */
  upstream(): Promise<UpstreamAccess>;
  /** The wall clock, read where a time is recorded (the rules in ./policy.ts take it as a parameter). */
  now(): number;
}

/** RPC calls waiting for a state change (`waitForStored`, `waitForFile`, `waitForPath`). */
export class Waiters {
  readonly #waiting = new Set<() => void>();

  notify(): void {
    for (const w of this.#waiting) w();
    this.#waiting.clear();
  }

  /** Resolves on the next state change or after `ms`, whichever is first. */
  changed(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(
        () => {
          this.#waiting.delete(done);
          resolve();
        },
        Math.max(0, ms),
      );
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.#waiting.add(done);
    });
  }
}
