/**
 * @module routes/containers
 * The container-file routes, kept working after the container is gone: a live container's
 * listing comes from upstream with unsandbox's `url` and `state` added to each entry; once
 * upstream answers 404 (expired), the listing and the bytes come from the tracker and R2, so
 * `client.containers.files.list` and `content.retrieve` keep working.
 */
import { Hono, type Context } from "hono";
import type { AppEnv } from "../app";
import { badRequest, notFound } from "../errors";
import { namingFor, urlOfPath } from "../harvest/naming";
import { trackerFor } from "../tracker/stubs";
import type { ContainerFileRecord } from "../tracker/types";
import { keptResponseHeaders, upstreamFetch } from "../upstream/fetch";
import { passError } from "./responses";
import { paginate, ListQuery } from "./list-envelope";
import { assertOwner, mayUse, ownerOf } from "../tenants/ownership";
import { serveObject } from "../http/serve-object";
import { domainSecretValues, scrubbedError, withoutDomainSecrets } from "../upstream/domain-secrets";

export const containers = new Hono<AppEnv>();

const CONTAINER_ID = /^cntr_[A-Za-z0-9_-]{1,128}$/;
const FILE_ID = /^cfile_[A-Za-z0-9_-]{1,128}$/;

interface UpstreamFile {
  id: string;
  object?: string;
  created_at?: number;
  bytes?: number | null;
  container_id?: string;
  path?: string;
  source?: string;
}

function ids(c: Context<AppEnv>) {
  const containerId = c.req.param("container") ?? "";
  const fileId = c.req.param("file");
  if (!CONTAINER_ID.test(containerId))
    throw notFound(`No container found with id '${containerId.slice(0, 100)}'.`, "container_not_found");
  if (fileId !== undefined && !FILE_ID.test(fileId))
    throw notFound(`No file found with id '${fileId.slice(0, 100)}'.`, "file_not_found");
  return { containerId, fileId };
}

/** unsandbox's view of one file: its download URL (the one its links use) and its state. */
async function decorate(c: Context<AppEnv>, entry: UpstreamFile, known: ContainerFileRecord | undefined) {
  if (!known) return { ...entry, url: null, state: "untracked" };
  const url = known.firstResponseId
    ? await urlOfPath(namingFor(c.get("config"), c.get("tenant"), known.firstResponseId), known.path)
    : null;
  return { ...entry, url, state: known.state };
}

function fromRecord(f: ContainerFileRecord): UpstreamFile {
  return {
    id: f.fileId,
    object: "container.file",
    created_at: f.upstreamCreatedAt ?? Math.floor(f.stateAt / 1000),
    bytes: f.bytes,
    container_id: f.containerId,
    path: f.path,
    source: f.source ?? "assistant",
  };
}

/** How many upstream pages one listing call may read looking for the caller's containers. */
const MAX_PAGES_PER_LIST = 5;
/** Upstream's largest page: the filtered listing reads upstream in these. */
const UPSTREAM_PAGE = 100;

type UpstreamList = { data: { id: string }[]; has_more: boolean; last_id: string | null };

/**
 * `GET /v1/containers` lists only the caller's own containers. Where the whole upstream
 * organisation is the caller's (single-tenant secret key, pass-through) the list is upstream's.
 * In multi-tenant mode OpenAI's list holds every tenant's, so it is filtered through the
 * ownership ledger, and the envelope is built from the filtered items alone, so that it tells
 * nothing about other tenants: `first_id`/`last_id` are the caller's own ids (or null),
 * `has_more` is true only when another of the caller's containers was actually seen past the
 * page, and an `after` cursor must name one of the caller's own containers (else OpenAI's 404,
 * as for an id that does not exist). Upstream is read in pages of 100, at most
 * {@link MAX_PAGES_PER_LIST} per call (bounded work, at most 500 ownership lookups): a caller
 * whose next container lies beyond that many others' sees `has_more: false`.
 */
containers.get("/v1/containers", async (c) => {
  const caller = c.get("caller");
  const url = new URL(c.req.url);
  if (!caller || caller.unknownIdsAllowed) {
    const upstream = await upstreamFetch(c.get("config"), { method: "GET", path: `/containers${url.search}` });
    if (!upstream.ok) return passError(upstream);
    return c.json(await upstream.json(), 200, Object.fromEntries(keptResponseHeaders(upstream.headers)));
  }
  const parsed = ListQuery.safeParse(Object.fromEntries(url.searchParams));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw badRequest(
      `Invalid value for '${issue.path.join(".")}': ${issue.message}`,
      issue.path.join(".") || null,
      "invalid_value",
    );
  }
  const { after, limit } = parsed.data;
  if (after !== undefined) await assertOwner(c.env, caller, "container", after, "after");
  const params = new URLSearchParams(url.search);
  params.set("limit", String(UPSTREAM_PAGE));
  const data: { id: string }[] = [];
  let more = false;
  let headers = new Headers();
  for (let i = 0; i < MAX_PAGES_PER_LIST && !more; i++) {
    const upstream = await upstreamFetch(c.get("config"), { method: "GET", path: `/containers?${params}` });
    if (!upstream.ok) return passError(upstream);
    headers = keptResponseHeaders(upstream.headers);
    const page = (await upstream.json()) as UpstreamList;
    const owners = await Promise.all(page.data.map((ct) => ownerOf(c.env, ct.id)));
    for (let k = 0; k < page.data.length && !more; k++) {
      if (!mayUse(caller, owners[k] ?? null)) continue;
      if (data.length < limit) data.push(page.data[k]!);
      else more = true;
    }
    if (!page.has_more || !page.last_id) break;
    params.set("after", page.last_id);
  }
  return c.json(
    { object: "list", data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: more },
    200,
    Object.fromEntries(headers),
  );
});

/**
 * `POST /v1/containers` goes upstream as sent; the container object that comes back (which may
 * echo `network_policy`) and any error have the request's domain secrets removed
 * (upstream/domain-secrets.ts). The body was already read and checked by the guard.
 */
containers.post("/v1/containers", async (c) => {
  const text = await c.req.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw badRequest(
      "We could not parse the JSON body of your request. The body must be a JSON object.",
      null,
      "invalid_json",
    );
  }
  const upstream = await upstreamFetch(c.get("config"), {
    method: "POST",
    path: "/containers",
    headers: c.req.raw.headers,
    body: text,
  });
  const headers = keptResponseHeaders(upstream.headers);
  if (!upstream.ok) return scrubbedError(upstream, domainSecretValues(body), headers);
  return c.json(withoutDomainSecrets(await upstream.json()), upstream.status as 200, Object.fromEntries(headers));
});

containers.get("/v1/containers/:container/files", async (c) => {
  const { containerId } = ids(c);
  const parsed = ListQuery.safeParse(Object.fromEntries(new URL(c.req.url).searchParams));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw badRequest(
      `Invalid value for '${issue.path.join(".")}': ${issue.message}`,
      issue.path.join(".") || null,
      "invalid_value",
    );
  }
  const query = parsed.data;
  const known = await trackerFor(c.env, containerId).files({ tenant: c.get("tenant") });
  const byId = new Map(known.map((f) => [f.fileId, f]));
  const upstream = await upstreamFetch(c.get("config"), {
    method: "GET",
    path: `/containers/${containerId}/files${new URL(c.req.url).search}`,
  });
  if (upstream.ok) {
    const list = (await upstream.json()) as { data: UpstreamFile[] };
    list.data = await Promise.all(list.data.map((e) => decorate(c, e, byId.get(e.id))));
    return c.json(list, 200, Object.fromEntries(keptResponseHeaders(upstream.headers)));
  }
  if (upstream.status !== 404 || known.length === 0) return passError(upstream);
  // Gone upstream: what unsandbox kept, paginated like OpenAI's lists.
  const page = paginate(known.map(fromRecord), query);
  return c.json({ ...page, data: await Promise.all(page.data.map((e) => decorate(c, e, byId.get(e.id)))) });
});

containers.get("/v1/containers/:container/files/:file", async (c) => {
  const { containerId, fileId } = ids(c);
  const known = (await trackerFor(c.env, containerId).files({ tenant: c.get("tenant") })).find(
    (f) => f.fileId === fileId,
  );
  const upstream = await upstreamFetch(c.get("config"), {
    method: "GET",
    path: `/containers/${containerId}/files/${fileId}${new URL(c.req.url).search}`,
  });
  if (upstream.ok)
    return c.json(
      await decorate(c, (await upstream.json()) as UpstreamFile, known),
      200,
      Object.fromEntries(keptResponseHeaders(upstream.headers)),
    );
  if (upstream.status !== 404 || !known) return passError(upstream);
  return c.json(await decorate(c, fromRecord(known), known));
});

containers.get("/v1/containers/:container/files/:file/content", async (c) => {
  const { containerId, fileId } = ids(c);
  const known = (await trackerFor(c.env, containerId).files({ tenant: c.get("tenant") })).find(
    (f) => f.fileId === fileId,
  );
  // A stored copy is served from R2 first: it works after expiry and costs the container nothing.
  // Served like a download link (http/serve-object.ts): Range, ETag, conditional requests, safety headers.
  if (known?.state === "stored") {
    const served = await serveObject(c.env.FILES, known, c.req);
    if (served) return served;
  }
  const upstream = await upstreamFetch(c.get("config"), {
    method: "GET",
    path: `/containers/${containerId}/files/${fileId}/content`,
    headers: new Headers({ "accept-encoding": "identity" }),
  });
  if (!upstream.ok) return passError(upstream);
  const headers = keptResponseHeaders(upstream.headers);
  for (const name of ["content-disposition", "content-length"]) {
    const v = upstream.headers.get(name);
    if (v && !upstream.headers.has("content-encoding")) headers.set(name, v);
  }
  return new Response(upstream.body, { status: upstream.status, headers });
});
