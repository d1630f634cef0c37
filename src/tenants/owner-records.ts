/**
 * @module tenants/owner-records
 * The owner of each `resp_…`, `cntr_…`, `conv_…` and `file-…` id, as one small R2 object per id:
 * `owners/<id>`, empty, with `customMetadata` `tenant`, `visitor` (widget visitors only) and
 * `kind`. Why R2 and not a Durable Object per id (what this replaced): creating an object means
 * creating its SQLite database (about 16 KiB, kept forever), so every response made one more
 * object even when it had nothing else to keep; an R2 object costs one write and ends by a
 * bucket lifecycle rule. R2 is strongly consistent for reads after writes
 * (https://developers.cloudflare.com/r2/reference/consistency/), so a record is seen by every
 * isolate as soon as its `put` returned.
 *
 * - **First writer wins.** A record is written with `onlyIf: { etagDoesNotMatch: "*" }`, R2's
 *   `If-None-Match: *`: the put commits only when the key does not exist yet and returns null
 *   otherwise (https://developers.cloudflare.com/r2/api/s3/conditional-operations/,
 *   https://developers.cloudflare.com/r2/api/workers/workers-api-reference/ `R2PutOptions.onlyIf`);
 *   the loser then reads the holder with one `head`. No check-then-write race.
 * - **Cached per isolate.** An owner never changes once written, so a found owner is kept in the
 *   isolate (bounded, oldest dropped first) and later lookups of that id cost nothing. An absent
 *   record is never cached: it may be being written right now by the request that revealed it. A
 *   lookup that meets this isolate's own record in flight waits for it instead of reading R2.
 * - **Ends.** The `owners/` prefix has a lifecycle rule that deletes a record
 *   {@link OWNER_RECORD_TTL_DAYS} days after it was written (README "Deploy"); a record older than
 *   {@link OWNER_REFRESH_AGE_DAYS} days that is looked up is written again (conditional on its
 *   etag), so an id in use (a long conversation, a file) keeps its record, and one nobody names
 *   for the TTL is forgotten: from then on its owner gets the 404 of an id nobody owns (multi-tenant
 *   mode refuses ids nobody recorded, so an expired record never opens an id to anyone else).
 * - **Failures.** An R2 error becomes an error Cloudflare's overload classifier understands
 *   (src/overload.ts): `overloaded` for R2's "reduce your request rate" (code 10058), `retryable`
 *   for the rest, so a lookup that cannot be answered is a 503 with `Retry-After` and a record
 *   that cannot be written marks the answer degraded (the guard), never a 500.
 */
import type { Bindings } from "../config";

export type OwnedKind = "response" | "container" | "conversation" | "file";

/** The owner of an id: a tenant, and for ids created through a publishable key, the visitor session. */
export interface Owner {
  tenant: string;
  visitor?: string;
}

/** R2 deletes a record this many days after its last write (the bucket's lifecycle rule on `owners/`). */
export const OWNER_RECORD_TTL_DAYS = 60;
/** A record looked up when older than this is written again, so ids in use never expire. */
export const OWNER_REFRESH_AGE_DAYS = 30;
const DAY_MS = 86_400_000;
/** Owners kept per isolate. */
const CACHE_SIZE = 5_000;
/** R2's "reduce your concurrent request rate" error (https://developers.cloudflare.com/r2/api/error-codes/). */
const R2_TOO_MANY_REQUESTS = 10058;

export const OWNER_PREFIX = "owners/";
/** The R2 key of an id's owner record. Ids are `[A-Za-z0-9_-]` (auth/body-ids.ts), safe as a key. */
export const ownerKey = (id: string): string => `${OWNER_PREFIX}${id}`;

interface Known {
  owner: Owner;
  etag: string;
  uploaded: number;
}
const known = new Map<string, Known>();
const inFlight = new Map<string, Promise<Known | null>>();

function remember(id: string, k: Known): Known {
  known.delete(id);
  known.set(id, k);
  if (known.size > CACHE_SIZE) known.delete(known.keys().next().value!);
  return k;
}

function fromObject(o: R2Object): Known | null {
  const tenant = o.customMetadata?.tenant;
  if (!tenant) return null;
  const visitor = o.customMetadata?.visitor;
  return { owner: visitor ? { tenant, visitor } : { tenant }, etag: o.etag, uploaded: o.uploaded.getTime() };
}

/** R2's failure as the overload classifier reads it (`.overloaded` / `.retryable`). */
function asOverload(err: unknown): Error {
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : String(err);
  return Object.assign(new Error(`owner record: ${message}`), {
    cause: err,
    ...(code === R2_TOO_MANY_REQUESTS ? { overloaded: true } : { retryable: true }),
  });
}

async function r2<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    throw asOverload(err);
  }
}

/** Writes an old record again (same metadata, only if unchanged), so an id in use keeps it. */
async function refreshed(env: Bindings, id: string, k: Known, now: number): Promise<Known> {
  if (now - k.uploaded < OWNER_REFRESH_AGE_DAYS * DAY_MS) return k;
  const put = await r2(() =>
    env.FILES.put(ownerKey(id), "", { customMetadata: metadataOf(k.owner), onlyIf: { etagMatches: k.etag } }),
  );
  return remember(id, put ? { ...k, etag: put.etag, uploaded: put.uploaded.getTime() } : { ...k, uploaded: now });
}

function metadataOf(owner: Owner, kind?: OwnedKind): Record<string, string> {
  return { tenant: owner.tenant, ...(owner.visitor ? { visitor: owner.visitor } : {}), ...(kind ? { kind } : {}) };
}

/** The recorded owner of an id, or null: the isolate's memory, this isolate's write in flight, else one R2 `head`. */
export async function readOwner(env: Bindings, id: string, now = Date.now()): Promise<Owner | null> {
  const cached = known.get(id) ?? (await inFlight.get(id)?.catch(() => null));
  if (cached) return (await refreshed(env, id, cached, now)).owner;
  const head = await r2(() => env.FILES.head(ownerKey(id)));
  const k = head ? fromObject(head) : null;
  if (!k) return null;
  return (await refreshed(env, id, remember(id, k), now)).owner;
}

/** Records `owner` for `id` unless someone holds it already; returns the owner that holds it. */
export async function writeOwner(env: Bindings, id: string, kind: OwnedKind, owner: Owner): Promise<Owner> {
  const cached = known.get(id);
  if (cached) return cached.owner;
  const pending = inFlight.get(id);
  if (pending) {
    const held = await pending;
    if (held) return held.owner;
  }
  const write = (async (): Promise<Known | null> => {
    const put = await r2(() =>
      env.FILES.put(ownerKey(id), "", { customMetadata: metadataOf(owner, kind), onlyIf: { etagDoesNotMatch: "*" } }),
    );
    if (put) return remember(id, { owner, etag: put.etag, uploaded: put.uploaded.getTime() });
    // Someone recorded it first: theirs holds.
    const head = await r2(() => env.FILES.head(ownerKey(id)));
    const k = head ? fromObject(head) : null;
    return k ? remember(id, k) : null;
  })();
  inFlight.set(id, write);
  try {
    const held = await write;
    if (!held) throw asOverload(new Error(`the record of ${id} was neither written nor readable`));
    return held.owner;
  } finally {
    if (inFlight.get(id) === write) inFlight.delete(id);
  }
}

/** Test hook: forgets the isolate's owners, as a new isolate would start. */
export function forgetCachedOwners(): void {
  known.clear();
}
