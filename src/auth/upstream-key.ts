/**
 * @module auth/upstream-key
 * Pass-through callers: a key is a caller only once upstream has accepted it. In pass-through
 * mode anyone may send any string as a key, and unsandbox keeps data per key (the tenant
 * `pt_<hash>`: its meter, its ownership records, its copies), so a made-up string must not get
 * that far. Before anything runs for a key, upstream is asked once (`GET /models`, the cheapest
 * authenticated call: https://platform.openai.com/docs/api-reference/models/list) and its answer
 * is kept per isolate, bounded: accepted for {@link ACCEPTED_TTL_MS}, refused for
 * {@link REFUSED_TTL_MS} (so retrying a made-up key costs upstream nothing new).
 * Concurrent first requests with one key share one check.
 *
 * Only 401 means "not a key". 2xx is accepted, and so is 403: OpenAI answers 403 to a real key
 * that lacks a permission (a restricted key without the Models scope), never to an unknown one.
 * Anything else (429, 5xx, no answer) decides nothing and is not kept: the request gets a 502.
 */
import type { Config } from "../config";
import { UnsandboxError } from "../errors";
import { upstreamFetch } from "../upstream/fetch";

export const ACCEPTED_TTL_MS = 10 * 60_000;
export const REFUSED_TTL_MS = 60_000;
/** Keys remembered per isolate; the oldest is forgotten first. */
export const MAX_REMEMBERED = 10_000;

/**
 * Pure: whether a string may be sent upstream as a caller's key at all. OpenAI keys (`sk-…`,
 * `sk-proj-…`) and gateway keys (e.g. Azure's 32 hex digits) are tokens of letters, digits, `-`
 * and `_`, well under 256 characters; a bearer token is at most RFC 6750's b64token alphabet.
 */
export function looksLikeUpstreamKey(key: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._~+/-]{7,255}$/.test(key);
}

/** Pure: what an answer of upstream's `GET /models` says about the key. */
export function verdictOf(status: number): "accepted" | "refused" | "unknown" {
  if ((status >= 200 && status < 300) || status === 403) return "accepted";
  if (status === 401) return "refused";
  return "unknown";
}

const remembered = new Map<string, { accepted: boolean; until: number }>();
const pending = new Map<string, Promise<boolean>>();

/**
 * Whether upstream accepts `key` (`id` is its hash, the cache key: the key itself is not kept).
 * @throws UnsandboxError 502 `upstream_unavailable` when upstream's answer decides nothing.
 */
export async function upstreamAccepts(config: Config, key: string, id: string, now = Date.now()): Promise<boolean> {
  const known = remembered.get(id);
  if (known && known.until > now) return known.accepted;
  let check = pending.get(id);
  if (!check) {
    check = ask(config, key, id).finally(() => pending.delete(id));
    pending.set(id, check);
  }
  return check;
}

async function ask(config: Config, key: string, id: string): Promise<boolean> {
  let status: number;
  try {
    const res = await upstreamFetch({ ...config, OPENAI_API_KEY: key }, { method: "GET", path: "/models" });
    status = res.status;
    await res.body?.cancel();
  } catch {
    status = 0;
  }
  const verdict = verdictOf(status);
  if (verdict === "unknown") {
    throw new UnsandboxError(502, "unsandbox could not check this key with the upstream API; try again.", {
      code: "upstream_unavailable",
    });
  }
  remembered.delete(id);
  remembered.set(id, {
    accepted: verdict === "accepted",
    until: Date.now() + (verdict === "accepted" ? ACCEPTED_TTL_MS : REFUSED_TTL_MS),
  });
  if (remembered.size > MAX_REMEMBERED) remembered.delete(remembered.keys().next().value!);
  return verdict === "accepted";
}
