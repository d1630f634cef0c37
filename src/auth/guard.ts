/**
 * @module auth/guard
 * Runs after `authenticate` on `/v1/*`, before any route: it refuses routes the caller may not
 * reach (auth/route-policy.ts), refuses ids in the path or in a `POST /v1/responses` body that
 * the caller does not own (tenants/ownership.ts), applies a publishable key's forced settings
 * (auth/widget-policy.ts), and records the ids that a creating call's answer reveals (its JSON,
 * or the events of a streamed response: auth/record-stream.ts).
 *
 * The body is read here with `c.req.json()`; Hono caches the text, so the route reads it again.
 * For publishable keys the request is replaced by one carrying the forced body.
 */
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app";
import { badRequest, UnsandboxError } from "../errors";
import { assertOwner, recordOwner, type OwnedKind } from "../tenants/ownership";
import { idsInOtherBody, idsInResponsesBody } from "./body-ids";
import { getCaller, ownedBy, type Caller } from "./caller";
import { recordingStream } from "./record-stream";
import { pathSegments, routePolicy } from "./route-policy";
import { applyWidgetPolicy } from "./widget-policy";

/** Routes besides `POST /v1/responses` whose JSON bodies can name owned ids (auth/body-ids.ts). */
const BODY_ID_ROUTES = new Set(["/v1/containers", "/v1/containers/:container/files", "/v1/conversations", "/v1/conversations/:conversation/items"]);

export const guard = createMiddleware<AppEnv>(async (c, next) => {
  const caller = getCaller(c);
  const pathname = new URL(c.req.url).pathname;
  const segs = pathSegments(pathname);
  if (!segs) throw badRequest("The request path contains characters that no route or id can have.", null, "invalid_path");
  const decision = routePolicy(c.req.method, segs, caller.mode, caller.kind);
  if (!decision.allowed) {
    if (caller.kind === "publishable") {
      throw new UnsandboxError(403, "Publishable keys can only create responses and read their own.", { code: "publishable_key_not_allowed" });
    }
    throw new UnsandboxError(404, `Unknown route: ${c.req.method} ${pathname}`, { code: "unknown_route" });
  }
  await checkOwners(c, caller, decision.ids);

  if (c.req.method === "POST" && pathname === "/v1/responses") await checkResponsesBody(c, caller);
  else if (c.req.method === "POST" && decision.route && BODY_ID_ROUTES.has(decision.route.path) && (c.req.header("content-type") ?? "").includes("application/json")) {
    await checkOwners(c, caller, idsInOtherBody(decision.route.path, await readJson(c)));
  }

  await next();

  const creates = decision.route?.creates;
  const type = c.res.headers.get("content-type") ?? "";
  if (creates && c.res.ok && type.includes("application/json")) {
    await recordCreated(c, caller, creates);
  } else if (creates === "response" && c.res.ok && type.includes("text/event-stream") && c.res.body) {
    const body = recordingStream(c.res.body, (kind, id) => recordOwner(c.env, ownedBy(caller, kind, id)));
    c.res = new Response(body, c.res);
  }
});

async function checkResponsesBody(c: Context<AppEnv>, caller: Caller): Promise<void> {
  const body = await readJson(c);
  // The widget policy first: what a widget may never send is refused as such, whoever owns it.
  const forcedBody = caller.kind === "publishable" ? applyWidgetPolicy(asObject(body), caller.widget!) : body;
  await checkOwners(c, caller, idsInResponsesBody(forcedBody));
  if (caller.kind === "publishable") {
    const forced = JSON.stringify(forcedBody);
    const headers = new Headers(c.req.raw.headers);
    headers.set("content-type", "application/json");
    headers.delete("content-length");
    c.req.raw = new Request(c.req.raw.url, { method: "POST", headers, body: forced });
    c.req.bodyCache = {};
  }
}

/** Records the id a creating call returned (and, for responses, the containers it used). */
async function recordCreated(c: Context<AppEnv>, caller: Caller, kind: "response" | "container" | "conversation" | "file"): Promise<void> {
  let data: { id?: unknown; output?: unknown; conversation?: unknown };
  try {
    data = (await c.res.clone().json()) as typeof data;
  } catch {
    return;
  }
  const records: Promise<boolean>[] = [];
  if (typeof data.id === "string") records.push(recordOwner(c.env, ownedBy(caller, kind, data.id)));
  if (kind === "response" && Array.isArray(data.output)) {
    for (const item of data.output as { container_id?: unknown }[]) {
      if (typeof item?.container_id === "string") records.push(recordOwner(c.env, ownedBy(caller, "container", item.container_id)));
    }
  }
  await Promise.all(records);
}

function asObject(body: unknown): Record<string, unknown> {
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw badRequest("The request body must be a JSON object.", null, "invalid_type");
  return body as Record<string, unknown>;
}

/**
 * Refuses ids the caller may not use. The single-tenant secret key may use every id (there is one
 * tenant, and ids nobody recorded are the operator's own), so it costs no lookup.
 */
async function checkOwners(c: Context<AppEnv>, caller: Caller, ids: { kind: OwnedKind; id: string; param: string }[]): Promise<void> {
  if (caller.mode === "single-tenant" && caller.kind === "secret") return;
  await Promise.all(ids.map((i) => assertOwner(c.env, caller, i.kind, i.id, i.param)));
}

/**
 * Reads the JSON body. Hono caches the text for routes that call `c.req.json()`, but routes that
 * stream `c.req.raw.body` onwards (the pass-through) need an unread body, so the request is
 * rebuilt around the text that was read.
 */
async function readJson(c: Context<AppEnv>): Promise<unknown> {
  const text = await c.req.text();
  const raw = c.req.raw;
  const headers = new Headers(raw.headers);
  headers.delete("content-length");
  c.req.raw = new Request(raw.url, { method: raw.method, headers, body: text, signal: raw.signal });
  try {
    return JSON.parse(text);
  } catch {
    throw badRequest("We could not parse the JSON body of your request. The body must be a JSON object.", null, "invalid_json");
  }
}
