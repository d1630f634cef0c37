/**
 * @module harvest/naming
 * The link naming of one response, built from the config, and the URL of a manifest entry.
 */
import type { Config } from "../config";
import { linkExpiryFor, type Caller } from "../auth/caller";
import { LinkNaming, refOfPath } from "../links/naming";

export function namingFor(config: Config, tenant: string, responseId: string, expiresAt?: number): LinkNaming {
  return new LinkNaming({
    origin: config.PUBLIC_FILES_ORIGIN,
    secrets: config.LINK_SECRETS,
    tenant,
    responseId,
    ...(expiresAt ? { expiresAt } : {}),
  });
}

/**
 * When links issued to this caller stop working: widget (publishable-key) links expire
 * `link_ttl_s` after the response was created. Counting from the response, not from now, keeps
 * every reading of a response (plain, streamed, read back) giving the same URLs.
 */
export function linkExpiry(caller: Caller | undefined, createdAtS: unknown): number | undefined {
  if (!caller) return undefined;
  const created = typeof createdAtS === "number" ? createdAtS : Math.floor(Date.now() / 1000);
  return linkExpiryFor(caller, created * 1000);
}

/**
 * The URL of a file of the response: the one its link got when the text linked it, otherwise a
 * URL named as if the model had written `sandbox:<path>` (same tenant, response and path, so the
 * download route resolves it the same way).
 */
export async function urlOfPath(naming: LinkNaming, path: string): Promise<string> {
  const issued = naming.issued.find((l) => l.path === path && l.url);
  if (issued) return issued.url;
  const [url] = await naming.name([refOfPath(path)]);
  return url!;
}
