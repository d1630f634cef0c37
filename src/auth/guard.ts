/**
 * @module auth/guard
 * Runs after `authenticate` on `/v1/*`, before any route: it refuses routes the caller may not
 * reach (auth/route-policy.ts), refuses ids in the path or in a `POST /v1/responses` body that
 * the caller does not own (tenants/ownership.ts), applies a publishable key's forced settings
 * (auth/widget-policy.ts), and records the ids that a creating call's answer reveals (its JSON,
 * or, for a created response, what the response pipeline decoded: `ownerRecorder`).
 *
 * The body is read here (auth/request-body.ts) and put back on the request for the route.
 * For publishable keys the request is replaced by one carrying the forced body.
 */
import { errorFields, logEvent } from "../log";
import { classifyOverload } from "../overload";
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv, DecodedIds } from "../app";
import type { Bindings } from "../config";
import { badRequest, UnsandboxError } from "../errors";
import { containerOfItem } from "../schemas/output-item";
import {
  assertItemsOwned,
  assertOwner,
  recordItems,
  recordOwner,
  type OwnedKind,
  type Owner,
} from "../tenants/ownership";
import { itemIdsIn } from "./answer-ids";
import { idsInForm, idsInOtherBody, idsInResponsesBody, type NamedId } from "./body-ids";
import { getCaller, ownedBy, ownerOf, type Caller } from "./caller";
import { markResponsesBodyChecked } from "./checked";
import { readBody, readJson } from "./request-body";
import { pathSegments, routePolicy } from "./route-policy";
import { applyWidgetPolicy } from "./widget-policy";

/** Routes besides `POST /v1/responses` whose bodies can name owned ids (auth/body-ids.ts). */
const BODY_ID_ROUTES = new Set([
  "/v1/containers",
  "/v1/containers/:container/files",
  "/v1/conversations",
  "/v1/conversations/:conversation/items",
]);
/** Of those, the ones whose API takes `multipart/form-data` (file uploads). */
const MULTIPART_ROUTES = new Set(["/v1/containers", "/v1/containers/:container/files"]);
/**
 * Routes whose successful JSON answer lists items the caller may name later: a response's output,
 * and the item lists of the caller's own responses and conversations (their ids were checked on
 * the way in, so what they list is the caller's).
 */
const ITEM_ANSWERS = new Set([
  "GET /v1/responses/:response",
  "GET /v1/responses/:response/input_items",
  "POST /v1/conversations/:conversation/items",
  "GET /v1/conversations/:conversation/items",
]);

export const guard = createMiddleware<AppEnv>(async (c, next) => {
  const caller = getCaller(c);
  // The path the router matches (decoded). The front door (http/front-door.ts) already refused
  // every spelling but the canonical one, so it is also the path as sent.
  const path = c.req.path;
  const segs = pathSegments(path);
  if (!segs)
    throw badRequest("The request path contains characters that no route or id can have.", null, "invalid_path");
  const decision = routePolicy(c.req.method, segs, caller.mode, caller.kind);
  if (!decision.allowed) {
    if (caller.kind === "publishable") {
      throw new UnsandboxError(403, "Publishable keys can only create responses and read their own.", {
        code: "publishable_key_not_allowed",
      });
    }
    throw new UnsandboxError(404, `Unknown route: ${c.req.method} ${path}`, { code: "unknown_route" });
  }
  await checkOwners(c, caller, decision.ids);

  // The body checks follow the route that matched, never a compare on the URL as written.
  const route = decision.route?.path;
  const createsResponse = c.req.method === "POST" && route === "/v1/responses";
  if (createsResponse) {
    await checkResponsesBody(c, caller);
    // A created response's ids are recorded from what the response pipeline decoded, before the
    // answer or the event that reveals them goes out: no second parse of the answer or its stream.
    const recorder = ownerRecorder(c, caller);
    if (recorder) c.set("onDecoded", recorder);
  } else if (c.req.method === "POST" && route && BODY_ID_ROUTES.has(route) && needsLookups(caller)) {
    const body = await readBody(c, MULTIPART_ROUTES.has(route));
    if (body.kind === "json") await checkOwners(c, caller, idsInOtherBody(route, body.value));
    else if (body.kind === "form") await checkOwners(c, caller, idsInForm(body.fields));
  }

  await next();
  // Nothing ever reads the single-tenant secret key's records (ids nobody recorded are its own,
  // and every other caller is refused them), so its answers cost no ownership write.
  const degraded = c.get("degraded");
  if (degraded) c.res.headers.set("x-unsandbox-degraded", degraded);
  if (!needsLookups(caller) || createsResponse) return;

  const creates = decision.route?.creates;
  const type = c.res.headers.get("content-type") ?? "";
  const revealsItems = route !== undefined && ITEM_ANSWERS.has(`${c.req.method} ${route}`);
  if ((creates || revealsItems) && c.res.ok && type.includes("application/json")) {
    await recordAnswer(c, caller, creates, revealsItems);
  }
});

async function checkResponsesBody(c: Context<AppEnv>, caller: Caller): Promise<void> {
  const forcedBody = await checkResponsesCreate(c, caller, await readJson(c));
  if (caller.kind === "publishable") {
    const forced = JSON.stringify(forcedBody);
    const headers = new Headers(c.req.raw.headers);
    headers.set("content-type", "application/json");
    headers.delete("content-length");
    c.req.raw = new Request(c.req.raw.url, { method: "POST", headers, body: forced });
    c.req.bodyCache = {};
  }
  markResponsesBodyChecked(c);
}

/**
 * The body checks of one `POST /v1/responses` body, also run on each `response.create` of a
 * WebSocket session (routes/responses-socket.ts): a publishable key's widget policy first (what a
 * widget may never send is refused as such, whoever owns it), then ownership of every id the body
 * names. Returns the body to forward (a publishable key's forced one).
 * @throws UnsandboxError as the HTTP route refuses the same body.
 */
export async function checkResponsesCreate(c: Context<AppEnv>, caller: Caller, body: unknown): Promise<unknown> {
  const forcedBody = caller.kind === "publishable" ? applyWidgetPolicy(asObject(body), caller.widget!) : body;
  await checkOwners(c, caller, idsInResponsesBody(forcedBody));
  return forcedBody;
}

/**
 * Records the ids the response pipeline decoded (app.ts `onDecoded`) for the caller: the
 * response, its containers and its output items. For transports whose answer the guard cannot
 * read after the route (a WebSocket session); undefined when the caller's ids need no records.
 */
export function ownerRecorder(c: Context<AppEnv>, caller: Caller): ((ids: DecodedIds) => Promise<unknown>) | undefined {
  if (!needsLookups(caller)) return undefined;
  // The answer exists once upstream ran: an overloaded ledger costs the record, never the answer
  // (marked degraded, as app.ts marks an answer whose later step failed).
  return (ids) =>
    Promise.all([
      ...(ids.responseId ? [recordOwner(c.env, ownedBy(caller, "response", ids.responseId))] : []),
      ...ids.containerIds.map((id) => recordOwner(c.env, ownedBy(caller, "container", id))),
      ...(ids.itemIds.length ? [recordItems(c.env, ownerOf(caller), ids.itemIds)] : []),
    ]).catch((err: unknown) => {
      const overload = classifyOverload(err);
      if (!overload) throw err;
      c.set("degraded", overload.kind);
      logEvent("warn", "owner_record_degraded", {
        requestId: c.get("requestId"),
        kind: overload.kind,
        ...errorFields(err),
      });
    });
}

/**
 * Records what a JSON answer revealed: the id a creating call returned (for responses, also the
 * containers it used), and the output items it lists, all of them in one write.
 */
async function recordAnswer(
  c: Context<AppEnv>,
  caller: Caller,
  kind: OwnedKind | undefined,
  revealsItems: boolean,
): Promise<void> {
  let data: { id?: unknown; output?: unknown; conversation?: unknown };
  try {
    data = (await c.res.clone().json()) as typeof data;
  } catch {
    return;
  }
  const records: Promise<unknown>[] = [];
  if (kind && typeof data.id === "string") records.push(recordOwner(c.env, ownedBy(caller, kind, data.id)));
  if (kind === "response" && Array.isArray(data.output)) {
    for (const item of data.output) {
      const container = containerOfItem(item);
      if (container) records.push(recordOwner(c.env, ownedBy(caller, "container", container)));
    }
  }
  if (revealsItems) records.push(recordItems(c.env, ownerOf(caller), itemIdsIn(data)));
  await Promise.all(records);
}

function asObject(body: unknown): Record<string, unknown> {
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw badRequest("The request body must be a JSON object.", null, "invalid_type");
  return body as Record<string, unknown>;
}

/** Whether this caller's ids need looking up (see `checkOwners`). */
function needsLookups(caller: Caller): boolean {
  return !(caller.mode === "single-tenant" && caller.kind === "secret");
}

/**
 * Refuses ids the caller may not use. The single-tenant secret key may use every id (there is one
 * tenant, and ids nobody recorded are the operator's own), so it costs no lookup. Otherwise one
 * lookup per distinct owned id (auth/body-ids.ts caps and deduplicates them) and one for all the
 * output items together.
 */
async function checkOwners(c: Context<AppEnv>, caller: Caller, ids: NamedId[]): Promise<void> {
  if (!needsLookups(caller)) return;
  const items = ids.filter((i) => i.kind === "item");
  const owned = ids.filter((i): i is NamedId & { kind: OwnedKind } => i.kind !== "item");
  await Promise.all([
    assertItemsOwned(c.env, caller, items),
    ...owned.map((i) => assertOwner(c.env, caller, i.kind, i.id, i.param)),
  ]);
}
