/**
 * @module tenants/ownership
 * Who owns each upstream id. With one upstream key OpenAI sees one organisation, so isolation
 * between unsandbox's tenants (and between the visitors of one widget) is only what this ledger
 * enforces: every `resp_…`, `cntr_…`, `conv_…` and `file-…` id is recorded with its owner when
 * first seen, and anyone else naming it gets the 404 OpenAI gives for an id that does not exist
 * (so a foreign id and a made-up one look the same).
 *
 * One OwnershipLedger Durable Object per id: strongly consistent, first writer wins, and no
 * object is shared between unrelated ids.
 *
 * Output items (`msg_…`, `rs_…`, `ci_…`, `fc_…`…: what a later input names by `item_reference`
 * or sends back with its `id`) are many per response, so they are not one object each: every
 * tenant has one item set, the object named `items:<tenant>` (ids never contain `:`, so the name
 * cannot meet an id's), holding each item id with the visitor that created it. Recording all the
 * items of one answer is one call, and checking every item a request names is one call, whatever
 * their number: a bounded number of Durable Object calls per request. Items are only ever looked
 * up for the tenant that asks, so another tenant's item is simply absent from the set: OpenAI's
 * 404, like an id nobody owns.
 */
import { DurableObject } from "cloudflare:workers";
import type { Bindings } from "../config";
import { UnsandboxError } from "../errors";
import { migrate } from "../durable/sqlite-migrations";

/** The kinds of upstream ids, by prefix. */
export type OwnedKind = "response" | "container" | "conversation" | "file";

/** The owner of an id: a tenant, and for ids created through a publishable key, the visitor session. */
export interface Owner {
  tenant: string;
  visitor?: string;
}

/** Who is asking (see auth/caller.ts `Caller`, which satisfies this). */
export interface OwnershipCaller {
  tenant: string;
  kind: "secret" | "publishable";
  visitor?: string;
  /** Whether ids nobody recorded are usable (single-tenant secret keys only: the deployment's own). */
  unknownIdsAllowed: boolean;
}

const MIGRATIONS = [
  `CREATE TABLE owner (id TEXT PRIMARY KEY, kind TEXT NOT NULL, tenant TEXT NOT NULL, visitor TEXT, recorded_at INTEGER NOT NULL)`,
];
/** The item set (`items:<tenant>` objects only). `visitor` is null for the tenant's servers. */
const ITEM_MIGRATIONS = [`CREATE TABLE item (id TEXT PRIMARY KEY, visitor TEXT, recorded_at INTEGER NOT NULL)`];

export class OwnershipLedger extends DurableObject<Bindings> {
  readonly #sql: SqlStorage;

  #ready = false;

  constructor(ctx: DurableObjectState, env: Bindings) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
  }

  // Lookups vastly outnumber records and most name ids nobody owns (anyone can send any id), so
  // the table is created on the first record only: a lookup of an unknown id stores nothing.
  #hasTable(): boolean {
    if (!this.#ready)
      this.#ready =
        this.#sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'owner'").toArray().length > 0;
    return this.#ready;
  }

  /** Records the owner unless one is recorded already; returns the owner that holds. */
  record(id: string, kind: OwnedKind, owner: Owner): Owner {
    if (!this.#hasTable()) {
      migrate(this.ctx.storage, MIGRATIONS);
      this.#ready = true;
    }
    this.#sql.exec(
      "INSERT INTO owner (id, kind, tenant, visitor, recorded_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
      id,
      kind,
      owner.tenant,
      owner.visitor ?? null,
      Date.now(),
    );
    return this.get(id)!;
  }

  /** On an item set: records item ids for `visitor` (null: the tenant itself), first writer wins. */
  recordItems(ids: string[], visitor: string | null): void {
    migrate(this.ctx.storage, ITEM_MIGRATIONS);
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
  }

  /** On an item set: for each id, its visitor (`""` for the tenant itself) or null when absent. Stores nothing. */
  itemVisitors(ids: string[]): (string | null)[] {
    if (this.#sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'item'").toArray().length === 0)
      return ids.map(() => null);
    return ids.map((id) => {
      const row = this.#sql.exec<{ visitor: string | null }>("SELECT visitor FROM item WHERE id = ?", id).toArray()[0];
      return row ? (row.visitor ?? "") : null;
    });
  }

  /** The recorded owner, or null. */
  get(id: string): Owner | null {
    if (!this.#hasTable()) return null;
    const row = this.#sql
      .exec<{ tenant: string; visitor: string | null }>("SELECT tenant, visitor FROM owner WHERE id = ?", id)
      .toArray()[0];
    if (!row) return null;
    return row.visitor === null ? { tenant: row.tenant } : { tenant: row.tenant, visitor: row.visitor };
  }
}

/** The kind of an upstream id from its prefix, or null for something that is not one. */
export function kindOf(id: string): OwnedKind | null {
  if (id.startsWith("resp_")) return "response";
  if (id.startsWith("cntr_")) return "container";
  if (id.startsWith("conv_")) return "conversation";
  if (id.startsWith("file-")) return "file";
  return null;
}

function ledger(env: Bindings, id: string): DurableObjectStub<OwnershipLedger> {
  return env.OWNERSHIP_LEDGER.getByName(id);
}

/**
 * Records who owns `id`, the first time it is seen. Call it for every id an upstream answer
 * reveals (the response id, its container ids, created conversations and files). Idempotent:
 * a second record by the same owner changes nothing, and a record by someone else does not take
 * the id over. Returns whether `owner` holds the id afterwards.
 * @example
 * await recordOwner(c.env, { tenant: caller.tenant, visitor: caller.visitor, kind: "response", id: response.id });
 */
export async function recordOwner(env: Bindings, entry: Owner & { kind: OwnedKind; id: string }): Promise<boolean> {
  const owner: Owner = entry.visitor ? { tenant: entry.tenant, visitor: entry.visitor } : { tenant: entry.tenant };
  const held = await ledger(env, entry.id).record(entry.id, entry.kind, owner);
  return held.tenant === owner.tenant && (held.visitor ?? null) === (owner.visitor ?? null);
}

/** The recorded owner of an id, or null when nobody recorded it. */
export async function ownerOf(env: Bindings, id: string): Promise<Owner | null> {
  return ledger(env, id).get(id);
}

/** Whether `caller` may name an id owned by `owner` (null = nobody recorded it). */
export function mayUse(caller: OwnershipCaller, owner: Owner | null): boolean {
  if (!owner) return caller.unknownIdsAllowed;
  if (owner.tenant !== caller.tenant) return false;
  // A tenant's servers see everything the tenant owns; a visitor only its own chain.
  return caller.kind === "secret" || (caller.visitor !== undefined && owner.visitor === caller.visitor);
}

/**
 * Throws OpenAI's 404 unless `caller` may name `id`. The message is the one for an id that does
 * not exist, so a refusal tells nothing about other tenants.
 * @throws UnsandboxError 404 `not_found`
 */
export async function assertOwner(
  env: Bindings,
  caller: OwnershipCaller,
  kind: OwnedKind,
  id: string,
  param: string | null = null,
): Promise<void> {
  const owner = await ledger(env, id).get(id);
  if (!mayUse(caller, owner)) throw notFoundId(kind, id, param);
}

function itemSet(env: Bindings, tenant: string): DurableObjectStub<OwnershipLedger> {
  return (env.OWNERSHIP_LEDGER as DurableObjectNamespace<OwnershipLedger>).getByName(`items:${tenant}`);
}

/**
 * Records output item ids for `owner`, in one call. Call it with every item id an upstream
 * answer reveals (a response's `output`, a conversation's new items).
 */
export async function recordItems(env: Bindings, owner: Owner, ids: string[]): Promise<void> {
  if (ids.length > 0) await itemSet(env, owner.tenant).recordItems([...new Set(ids)], owner.visitor ?? null);
}

/**
 * Throws OpenAI's 404 for the first item id `caller` may not name, after one lookup for all.
 * @throws UnsandboxError 404 `not_found`
 */
export async function assertItemsOwned(
  env: Bindings,
  caller: OwnershipCaller,
  items: { id: string; param: string | null }[],
): Promise<void> {
  if (items.length === 0) return;
  const visitors = await itemSet(env, caller.tenant).itemVisitors(items.map((i) => i.id));
  items.forEach((item, i) => {
    const v = visitors[i];
    const owner: Owner | null =
      v == null ? null : v === "" ? { tenant: caller.tenant } : { tenant: caller.tenant, visitor: v };
    if (!mayUse(caller, owner))
      throw new UnsandboxError(404, `Item with id '${item.id}' not found.`, { code: "not_found", param: item.param });
  });
}

/** OpenAI's wording for an id it does not know. */
export function notFoundId(kind: OwnedKind, id: string, param: string | null = null): UnsandboxError {
  const what = { response: "Response", container: "Container", conversation: "Conversation", file: "File" }[kind];
  return new UnsandboxError(404, `${what} with id '${id}' not found.`, { code: "not_found", param });
}
