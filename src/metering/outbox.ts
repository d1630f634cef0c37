/**
 * @module metering/outbox
 * Usage a Durable Object has to count for good (a tracker's stored files), written first to that
 * object's own SQLite (`usage_outbox`, in the same synchronous step that records the file) and
 * sent to the tenant's meter afterwards, in batches: never inside a copy, never lost.
 *
 * - A row is keyed by what it counts (a stored file version), so counting it twice is impossible
 *   here, and the shard it goes to (chosen by `source`, ./shards.ts) remembers entry ids, so a
 *   batch sent again after an unknown outcome counts once: exact totals from at-least-once sends.
 * - The first row schedules a flush FLUSH_DELAY_MS later; rows recorded meanwhile join it (a
 *   3-file response's copies settle within that and cost one meter call). The tracker's alarm
 *   flushes only what no timer of this instance will (`flushDue`: rows an evicted instance left),
 *   so an alarm that runs between two stored files does not send the first on its own.
 * - A failed flush is retried with backoff while the object lives, and from its alarm (`flush`,
 *   `nextWake`) after an eviction (https://developers.cloudflare.com/durable-objects/api/alarms/).
 */
import type { Bindings } from "../config";
import { ensureTable, hasTable } from "../durable/sqlite-migrations";
import { ReadMemo } from "../durable/read-memo";
import { errorFields, logEvent } from "../log";
import { meterFor } from "./meter-stub";
import { shardName, shardOf } from "./shards";
import { cleanDelta, dayOf, type UsageDelta } from "./usage";

export const FLUSH_DELAY_MS = 1_000;
const MAX_BACKOFF_MS = 60_000;
/** Rows per meter call (each a small entry; the RPC message stays far below its limits). */
const BATCH_ROWS = 500;

type Row = { id: string; tenant: string; source: string; day: string; delta: string };

export class UsageOutbox {
  #timer: ReturnType<typeof setTimeout> | null = null;
  #flushing: Promise<void> | null = null;
  #failures = 0;
  #retryAt = 0;

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly env: Pick<Bindings, "USAGE_METER">,
  ) {}

  /** Whether the table exists (the object's `deleteAll` drops it with everything else: `hasTable` knows). */
  #ready(): boolean {
    return hasTable(this.storage.sql, "usage_outbox");
  }

  /** Whether rows wait (asked on every alarm arming: remembered until the next write, ../durable/read-memo.ts). */
  #waiting(): boolean {
    return ReadMemo.of(this.storage.sql).read(
      "usage_outbox waiting",
      () => this.storage.sql.exec("SELECT 1 FROM usage_outbox LIMIT 1").toArray().length > 0,
    );
  }

  /** Records `delta` for `tenant` under `id` (once per id), to be sent to the shard of `source`. */
  record(tenant: string, id: string, source: string, delta: UsageDelta, atMs = Date.now()): void {
    if (cleanDelta(delta).length === 0) return;
    // Created with the first row, so objects that never store a file carry no table.
    ensureTable(
      this.storage.sql,
      "usage_outbox",
      "CREATE TABLE IF NOT EXISTS usage_outbox (id TEXT PRIMARY KEY, tenant TEXT NOT NULL, source TEXT NOT NULL, day TEXT NOT NULL, delta TEXT NOT NULL) WITHOUT ROWID",
    );
    this.storage.sql.exec(
      "INSERT OR IGNORE INTO usage_outbox (id, tenant, source, day, delta) VALUES (?, ?, ?, ?, ?)",
      id,
      tenant,
      source,
      dayOf(atMs),
      JSON.stringify(delta),
    );
    this.#schedule(FLUSH_DELAY_MS);
  }

  /** When the alarm must flush (rows waiting, after any backoff), or null. */
  nextWake(now: number): number | null {
    if (!this.#ready() || !this.#waiting()) return null;
    return Math.max(now + FLUSH_DELAY_MS, this.#retryAt);
  }

  /** Sends every waiting row (one meter call per tenant and shard) and deletes what was sent. Never throws. */
  flush(): Promise<void> {
    if (!this.#flushing) this.#flushing = this.#send().finally(() => (this.#flushing = null));
    return this.#flushing;
  }

  /**
   * The alarm's flush: the rows no timer of this instance is about to send (those an evicted
   * instance left, or recorded while no timer was set). Rows a timer will send wait for it, so the
   * copies of one response still cost one meter call. Never throws.
   */
  flushDue(): Promise<void> {
    if (this.#timer) return this.#flushing ?? Promise.resolve();
    return this.flush();
  }

  #schedule(ms: number): void {
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.flush();
    }, ms);
  }

  async #send(): Promise<void> {
    if (!this.#ready()) return;
    const rows = this.storage.sql
      .exec<Row>("SELECT id, tenant, source, day, delta FROM usage_outbox ORDER BY id LIMIT ?", BATCH_ROWS)
      .toArray();
    const groups = new Map<string, Row[]>();
    for (const r of rows) {
      const key = `${r.tenant}\n${shardOf(r.source)}`;
      groups.set(key, [...(groups.get(key) ?? []), r]);
    }
    try {
      for (const group of groups.values()) {
        const { tenant, source } = group[0]!;
        await meterFor(this.env, shardName(tenant, shardOf(source))).apply(
          tenant,
          group.map((r) => ({ id: r.id, day: r.day, delta: JSON.parse(r.delta) as UsageDelta })),
        );
        // One statement per 100 ids: a Durable Object's SQL statement binds at most 100 values
        // (https://developers.cloudflare.com/durable-objects/platform/limits/).
        for (let i = 0; i < group.length; i += 100) {
          const ids = group.slice(i, i + 100).map((r) => r.id);
          this.storage.sql.exec(`DELETE FROM usage_outbox WHERE id IN (${ids.map(() => "?").join(", ")})`, ...ids);
        }
      }
      this.#failures = 0;
      this.#retryAt = 0;
      if (rows.length === BATCH_ROWS) this.#schedule(0);
    } catch (err) {
      this.#failures++;
      const wait = Math.min(MAX_BACKOFF_MS, FLUSH_DELAY_MS * 2 ** this.#failures);
      this.#retryAt = Date.now() + wait;
      console.error(
        JSON.stringify({
          event: "metering_error",
          level: "error",
          rows: rows.length,
          failures: this.#failures,
          error: String(err),
        }),
      );
      this.#schedule(wait);
    }
  }
}
