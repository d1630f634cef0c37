/**
 * @module orgs
 * Organisations. `SIM_API_KEY` may hold several keys, comma-separated; each one is an
 * organisation of its own (`org-1`, `org-2`, … in the order given), and containers and responses
 * belong to the organisation whose key created them. Another organisation's id answers 404 with
 * the same message as an id that never existed, as on the real API, where a key only ever sees its
 * own organisation's objects. This is what lets a test tell "unsandbox used the caller's key" from
 * "unsandbox used its own" (pass-through mode).
 */
import type { Context } from "hono";

/** The organisation of the first key: what the control API's objects belong to unless told. */
export const DEFAULT_ORG = "org-1";

/** Route variables the bearer check sets. */
export type SimVars = { Variables: { org: string } };

/** The organisation of `key` among the configured keys, or null when the key is not one of them. */
export function orgOfKey(key: string, configured: string): string | null {
  const keys = configured
    .split(",")
    .map((k) => k.trim())
    .filter(Boolean);
  const i = keys.indexOf(key);
  return i < 0 ? null : `org-${i + 1}`;
}

/** The calling organisation (set by the bearer check on every `/v1` route). */
export const orgOf = (c: Context<SimVars>): string => c.get("org") ?? DEFAULT_ORG;
