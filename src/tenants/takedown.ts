/**
 * @module tenants/takedown
 * Admin takedowns: a download link named by its URL or its token gets a tombstone, and the
 * download route answers 410 for it from then on. The tombstone covers what the token names
 * (tenant, response, path), so every spelling of that link (`sandbox:/x`, `/mnt/data/x`,
 * another variant) is taken down together, while the same path in another response is not.
 *
 * Tombstones are R2 objects, `t/<tenant>/tombstones/<sha256 of response id NUL path>` with the
 * reason in `customMetadata`: R2 reads are strongly consistent after a write, so a takedown is
 * effective at once everywhere, and they sit under the tenant prefix like everything it owns.
 */
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app";
import type { Bindings, Config } from "../config";
import { badRequest, UnsandboxError } from "../errors";
import { verifyLink, type LinkClaims } from "../links/token";

export interface Tombstone {
  tenant: string;
  responseId: string;
  path: string;
  reason: string;
  /** Unix ms. */
  at: number;
}

const encoder = new TextEncoder();

/** The R2 key of the tombstone for what a link names. */
export async function tombstoneKey(claims: Pick<LinkClaims, "tenant" | "responseId" | "path">): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(`${claims.responseId}\u0000${claims.path}`));
  const hex = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `t/${encodeURIComponent(claims.tenant)}/tombstones/${hex}`;
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
 * Writes the tombstone for a link (idempotent: a second takedown keeps the first time and reason).
 * Expired links can be taken down too; forged or malformed ones cannot (400).
 * @throws UnsandboxError 400 `invalid_link`
 */
export async function takedown(env: Bindings, config: Config, urlOrToken: string, reason: string, now = Date.now()): Promise<Tombstone> {
  const token = tokenOf(urlOrToken);
  const verdict = token ? await verifyLink(token, config.LINK_SECRETS, 0) : null;
  if (!verdict?.ok) throw badRequest("That is not a download link this deployment issued.", "url", "invalid_link");
  const { tenant, responseId, path } = verdict.claims;
  const key = await tombstoneKey(verdict.claims);
  const existing = await tombstoneFor(env, verdict.claims);
  if (existing) return existing;
  await env.FILES.put(key, "", { customMetadata: { reason, at: String(now), responseId, path } });
  return { tenant, responseId, path, reason, at: now };
}

/**
 * The tombstone of a link, or null. The download route calls this after verifying a token and
 * answers 410 `file_taken_down` when there is one.
 * @example
 * const stone = await tombstoneFor(c.env, verdict.claims);
 * if (stone) return refuse(c, 410, "file_taken_down", …);
 */
export async function tombstoneFor(env: Bindings, claims: Pick<LinkClaims, "tenant" | "responseId" | "path">): Promise<Tombstone | null> {
  const head = await env.FILES.head(await tombstoneKey(claims));
  if (!head) return null;
  const m = head.customMetadata ?? {};
  return { tenant: claims.tenant, responseId: claims.responseId, path: claims.path, reason: m.reason ?? "", at: Number(m.at ?? 0) };
}

/**
 * Middleware for `/files/*`, mounted before the download route: a link with a tombstone answers
 * 410 `file_taken_down`. Tokens that do not verify pass on untouched (the download route refuses
 * them with its own answer), so this adds one R2 `head` to genuine downloads only.
 */
export const takedownGuard = createMiddleware<AppEnv>(async (c, next) => {
  const m = /^\/files\/([A-Za-z0-9_-]+)\/[^/]*$/.exec(new URL(c.req.url).pathname);
  if (m && (c.req.method === "GET" || c.req.method === "HEAD")) {
    const verdict = await verifyLink(m[1]!, c.get("config").LINK_SECRETS, 0);
    if (verdict.ok) {
      const stone = await tombstoneFor(c.env, verdict.claims);
      if (stone) {
        throw new UnsandboxError(410, `This file was taken down (${stone.reason}).`, {
          code: "file_taken_down",
          headers: { "cache-control": "no-store", "x-content-type-options": "nosniff" },
        });
      }
    }
  }
  await next();
});
