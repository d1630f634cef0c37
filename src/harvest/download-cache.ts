/**
 * @module harvest/download-cache
 * What a download link stands for, resolved once and then kept per location
 * (storage/location-cache.ts: this isolate for up to 5 s, the location's Cache API for up to
 * 30 s), so a link that goes viral costs one R2 `get` per download and no Durable Object call.
 *
 * Resolving a link fresh (./resolve-link.ts, used as it is) asks the response's index and
 * the file's tracker; the stored object's R2 metadata is read once with a `head`. Only a `stored`
 * file is kept: the R2 key and how to present it, its metadata (so Range, If-Range and
 * If-None-Match are planned without asking R2 first: http/serve-object.ts), and its content hash.
 * Nothing else is kept (a pending link, an error, a file in any other state is resolved again).
 * Concurrent resolutions of one link in an isolate share one (a pending link is waited for once,
 * not once per download).
 *
 * Why keeping it is safe: a stored version's resolution is pinned (the index never moves a link to
 * other bytes) and its bytes never change, so all that can happen to it is deletion or takedown.
 * A deletion removes the object from R2, which the one `get` (or `head`) of every download notices
 * at once: the entry is dropped and the link resolved again (410 with the reason). Takedowns are
 * checked on every download, cached entry or not, against the tenant's tombstone listing
 * (storage/tombstones.ts), which a takedown forgets where it runs: at once in that isolate and
 * location, within 5 s in the location's other isolates, within 30 s elsewhere.
 *
 * Keyed by the link's verified claims (tenant, response, path), not by the token: every token and
 * spelling of one link shares the entry, and the key names no secret.
 */
import type { Bindings } from "../config";
import { resolveLink } from "./resolve-link";
import { LocationCache } from "../storage/location-cache";
import { linkTombstone, objectTombstone, type LinkTarget, type TombstoneRecord } from "../storage/tombstones";
import type { FileRecord } from "../tracker/types";
import { metaOf, type ObjectMeta, type StoredObject } from "../http/serve-object";

/** A stored file as a download needs it. */
export interface StoredDownload {
  object: StoredObject;
  meta: ObjectMeta;
  /** Hex SHA-256 of the bytes (for the takedown by content). */
  sha256: string | null;
}

/** What a link stands for now. */
export type Download =
  /** The link or its bytes were taken down. */
  | { kind: "taken_down"; stone: TombstoneRecord }
  /** The harvest or copy is still running. */
  | { kind: "pending" }
  /** Nothing was written at that path. */
  | { kind: "not_produced" }
  /** A file that is not stored (its state decides the answer). */
  | { kind: "file"; file: FileRecord }
  /** Stored, but the object is no longer in R2 (deleted meanwhile). */
  | { kind: "gone" }
  /** Stored: serve `entry`; `cached` when it came from the cache (resolve again if R2 lost it). */
  | { kind: "stored"; entry: StoredDownload; cached: boolean };

/** An entry is a few hundred bytes; an isolate holds at most 1,000. */
const downloads = new LocationCache<StoredDownload>("downloads-v1", 1_000);
const encoder = new TextEncoder();

async function keyOf(link: LinkTarget): Promise<string> {
  const bytes = encoder.encode(`${link.tenant}\u0000${link.responseId}\u0000${link.path}`);
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** The takedown covering a stored file reached through `link`, or null (no R2 call while the listing is held). */
async function takedownOf(bucket: R2Bucket, link: LinkTarget, entry: StoredDownload): Promise<TombstoneRecord | null> {
  const [byLink, byObject] = await Promise.all([
    linkTombstone(bucket, link),
    objectTombstone(bucket, { tenant: link.tenant, r2Key: entry.object.r2Key, sha256: entry.sha256 }),
  ]);
  return byLink ?? byObject;
}

/** Resolves from the index and tracker, waiting up to `waitMs`; keeps a stored result. */
async function resolveFresh(env: Bindings, link: LinkTarget, key: string, waitMs: number): Promise<Download> {
  const at = Date.now();
  const stamp = downloads.stamp();
  // The link's own tombstone first: a taken-down link is refused before anything waits for it.
  const linkStone = await linkTombstone(env.FILES, link);
  if (linkStone) return { kind: "taken_down", stone: linkStone };
  const r = await resolveLink(env, link, waitMs);
  if (r.kind !== "file") return r;
  const { file } = r;
  const objectStone = await objectTombstone(env.FILES, file);
  if (objectStone) return { kind: "taken_down", stone: objectStone };
  if (file.state !== "stored") return { kind: "file", file };
  const head = await env.FILES.head(file.r2Key);
  if (!head) return { kind: "gone" };
  const entry: StoredDownload = {
    object: { r2Key: file.r2Key, contentType: file.contentType, filename: file.filename },
    meta: metaOf(head),
    sha256: file.sha256,
  };
  await downloads.put(key, entry, at, stamp);
  return { kind: "stored", entry, cached: false };
}

/**
 * What `link` (verified claims) stands for: from this location's cache when held (takedowns
 * checked), else resolved fresh, waiting up to `waitMs` for a harvest or copy still running.
 */
export async function resolveDownload(env: Bindings, link: LinkTarget, waitMs: number): Promise<Download> {
  const key = await keyOf(link);
  const held = await downloads.get(key);
  if (held) {
    const stone = await takedownOf(env.FILES, link, held);
    return stone ? { kind: "taken_down", stone } : { kind: "stored", entry: held, cached: true };
  }
  // A download that joins another's resolution waits as long as its own would, and a little more.
  return downloads.once(key, () => resolveFresh(env, link, key, waitMs), waitMs + 2_000);
}

/** Drops what this isolate and location hold for `link` (its object vanished from R2). */
export async function forgetDownload(link: LinkTarget): Promise<void> {
  await downloads.delete(await keyOf(link));
}
