/**
 * @module tenants/ownership
 * Who owns each upstream id. With one upstream key OpenAI sees one organisation, so isolation
 * between unsandbox's tenants (and between the visitors of one widget) is only what these records
 * enforce: every `resp_…`, `cntr_…`, `conv_…` and `file-…` id is recorded with its owner when
 * first seen, and anyone else naming it gets the 404 OpenAI gives for an id that does not exist
 * (so a foreign id and a made-up one look the same).
 *
 * Where they live (docs/storage.md "Ownership records"): an id's owner is one small R2 object,
 * first writer wins, cached per isolate (owner-records.ts); a tenant's output items are a few
 * item-set Durable Objects, sharded by item id (item-sets.ts). A response with neither links nor
 * containers therefore makes no Durable Object of its own, and every record ends (an R2
 * lifecycle rule, the item sets' alarm) unless its id is still in use.
 */
import type { Bindings } from "../config";
import { UnsandboxError } from "../errors";
import { byShard, itemShard, legacyItemSet, legacyLedger } from "./item-sets";
import { readOwner, writeOwner, type OwnedKind, type Owner } from "./owner-records";

export type { OwnedKind, Owner } from "./owner-records";

/** Who is asking (see auth/caller.ts `Caller`, which satisfies this). */
export interface OwnershipCaller {
  tenant: string;
  kind: "secret" | "publishable";
  visitor?: string;
  /** Whether ids nobody recorded are usable (single-tenant secret keys only: the deployment's own). */
  unknownIdsAllowed: boolean;
}

/** The kind of an upstream id from its prefix, or null for something that is not one. */
export function kindOf(id: string): OwnedKind | null {
  if (id.startsWith("resp_")) return "response";
  if (id.startsWith("cntr_")) return "container";
  if (id.startsWith("conv_")) return "conversation";
  if (id.startsWith("file-")) return "file";
  return null;
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
  const held = await writeOwner(env, entry.id, entry.kind, owner);
  return held.tenant === owner.tenant && (held.visitor ?? null) === (owner.visitor ?? null);
}

/** The recorded owner of an id, or null when nobody recorded it. */
export async function ownerOf(env: Bindings, id: string): Promise<Owner | null> {
  return (await readOwner(env, id)) ?? legacyOwner(env, id);
}

/**
 * An id R2 has no record for may have been recorded by an earlier version, in a Durable Object of
 * its own: that record moves to R2 (first writer wins there too) and the object's storage goes.
 * One object call per lookup of an id nobody recorded, as before; none once the id is in R2.
 * Records are written only for ids a checked request revealed, and the check of an id moves its
 * old record first, so an old record is never overtaken.
 */
async function legacyOwner(env: Bindings, id: string): Promise<Owner | null> {
  const kind = kindOf(id);
  if (!kind) return null;
  const old = legacyLedger(env, id);
  const owner = await old.legacyOwner(id);
  if (!owner) return null;
  const held = await writeOwner(env, id, kind, owner);
  await old.forgetLegacy();
  return held;
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
  if (!mayUse(caller, await ownerOf(env, id))) throw notFoundId(kind, id, param);
}

/**
 * Records output item ids for `owner`, one call per item-set shard they fall in. Call it with
 * every item id an upstream answer reveals (a response's `output`, a conversation's new items).
 */
export async function recordItems(env: Bindings, owner: Owner, ids: string[]): Promise<void> {
  await Promise.all(
    [...byShard([...new Set(ids)])].map(([shard, list]) =>
      itemShard(env, owner.tenant, shard).recordItems(list, owner.visitor ?? null),
    ),
  );
}

/**
 * Throws OpenAI's 404 for the first item id `caller` may not name, after one lookup per shard for all.
 * @throws UnsandboxError 404 `not_found`
 */
export async function assertItemsOwned(
  env: Bindings,
  caller: OwnershipCaller,
  items: { id: string; param: string | null }[],
): Promise<void> {
  if (items.length === 0) return;
  const visitorOf = new Map<string, string | null>();
  await Promise.all(
    [...byShard([...new Set(items.map((i) => i.id))])].map(async ([shard, list]) => {
      const visitors = await itemShard(env, caller.tenant, shard).itemVisitors(list);
      list.forEach((id, k) => visitorOf.set(id, visitors[k] ?? null));
    }),
  );
  await fromLegacyItemSet(env, caller.tenant, visitorOf);
  items.forEach((item) => {
    const v = visitorOf.get(item.id);
    const owner: Owner | null =
      v == null ? null : v === "" ? { tenant: caller.tenant } : { tenant: caller.tenant, visitor: v };
    if (!mayUse(caller, owner))
      throw new UnsandboxError(404, `Item with id '${item.id}' not found.`, { code: "not_found", param: item.param });
  });
}

/**
 * Items the shards do not know may be in the tenant's unsharded item set of earlier versions (one
 * call, only when some are missing): found ones are copied into their shards.
 */
async function fromLegacyItemSet(env: Bindings, tenant: string, visitorOf: Map<string, string | null>): Promise<void> {
  const missing = [...visitorOf].flatMap(([id, v]) => (v === null ? [id] : []));
  if (missing.length === 0) return;
  const found = await legacyItemSet(env, tenant).itemVisitors(missing);
  const byVisitor = new Map<string, string[]>();
  missing.forEach((id, k) => {
    const v = found[k];
    if (v == null) return;
    visitorOf.set(id, v);
    const list = byVisitor.get(v);
    if (list) list.push(id);
    else byVisitor.set(v, [id]);
  });
  await Promise.all(
    [...byVisitor].map(([v, ids]) => recordItems(env, v === "" ? { tenant } : { tenant, visitor: v }, ids)),
  );
}

/** OpenAI's wording for an id it does not know. */
export function notFoundId(kind: OwnedKind, id: string, param: string | null = null): UnsandboxError {
  const what = { response: "Response", container: "Container", conversation: "Conversation", file: "File" }[kind];
  return new UnsandboxError(404, `${what} with id '${id}' not found.`, { code: "not_found", param });
}
