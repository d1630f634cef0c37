/**
 * @module storage/pins
 * What outlives a container's Durable Objects, kept in R2 next to the bytes (docs/storage.md, "R2").
 * Once a container is over, its tracker writes, for each response it served:
 *
 *   t/<tenant>/r/<response id>/pins/<sha256 of the canonical path>   a link pin: the file version
 *       the link (tenant, response, path) resolves to, with its R2 key, state and metadata
 *   t/<tenant>/r/<response id>/manifests/<container id>              the response's manifest in
 *       that container (what `GET /v1/responses/{id}/files` reports)
 *
 * and the response's index, once every container it used is over, writes
 *
 *   t/<tenant>/r/<response id>/response                              its record: previous
 *       response, creation time, containers, and the links it issued (URL → the text the model wrote)
 *
 * before both objects delete their storage. A download then resolves its token's claims with one
 * R2 read and no Durable Object. R2 reads are strongly consistent after a write
 * (https://developers.cloudflare.com/r2/reference/consistency/).
 *
 * Each key is written once when the objects end (R2 allows one write per second to a key:
 * https://developers.cloudflare.com/r2/platform/limits/); a pin or manifest is rewritten at most
 * once more, when a deletion request removes its bytes, days apart. The shapes of the records are
 * the tracker's (src/tracker/outlive.ts); this module only names keys and moves JSON.
 */
import { tenantPrefix } from "./keys";

const seg = (s: string) => encodeURIComponent(s);
const encoder = new TextEncoder();

async function sha256Hex(s: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(s));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Everything kept in R2 about one response (pins, manifests, record; not its inline figures). */
export function responsePrefix(tenant: string, responseId: string): string {
  return `${tenantPrefix(tenant)}r/${seg(responseId)}/`;
}

/** The key of a link pin: (tenant, response, canonical path). */
export async function pinKey(link: { tenant: string; responseId: string; path: string }): Promise<string> {
  return `${responsePrefix(link.tenant, link.responseId)}pins/${await sha256Hex(link.path)}`;
}

/** The key of a response's manifest in one container. */
export function manifestKey(tenant: string, responseId: string, containerId: string): string {
  return `${responsePrefix(tenant, responseId)}manifests/${seg(containerId)}`;
}

/** The key of a response's record (written by its index when it empties). */
export function responseRecordKey(tenant: string, responseId: string): string {
  return `${responsePrefix(tenant, responseId)}response`;
}

/** The prefixes of one response's pins, manifests and record (deleted when its links can no longer reach them). */
export function responseStatePrefixes(tenant: string, responseId: string): string[] {
  const p = responsePrefix(tenant, responseId);
  return [`${p}pins/`, `${p}manifests/`, responseRecordKey(tenant, responseId)];
}

/** Reads a JSON record, or null when there is none (or it does not parse). One R2 `get`. */
export async function readRecord(bucket: R2Bucket, key: string): Promise<unknown> {
  const obj = await bucket.get(key);
  if (!obj) return null;
  try {
    return JSON.parse(await obj.text()) as unknown;
  } catch {
    return null;
  }
}

/**
 * Writes a JSON record. `once`: not over a record already there (a settle that runs again after a
 * crash writes nothing twice); otherwise it replaces it (a deletion rewriting a pin's state).
 */
export async function writeRecord(bucket: R2Bucket, key: string, value: unknown, once: boolean): Promise<void> {
  if (once && (await bucket.head(key))) return;
  await bucket.put(key, JSON.stringify(value), { httpMetadata: { contentType: "application/json" } });
}

/** Deletes every object under `prefix` (bounded pages of 1,000 keys, one `delete` call each). */
export async function deletePrefix(bucket: R2Bucket, prefix: string): Promise<void> {
  let cursor: string | undefined;
  do {
    const page = await bucket.list({ prefix, cursor, limit: 1000 });
    if (page.objects.length) await bucket.delete(page.objects.map((o) => o.key));
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
}
