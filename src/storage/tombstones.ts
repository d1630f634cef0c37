/**
 * @module storage/tombstones
 * Where takedowns are written down. A takedown covers two things:
 *
 * - the link itself (tenant, response, canonical path): so a link whose file has not resolved
 *   yet is refused too, and every spelling of it (`sandbox:/x`, `/mnt/data/x`) with it;
 * - the stored object the link resolved to, by its R2 key and by its content's SHA-256 within
 *   the tenant: so every other link to the same bytes (another response, another spelling, a
 *   rewrite of the same content, a link minted after the takedown) is refused as well.
 *
 * Tombstones are small R2 objects under the tenant prefix, reason and time in `customMetadata`:
 * R2 is strongly consistent for a read after a write, so a takedown holds everywhere at once
 * (https://developers.cloudflare.com/r2/reference/consistency/), and a tenant's export or
 * deletion by prefix takes its tombstones along.
 *
 *   t/<tenant>/tombstones/<sha256(response id NUL path)>     a link
 *   t/<tenant>/tombstones/object/<sha256(R2 key)>           a stored object
 *   t/<tenant>/tombstones/bytes/<sha256 of the content>     any object with those bytes
 *
 * Reading them: a tenant's tombstones are read as one R2 `list` of its tombstone prefix (one
 * page, up to LIST_PAGE keys, with their metadata), kept per location for a short time
 * (./location-cache.ts), so a download, an answer's manifest or a manifest poll checks its files
 * against that listing instead of two or three `head`s per file. R2 lists are strongly consistent
 * too. A tenant with more tombstones than one page is read key by key (`head`), uncached. A
 * takedown forgets the listing where it ran, so it holds there at once (this isolate and this
 * location's cache), within ISOLATE_TTL_MS in the location's other isolates and within
 * LOCATION_TTL_MS in other locations.
 */
import { tenantPrefix } from "./keys";
import { LocationCache } from "./location-cache";

/** Why and when something was taken down. */
export interface TombstoneRecord {
  reason: string;
  /** Unix ms. */
  at: number;
}

/** What a link names (the decoded, verified claims of its token). */
export interface LinkTarget {
  tenant: string;
  responseId: string;
  path: string;
}

/** The stored object a link resolved to. */
export interface ObjectTarget {
  tenant: string;
  /** Null where only the content is known (a manifest entry). */
  r2Key: string | null;
  /** Hex SHA-256 of the bytes, once known (a file still being copied has none yet). */
  sha256: string | null;
}

const encoder = new TextEncoder();

async function hex(s: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(s));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** The R2 key of a link's tombstone. */
export async function linkTombstoneKey(link: LinkTarget): Promise<string> {
  return `${tenantPrefix(link.tenant)}tombstones/${await hex(`${link.responseId}\u0000${link.path}`)}`;
}

/** The R2 keys of an object's tombstones: by key, and by content when its hash is known. */
export async function objectTombstoneKeys(obj: ObjectTarget): Promise<string[]> {
  const keys = obj.r2Key === null ? [] : [`${tenantPrefix(obj.tenant)}tombstones/object/${await hex(obj.r2Key)}`];
  if (obj.sha256 && /^[0-9a-f]{64}$/.test(obj.sha256))
    keys.push(`${tenantPrefix(obj.tenant)}tombstones/bytes/${obj.sha256}`);
  return keys;
}

/** How long a request waits for another's listing of the same tenant before listing itself. */
const LIST_JOIN_MS = 5_000;
/** R2's largest list page (https://developers.cloudflare.com/r2/api/workers/workers-api-reference/#r2listoptions). */
const LIST_PAGE = 1000;

/**
 * Per tenant: its tombstones by key, or null when they fill more than one page. A listing is at
 * most LIST_PAGE small records (~100 KiB); an isolate holds at most 100 of them.
 */
const listings = new LocationCache<Record<string, TombstoneRecord> | null>("tombstones-v1", 100);

const recordOf = (m: Record<string, string> | undefined): TombstoneRecord => ({
  reason: m?.reason ?? "",
  at: Number(m?.at ?? 0),
});

/** The tenant's tombstones (one cached listing), or null when there are too many to list at once. */
async function listingOf(bucket: R2Bucket, tenant: string): Promise<Record<string, TombstoneRecord> | null> {
  const held = await listings.get(tenant);
  if (held !== undefined) return held;
  return listings.once(
    tenant,
    async () => {
      const at = Date.now();
      const stamp = listings.stamp();
      const page = await bucket.list({
        prefix: `${tenantPrefix(tenant)}tombstones/`,
        limit: LIST_PAGE,
        include: ["customMetadata"],
      });
      const found = page.truncated
        ? null
        : Object.fromEntries(page.objects.map((o) => [o.key, recordOf(o.customMetadata)]));
      await listings.put(tenant, found, at, stamp);
      return found;
    },
    LIST_JOIN_MS,
  );
}

/**
 * The first of `keys` (all the tenant's, from `linkTombstoneKey` and `objectTombstoneKeys`) that
 * holds a tombstone, or null. The same listing; for a caller that keeps the keys it checks often
 * (a held download: harvest/download-cache.ts), so they are not hashed on every check.
 */
export async function firstOf(bucket: R2Bucket, tenant: string, keys: string[]): Promise<TombstoneRecord | null> {
  if (keys.length === 0) return null;
  const listing = await listingOf(bucket, tenant);
  if (listing) return keys.map((k) => listing[k]).find((t) => t !== undefined) ?? null;
  const heads = await Promise.all(keys.map((k) => bucket.head(k)));
  const head = heads.find((h) => h !== null);
  return head ? recordOf(head.customMetadata) : null;
}

/**
 * Writes tombstones at `keys` that are not there yet (an existing one keeps its first reason and
 * time), then forgets the tenant's listing here so the takedown holds at once in this location.
 */
async function writeNew(
  bucket: R2Bucket,
  tenant: string,
  keys: string[],
  stone: TombstoneRecord,
  meta: Record<string, string>,
): Promise<void> {
  await Promise.all(
    keys.map(async (k) => {
      if (await bucket.head(k)) return;
      await bucket.put(k, "", { customMetadata: { ...meta, reason: stone.reason, at: String(stone.at) } });
    }),
  );
  await listings.delete(tenant);
}

/** The tombstone of a link, or null. The tenant's cached listing (or one R2 `list`). */
export async function linkTombstone(bucket: R2Bucket, link: LinkTarget): Promise<TombstoneRecord | null> {
  return firstOf(bucket, link.tenant, [await linkTombstoneKey(link)]);
}

/** The tombstone of a stored object (by key or by content), or null. The same listing. */
export async function objectTombstone(bucket: R2Bucket, obj: ObjectTarget): Promise<TombstoneRecord | null> {
  return firstOf(bucket, obj.tenant, await objectTombstoneKeys(obj));
}

/** Takes a link down (idempotent). */
export async function writeLinkTombstone(bucket: R2Bucket, link: LinkTarget, stone: TombstoneRecord): Promise<void> {
  await writeNew(bucket, link.tenant, [await linkTombstoneKey(link)], stone, {
    responseId: link.responseId,
    path: link.path,
  });
}

/** Takes a stored object down, by key and by content (idempotent). */
export async function writeObjectTombstone(bucket: R2Bucket, obj: ObjectTarget, stone: TombstoneRecord): Promise<void> {
  await writeNew(bucket, obj.tenant, await objectTombstoneKeys(obj), stone, {
    ...(obj.r2Key ? { r2Key: obj.r2Key } : {}),
    ...(obj.sha256 ? { sha256: obj.sha256 } : {}),
  });
}
