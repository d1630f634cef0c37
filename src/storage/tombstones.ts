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
 */
import { tenantPrefix } from "./keys";

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

async function read(bucket: R2Bucket, key: string): Promise<TombstoneRecord | null> {
  const head = await bucket.head(key);
  if (!head) return null;
  const m = head.customMetadata ?? {};
  return { reason: m.reason ?? "", at: Number(m.at ?? 0) };
}

/** The first of `keys` that holds a tombstone (read in parallel), or null. */
async function firstOf(bucket: R2Bucket, keys: string[]): Promise<TombstoneRecord | null> {
  const found = await Promise.all(keys.map((k) => read(bucket, k)));
  return found.find((t) => t !== null) ?? null;
}

/** Writes tombstones at `keys` that are not there yet; an existing one keeps its first reason and time. */
async function writeNew(
  bucket: R2Bucket,
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
}

/** The tombstone of a link, or null. One R2 `head`. */
export function linkTombstone(bucket: R2Bucket, link: LinkTarget): Promise<TombstoneRecord | null> {
  return linkTombstoneKey(link).then((k) => read(bucket, k));
}

/** The tombstone of a stored object (by key or by content), or null. At most two R2 `head`s, in parallel. */
export async function objectTombstone(bucket: R2Bucket, obj: ObjectTarget): Promise<TombstoneRecord | null> {
  return firstOf(bucket, await objectTombstoneKeys(obj));
}

/** Takes a link down (idempotent). */
export async function writeLinkTombstone(bucket: R2Bucket, link: LinkTarget, stone: TombstoneRecord): Promise<void> {
  await writeNew(bucket, [await linkTombstoneKey(link)], stone, { responseId: link.responseId, path: link.path });
}

/** Takes a stored object down, by key and by content (idempotent). */
export async function writeObjectTombstone(bucket: R2Bucket, obj: ObjectTarget, stone: TombstoneRecord): Promise<void> {
  await writeNew(bucket, await objectTombstoneKeys(obj), stone, {
    ...(obj.r2Key ? { r2Key: obj.r2Key } : {}),
    ...(obj.sha256 ? { sha256: obj.sha256 } : {}),
  });
}
