/**
 * @module harvest/takedown
 * Admin takedowns. A download link named by its URL or its token is verified, resolved through
 * the download route's own resolution (harvest/resolve-link.ts), and tombstoned twice
 * (storage/tombstones.ts): the link itself, so every spelling of it answers 410 even before its
 * file exists, and the stored object it resolves to, by R2 key and by content hash, so every
 * other link to the same bytes (another response, a rewrite of the same content, a link minted
 * later) answers 410 `file_taken_down` too. The same path in another response with other bytes
 * is not affected.
 *
 * A link whose file is still being harvested or copied is waited for as long as a download would
 * wait; if it has not resolved by then only the link is covered, and taking it down again later
 * (idempotent) covers its object.
 *
 * Downloads keep resolutions and the tenant's tombstone listing per location for a short time
 * (./download-cache.ts, storage/tombstones.ts): writing the tombstones forgets the listing here,
 * and the link's held resolution is forgotten too, so the takedown holds at once in this isolate
 * and location, within 5 s in the location's other isolates and within 30 s elsewhere.
 */
import type { Bindings, Config } from "../config";
import { badRequest } from "../errors";
import { forgetDownload } from "./download-cache";
import { resolveLink } from "./resolve-link";
import { verifyLink } from "../links/token";
import { linkTombstone, writeLinkTombstone, writeObjectTombstone } from "../storage/tombstones";

/** How long a takedown waits for a link that has not resolved yet (as long as a download would). */
const RESOLVE_WAIT_MS = 8_000;

export interface Tombstone {
  tenant: string;
  responseId: string;
  path: string;
  reason: string;
  /** Unix ms. */
  at: number;
  /** The stored bytes the takedown covers too, or null when the link has not resolved to any. */
  object: { container_id: string; file_id: string; version: number; sha256: string | null } | null;
}

/** The token inside a download URL (`…/files/<token>/<name>`) or a bare token. */
export function tokenOf(urlOrToken: string): string | null {
  if (/^[A-Za-z0-9_-]{8,8192}$/.test(urlOrToken)) return urlOrToken;
  try {
    const m = /^\/files\/([A-Za-z0-9_-]+)\/[^/]*$/.exec(new URL(urlOrToken).pathname);
    return m ? m[1]! : null;
  } catch {
    return null;
  }
}

/**
 * Takes a link and the bytes it resolves to down (idempotent: a second takedown keeps the first
 * time and reason). Expired links can be taken down too; forged or malformed ones cannot (400).
 * @throws UnsandboxError 400 `invalid_link`
 */
export async function takedown(
  env: Bindings,
  config: Config,
  urlOrToken: string,
  reason: string,
  now = Date.now(),
): Promise<Tombstone> {
  const token = tokenOf(urlOrToken);
  const verdict = token ? await verifyLink(token, config.LINK_SECRETS, 0) : null;
  if (!verdict?.ok) throw badRequest("That is not a download link this deployment issued.", "url", "invalid_link");
  const { tenant, responseId, path } = verdict.claims;
  const link = { tenant, responseId, path };
  const stone = (await linkTombstone(env.FILES, link)) ?? { reason, at: now };
  await writeLinkTombstone(env.FILES, link, stone);
  await forgetDownload(link);
  const r = await resolveLink(env, link, RESOLVE_WAIT_MS);
  if (r.kind !== "file") return { ...link, ...stone, object: null };
  const { file } = r;
  await writeObjectTombstone(env.FILES, file, stone);
  return {
    ...link,
    ...stone,
    object: { container_id: file.containerId, file_id: file.fileId, version: file.version, sha256: file.sha256 },
  };
}
