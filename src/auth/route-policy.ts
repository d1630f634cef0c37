/**
 * @module auth/route-policy
 * Which `/v1` routes a caller may reach and which path segments name owned ids. Pure.
 *
 * Single-tenant secret keys and pass-through callers reach every `/v1` route (today's drop-in
 * behaviour: in single-tenant mode the whole upstream organisation is the operator's, in
 * pass-through it is the caller's own). Multi-tenant secret keys reach only PASSTHROUGH_ALLOWLIST,
 * because everything else (listing files or containers, fine-tunes, batches…) would show one
 * tenant what another created under the shared upstream key. Publishable keys reach only creating
 * a response and reading their own responses.
 */
import type { OwnedKind } from "../tenants/ownership";

/** One allowlisted route. `:name` segments are ids; `owns` says which kind (checked before the route runs). */
export interface AllowedRoute {
  method: "GET" | "POST" | "DELETE";
  path: string;
  /** Publishable keys may call it too. */
  publishable?: boolean;
  /** The kind of id a successful JSON answer creates (`id` field), recorded for the caller. */
  creates?: OwnedKind;
}

/** Path parameters that name owned ids, by name. */
export const OWNED_PARAMS: Record<string, OwnedKind> = {
  ":response": "response",
  ":container": "container",
  ":conversation": "conversation",
  ":file": "file",
};

/** The `/v1` routes multi-tenant secret keys may reach (publishable keys: those marked). */
export const PASSTHROUGH_ALLOWLIST: readonly AllowedRoute[] = [
  { method: "POST", path: "/v1/responses", publishable: true, creates: "response" },
  // WebSocket mode (routes/responses-socket.ts): each response.create is checked like the POST.
  { method: "GET", path: "/v1/responses" },
  { method: "GET", path: "/v1/responses/:response", publishable: true },
  { method: "GET", path: "/v1/responses/:response/files", publishable: true },
  { method: "DELETE", path: "/v1/responses/:response/files" },
  { method: "DELETE", path: "/v1/responses/:response/files" },
  { method: "DELETE", path: "/v1/responses/:response" },
  { method: "POST", path: "/v1/responses/:response/cancel" },
  { method: "GET", path: "/v1/responses/:response/input_items" },
  { method: "POST", path: "/v1/containers", creates: "container" },
  // Filtered to the caller's own containers by src/routes/containers.ts.
  { method: "GET", path: "/v1/containers" },
  { method: "GET", path: "/v1/containers/:container" },
  { method: "DELETE", path: "/v1/containers/:container" },
  { method: "GET", path: "/v1/containers/:container/files" },
  { method: "POST", path: "/v1/containers/:container/files" },
  { method: "GET", path: "/v1/containers/:container/files/:cfile" },
  { method: "DELETE", path: "/v1/containers/:container/files/:cfile" },
  { method: "GET", path: "/v1/containers/:container/files/:cfile/content" },
  { method: "POST", path: "/v1/conversations", creates: "conversation" },
  { method: "GET", path: "/v1/conversations/:conversation" },
  { method: "POST", path: "/v1/conversations/:conversation" },
  { method: "DELETE", path: "/v1/conversations/:conversation" },
  { method: "GET", path: "/v1/conversations/:conversation/items" },
  { method: "POST", path: "/v1/conversations/:conversation/items" },
  { method: "GET", path: "/v1/conversations/:conversation/items/:item" },
  { method: "DELETE", path: "/v1/conversations/:conversation/items/:item" },
  { method: "POST", path: "/v1/files", creates: "file" },
  { method: "GET", path: "/v1/files/:file" },
  { method: "DELETE", path: "/v1/files/:file" },
  { method: "GET", path: "/v1/files/:file/content" },
  { method: "GET", path: "/v1/models" },
  { method: "GET", path: "/v1/models/:model" },
];

/** Routes whose path names owned ids even when everything is allowed (single-tenant, pass-through). */
const OWNED_PREFIXES = ["responses", "containers", "conversations", "files"];

export interface RouteDecision {
  /** The matching allowlist entry, if any. */
  route: AllowedRoute | null;
  /** Whether the caller may reach it. */
  allowed: boolean;
  /** Owned ids named in the path. */
  ids: { kind: OwnedKind; id: string; param: string }[];
}

/** Splits a pathname into decoded segments; null when a segment is not a safe id-like string. */
export function pathSegments(pathname: string): string[] | null {
  const out: string[] = [];
  // A trailing slash adds no segment (`/v1/models/` is `/v1/models`); empty ones elsewhere are refused.
  for (const raw of pathname
    .replace(/(.)\/$/, "$1")
    .split("/")
    .slice(1)) {
    let seg: string;
    try {
      seg = decodeURIComponent(raw);
    } catch {
      return null;
    }
    // Ids and route words only: no control characters, separators, dot segments or spaces.
    if (!/^[A-Za-z0-9_.:-]{1,256}$/.test(seg) || seg === "." || seg === "..") return null;
    out.push(seg);
  }
  return out;
}

function matches(pattern: string, segs: string[]): boolean {
  const p = pattern.split("/").slice(1);
  return p.length === segs.length && p.every((s, i) => s.startsWith(":") || s === segs[i]);
}

/**
 * Decides a `/v1` request. `segs` comes from `pathSegments`.
 * @example routePolicy("GET", ["v1", "responses", "resp_1"], "multi-tenant", "secret")
 */
export function routePolicy(
  method: string,
  segs: string[],
  mode: string,
  kind: "secret" | "publishable",
): RouteDecision {
  const route = PASSTHROUGH_ALLOWLIST.find((r) => r.method === method && matches(r.path, segs)) ?? null;
  const allowed = kind === "publishable" ? !!route?.publishable : mode !== "multi-tenant" || route !== null;
  const ids: RouteDecision["ids"] = [];
  if (route) {
    route.path
      .split("/")
      .slice(1)
      .forEach((s, i) => {
        const kind = OWNED_PARAMS[s];
        if (kind) ids.push({ kind, id: segs[i]!, param: s.slice(1) });
      });
  } else if (segs[0] === "v1" && OWNED_PREFIXES.includes(segs[1] ?? "") && segs[2]) {
    // Not allowlisted but reachable (single-tenant, pass-through): still check the first id.
    const kind = OWNED_PARAMS[`:${segs[1]!.replace(/s$/, "")}`];
    if (kind) ids.push({ kind, id: segs[2], param: segs[1]!.replace(/s$/, "") });
  }
  return { route, allowed, ids };
}
