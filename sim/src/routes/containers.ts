/**
 * @module routes/containers
 * The Containers API: containers CRUD, their files (list, create from multipart or `{file_id}`,
 * retrieve, delete) and the binary content endpoint.
 */
import { Hono, type Context, type Next } from "hono";
import { z } from "zod";
import { contentResponse } from "../content-response";
import {
  containerQuirks,
  createContainer,
  findContainer,
  findFile,
  isExpired,
  listedFiles,
  liveContainer,
  addFile,
  toContainerObject,
  toFileObject,
} from "../containers";
import { notFound, SimError } from "../errors";
import { orgOf, type SimVars } from "../orgs";
import { checkStatusFault } from "../faults";
import { pageQuery, paginate } from "../pagination";
import { bump, state } from "../state";
import { jsonBody, parseOr400 } from "../validate";
import { randomHex32 } from "../uploads";

const CreateContainer = z.strictObject({
  name: z.string(),
  file_ids: z.array(z.string()).optional(),
  expires_after: z
    .strictObject({ anchor: z.literal("last_active_at"), minutes: z.number().int().min(1).max(1440) })
    .optional(),
  memory_limit: z.enum(["1g", "4g", "16g", "64g"]).optional(),
  network_policy: z.looseObject({ type: z.enum(["allowlist", "disabled"]) }).optional(),
  skills: z.array(z.unknown()).optional(),
});

const CreateFileJson = z.strictObject({ file_id: z.string() });

export const containersRoutes = new Hono<SimVars>();

// Another organisation's container is not found, whatever the route under it (src/orgs.ts).
const sameOrg = async (c: Context<SimVars>, next: Next) => {
  const ct = state.containers.get(c.req.param("cid") ?? "");
  if (ct && ct.org !== orgOf(c)) throw notFound(`Container with id '${ct.id}' not found.`);
  await next();
};
containersRoutes.use("/:cid", sameOrg);
containersRoutes.use("/:cid/*", sameOrg);

containersRoutes.post("/", async (c) => {
  const body = parseOr400(CreateContainer, await jsonBody(c.req.raw));
  const ct = createContainer({
    org: orgOf(c),
    name: body.name,
    memory_limit: body.memory_limit,
    expire_idle_ms: body.expires_after ? body.expires_after.minutes * 60_000 : undefined,
  });
  for (const id of body.file_ids ?? []) addFile(ct, { path: `/mnt/data/${id}-input.csv`, size: 2048, source: "user" });
  return c.json(toContainerObject(ct));
});

containersRoutes.get("/", (c) => {
  const url = new URL(c.req.url);
  const q = pageQuery(url, ["name"]);
  const name = url.searchParams.get("name");
  const all = [...state.containers.values()]
    .filter((x) => !x.deleted && x.org === orgOf(c) && (name === null || x.name === name))
    .sort((a, b) => a.created_at - b.created_at || a.seq - b.seq);
  if (q.order === "desc") all.reverse();
  return c.json(paginate(all.map(toContainerObject), q));
});

containersRoutes.get("/:cid", (c) => {
  const ct = findContainer(c.req.param("cid"));
  bump(state.counters.container_reads, ct.id);
  checkStatusFault("retrieve", ct.id);
  // Retrieving an expired container still shows its metadata (status "expired").
  if (!isExpired(ct)) ct.last_active_ms = Date.now();
  return c.json(toContainerObject(ct));
});

containersRoutes.delete("/:cid", (c) => {
  const ct = findContainer(c.req.param("cid"));
  ct.deleted = true;
  return c.json({ id: ct.id, object: "container.deleted", deleted: true });
});

containersRoutes.get("/:cid/files", (c) => {
  const cid = c.req.param("cid");
  findContainer(cid);
  bump(state.counters.list_calls, cid);
  bump(state.counters.container_reads, cid);
  const ct = liveContainer(cid);
  checkStatusFault("list", ct.id);
  const q = pageQuery(new URL(c.req.url));
  return c.json(paginate(listedFiles(ct, q.order).map(toFileObject), q));
});

containersRoutes.post("/:cid/files", async (c) => {
  const ct = liveContainer(c.req.param("cid"));
  const type = c.req.header("content-type") ?? "";
  if (type.startsWith("multipart/form-data")) {
    const form = await c.req.raw.formData();
    for (const key of form.keys()) {
      if (key !== "file")
        throw new SimError(400, `Unknown parameter: '${key}'.`, { param: key, code: "unknown_parameter" });
    }
    const file = form.get("file");
    if (!file || typeof file === "string")
      throw new SimError(400, "Missing required parameter: 'file'.", {
        param: "file",
        code: "missing_required_parameter",
      });
    const bytes = new Uint8Array(await file.arrayBuffer());
    // Uploaded files land under a random prefix, as on the real API: /mnt/data/<32 hex>-<name>.
    const f = addFile(ct, {
      path: `/mnt/data/${randomHex32()}-${file.name || "upload"}`,
      size: bytes.length,
      source: "user",
      body: { kind: "stored", bytes },
    });
    return c.json(toFileObject(f));
  }
  const body = parseOr400(CreateFileJson, await jsonBody(c.req.raw));
  const f = addFile(ct, { path: `/mnt/data/${body.file_id}-input.csv`, size: 2048, source: "user" });
  return c.json(toFileObject(f));
});

containersRoutes.get("/:cid/files/:fid", (c) => {
  const ct = liveContainer(c.req.param("cid"));
  bump(state.counters.container_reads, ct.id);
  checkStatusFault("retrieve", ct.id, c.req.param("fid"));
  return c.json(toFileObject(findFile(ct, c.req.param("fid"))));
});

containersRoutes.delete("/:cid/files/:fid", (c) => {
  const ct = liveContainer(c.req.param("cid"));
  const f = findFile(ct, c.req.param("fid"));
  f.deleted = true;
  return c.json({ id: f.id, object: "container.file.deleted", deleted: true });
});

containersRoutes.get("/:cid/files/:fid/content", (c) => {
  const ct = liveContainer(c.req.param("cid"));
  bump(state.counters.container_reads, ct.id);
  const f = findFile(ct, c.req.param("fid"));
  return contentResponse(c.req.raw, ct, f, containerQuirks(ct, f.quirks));
});
