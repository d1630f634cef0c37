/**
 * @module harvest/download-cache
 * What a download link stands for, resolved once and then kept per location
 * (storage/location-cache.ts: this isolate for up to 5 s, the location's Cache API for up to
 * STORED_TTL_MS), so a link that goes viral costs one R2 `get` per download and no Durable Object
 * call.
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
import { forgetNamed } from "./pin-hint";
import { LocationCache } from "../storage/location-cache";
import {
  firstOf,
  linkTombstone,
  linkTombstoneKey,
  objectTombstone,
  objectTombstoneKeys,
  type LinkTarget,
  type TombstoneRecord,
} from "../storage/tombstones";
import type { FileRecord } from "../tracker/types";
import { metaOf, type ObjectMeta, type StoredObject } from "../http/serve-object";

/** A stored file as a download needs it. */
export interface StoredDownload {
  object: StoredObject;
  meta: ObjectMeta;
  /** Hex SHA-256 of the bytes (for the takedown by content). */
  sha256: string | null;
  /**
   * The R2 keys of every tombstone that would cover this download (the link's, the object's by
   * key and by content: storage/tombstones.ts), hashed once when it was resolved, so checking
   * them on each download is a look-up in the tenant's listing.
   */
  tombstoneKeys: string[];
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

/**
 * How long a location keeps a stored resolution: nothing in it can change but deletion and
 * takedown, which are checked on every download anyway (see above), so it is kept far longer than
 * an answer that can go stale (storage/location-cache.ts LOCATION_TTL_MS): a link that stays
 * popular is resolved again (its index and tracker asked, or its pin read) once per 10 minutes per
 * location, not every 30 s.
 */
export const STORED_TTL_MS = 10 * 60_000;

/** An entry is a few hundred bytes; an isolate holds at most 1,000. */
const downloads = new LocationCache<StoredDownload>("downloads-v2", 1_000, { locationTtlMs: STORED_TTL_MS });
const encoder = new TextEncoder();

/** The cache key of each link this isolate saw lately (a hash: the key names no claim). */
const keys = new Map<string, string>();

async function keyOf(link: LinkTarget): Promise<string> {
  const claims = `${link.tenant}\u0000${link.responseId}\u0000${link.path}`;
  const known = keys.get(claims);
  if (known) return known;
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(claims));
  const key = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
  if (keys.size >= 1_000) keys.clear();
  keys.set(claims, key);
  return key;
}

/** The takedown covering a held download, or null (no R2 call while the tenant's listing is held). */
function takedownOf(bucket: R2Bucket, link: LinkTarget, entry: StoredDownload): Promise<TombstoneRecord | null> {
  return firstOf(bucket, link.tenant, entry.tombstoneKeys);
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
    tombstoneKeys: [
      await linkTombstoneKey(link),
      ...(await objectTombstoneKeys({ tenant: link.tenant, r2Key: file.r2Key, sha256: file.sha256 })),
    ],
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

/** Drops what this isolate and location hold for `link` (its object vanished from R2), the order hint of its response too. */
export async function forgetDownload(link: LinkTarget): Promise<void> {
  forgetNamed(link.tenant, link.responseId);
  await downloads.delete(await keyOf(link));
}
