/**
 * @module auth/caller
 * Who is calling, as the rest of unsandbox sees it. `authenticate` (auth/authenticate.ts) sets it
 * on every `/v1/*` and `/widget/session` request; routes read it with `getCaller(c)`.
 *
 * Besides `caller`, `authenticate` sets `tenant` (the tenant id) and replaces `config` with a copy
 * whose `OPENAI_API_KEY` is the key this caller's upstream calls must use (the tenant's own key,
 * the pass-through caller's key, or the deployment's), so code that calls
 * `upstreamFetch(c.get("config"), …)` is already right per tenant.
 */
import type { Context } from "hono";
import { UnsandboxError } from "../errors";
import type { Features, Limits, WidgetSettings } from "../tenants/schema";
import type { OwnedKind, Owner, OwnershipCaller } from "../tenants/ownership";

export type Mode = "single-tenant" | "multi-tenant" | "pass-through";

export interface Caller extends OwnershipCaller {
  mode: Mode;
  /** Tenant id: `default` in single-tenant mode, `pt_<hash of the caller's key>` in pass-through. */
  tenant: string;
  kind: "secret" | "publishable";
  /** The key's id (`key_…`; `default-secret`/`default-publishable` in single-tenant; `pt` in pass-through). */
  keyId: string;
  /** Visitor id from the session, for publishable keys (absent on `/widget/session` itself). */
  visitor?: string;
  /** The tenant's and the key's own limits (absent fields: unlimited). */
  limits: { tenant: Limits; key: Limits };
  /** Publishable keys only: origins, caps and forced settings. */
  widget?: WidgetSettings;
  /** The browser origin of a publishable call (already checked against `widget.allowed_origins`). */
  origin?: string;
  /** The tenant's defaults for the opt-in request features (multi-tenant; harvest/features.ts). */
  features?: Features;
  /** The OpenAI key for this caller's upstream calls (also in `c.get("config").OPENAI_API_KEY`). */
  upstreamKey: string;
}

declare module "hono" {
  interface ContextVariableMap {
    caller: Caller;
  }
}

/**
 * The authenticated caller.
 * @throws UnsandboxError 500 when called on a route that `authenticate` does not cover (a bug).
 */
export function getCaller(c: Context): Caller {
  const caller = c.get("caller");
  if (!caller)
    throw new UnsandboxError(500, "getCaller() used on a route without authentication", { type: "server_error" });
  return caller;
}

/** The owner to record for ids this caller creates. */
export function ownerOf(caller: Caller): Owner {
  return caller.visitor ? { tenant: caller.tenant, visitor: caller.visitor } : { tenant: caller.tenant };
}

/** Shorthand: `recordOwner(env, ownedBy(caller, "response", id))`. */
export function ownedBy(caller: Caller, kind: OwnedKind, id: string): Owner & { kind: OwnedKind; id: string } {
  return { ...ownerOf(caller), kind, id };
}

/**
 * When the download links issued to this caller expire (unix seconds), or undefined for links
 * that do not expire. Links made for publishable keys expire by default (`link_ttl_s` of the key,
 * 7 days unless set), because anyone can obtain a widget's answers.
 * @example namingFor(config, caller.tenant, id, { expiresAt: linkExpiryFor(caller) })
 */
export function linkExpiryFor(caller: Caller, nowMs = Date.now()): number | undefined {
  return caller.widget ? Math.floor(nowMs / 1000) + caller.widget.link_ttl_s : undefined;
}
