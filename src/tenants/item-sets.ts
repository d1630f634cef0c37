/**
 * @module tenants/item-sets
 * Which visitor of a tenant created each output item (`msg_…`, `rs_…`, `ci_…`, `fc_…`…: what a
 * later input names by `item_reference` or sends back with its `id`). Items are many per answer
 * and a request may name up to a thousand of them (the Vercel AI SDK sends every earlier turn
 * back), so they are not one record each: a tenant's items live in {@link ITEM_SHARDS} Durable
 * Objects, `items:<tenant>:<shard>` (ids never contain `:`), the shard picked by a hash of the
 * item id. Recording an answer's items is one call per shard they fall in, and checking every item
 * a request names is one call per shard, whatever their number: at most {@link ITEM_SHARDS}
 * calls either way, and a tenant's item writes spread over that many objects (a Durable Object
 * takes a few hundred writes a second,
 * https://developers.cloudflare.com/durable-objects/reference/faq/). Why not R2 like the ids'
 * owners (owner-records.ts): a request naming hundreds of items would be hundreds of `head`s.
 * The shard count is part of where an item is: changing it loses the items recorded before.
 *
 * Items are only ever looked up for the tenant that asks, so another tenant's item is simply
 * absent: OpenAI's 404, like an id nobody owns.
 *
 * State that ends: each row is kept {@link ITEM_TTL_MS} after it was recorded or last named (a
 * lookup renews rows older than {@link ITEM_RENEW_AGE_MS}); the object's alarm deletes older rows
 * and, when none is left, the object's whole storage.
 */
import { DurableObject } from "cloudflare:workers";
import type { Bindings } from "../config";
import { migrate } from "../durable/sqlite-migrations";
import { fnv1a } from "../encoding/fnv1a";
import { OWNER_RECORD_TTL_DAYS, OWNER_REFRESH_AGE_DAYS } from "./owner-records";

/** Item set objects per tenant. */
export const ITEM_SHARDS = 4;
const DAY_MS = 86_400_000;
/** Same lifetime as the ids' owner records. */
export const ITEM_TTL_MS = OWNER_RECORD_TTL_DAYS * DAY_MS;
export const ITEM_RENEW_AGE_MS = OWNER_REFRESH_AGE_DAYS * DAY_MS;

/** `visitor` is null for the tenant's servers. */
const MIGRATIONS = [
  `CREATE TABLE item (id TEXT PRIMARY KEY, visitor TEXT, recorded_at INTEGER NOT NULL)`,
  `CREATE INDEX item_recorded_at ON item (recorded_at)`,
];

/**
 * One shard of a tenant's item set. (The class keeps the name of the per-id ledger it replaced,
 * so the deployed binding and migrations stay as they are.)
 */
export class OwnershipLedger extends DurableObject<Bindings> {
  readonly #sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Bindings) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
  }

  // Lookups name ids nobody recorded too (anyone can send any id): a lookup of an empty shard
  // stores nothing, the table is created by the first record.
  #hasTable(): boolean {
    return this.#sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'item'").toArray().length > 0;
  }

  /** Records item ids for `visitor` (null: the tenant itself), first writer wins. */
  async recordItems(ids: string[], visitor: string | null): Promise<void> {
    migrate(this.ctx.storage, MIGRATIONS);
    const now = Date.now();
    this.ctx.storage.transactionSync(() => {
      for (const id of ids)
        this.#sql.exec(
          "INSERT INTO item (id, visitor, recorded_at) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING",
          id,
          visitor,
          now,
        );
    });
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(now + ITEM_TTL_MS);
  }

  /**
   * For each id, its visitor (`""` for the tenant itself) or null when absent. Renews old rows it
   * finds. Also serves the unsharded item set of earlier versions (`items:<tenant>`), which this
   * arms for expiry the first time it is read.
   */
  async itemVisitors(ids: string[]): Promise<(string | null)[]> {
    if (!this.#hasTable()) return ids.map(() => null);
    const now = Date.now();
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(now + ITEM_TTL_MS);
    return ids.map((id) => {
      const row = this.#sql
        .exec<{ visitor: string | null; recorded_at: number }>("SELECT visitor, recorded_at FROM item WHERE id = ?", id)
        .toArray()[0];
      if (!row) return null;
      if (now - row.recorded_at > ITEM_RENEW_AGE_MS)
        this.#sql.exec("UPDATE item SET recorded_at = ? WHERE id = ?", now, id);
      return row.visitor ?? "";
    });
  }

  /**
   * Earlier versions kept one object per id (`getByName(id)`, table `owner`): the owner it holds,
   * or null. Read only when R2 has no record (owner-records.ts), which then moves it to R2 and
   * calls {@link forgetLegacy}.
   */
  legacyOwner(id: string): { tenant: string; visitor?: string } | null {
    if (this.#sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'owner'").toArray().length === 0)
      return null;
    const row = this.#sql
      .exec<{ tenant: string; visitor: string | null }>("SELECT tenant, visitor FROM owner WHERE id = ?", id)
      .toArray()[0];
    if (!row) return null;
    return row.visitor === null ? { tenant: row.tenant } : { tenant: row.tenant, visitor: row.visitor };
  }

  /** A per-id object of earlier versions whose record moved to R2: its storage goes. */
  async forgetLegacy(): Promise<void> {
    await this.ctx.storage.deleteAll();
  }

  /** Deletes rows past their lifetime; the object's storage goes with the last one. */
  override async alarm(): Promise<void> {
    if (!this.#hasTable()) return;
    const now = Date.now();
    this.#sql.exec("DELETE FROM item WHERE recorded_at <= ?", now - ITEM_TTL_MS);
    const oldest = this.#sql.exec<{ at: number | null }>("SELECT min(recorded_at) AS at FROM item").toArray()[0]?.at;
    if (oldest == null) await this.ctx.storage.deleteAll();
    else await this.ctx.storage.setAlarm(oldest + ITEM_TTL_MS);
  }
}

/** The shard an item id lives in. Item ids are upstream's, not the caller's to choose. */
export function itemShardOf(id: string): number {
  return fnv1a(id) % ITEM_SHARDS;
}

export function itemShard(env: Bindings, tenant: string, shard: number): DurableObjectStub<OwnershipLedger> {
  return ledger(env, `items:${tenant}:${shard}`);
}

/** The unsharded item set of earlier versions, read for items the shards do not know. */
export function legacyItemSet(env: Bindings, tenant: string): DurableObjectStub<OwnershipLedger> {
  return ledger(env, `items:${tenant}`);
}

/** The per-id object of earlier versions. */
export function legacyLedger(env: Bindings, id: string): DurableObjectStub<OwnershipLedger> {
  return ledger(env, id);
}

function ledger(env: Bindings, name: string): DurableObjectStub<OwnershipLedger> {
  return (env.OWNERSHIP_LEDGER as DurableObjectNamespace<OwnershipLedger>).getByName(name);
}

/** Ids grouped by their shard. */
export function byShard(ids: readonly string[]): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const id of ids) {
    const s = itemShardOf(id);
    const list = out.get(s);
    if (list) list.push(id);
    else out.set(s, [id]);
  }
  return out;
}
