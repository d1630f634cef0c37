/**
 * @module routes/control
 * The control API under `/__sim` (never under `/v1`): set up containers and files directly,
 * switch quirks, inject faults, read ground truth and counters. No bearer key: it is a test
 * fixture's side door, not part of the simulated API.
 */
import { Hono } from "hono";
import { z } from "zod";
import { addFile, createContainer, findContainer, toContainerObject, toFileObject } from "../containers";
import { fileSha256, naturalSize } from "../content";
import { SimError, notFound } from "../errors";
import { addFault, faultView } from "../faults";
import { checkQuirkObject } from "../quirks";
import { groundTruth, type StoredResponse } from "../responses/store";
import { registerReplay } from "../replay";
import { resetState, state, type SimFile } from "../state";
import { jsonBody, parseOr400 } from "../validate";

const FileSpec = z.strictObject({
  path: z.string().min(1),
  size: z.number().int().min(0).optional(),
  source: z.enum(["assistant", "user"]).optional(),
  seed: z.number().int().optional(),
  /** Listed only this many ms from now (default 0: listed at once). */
  visible_after_ms: z.number().int().min(0).optional(),
});

const CreateContainer = z.strictObject({
  name: z.string().optional(),
  quirks: z.record(z.string(), z.boolean()).optional(),
  files: z.array(FileSpec).optional(),
  expire_idle_ms: z.number().int().min(1).optional(),
  /** The owning organisation, `org-<n>` for the n-th key of SIM_API_KEY (default org-1). */
  org: z
    .string()
    .regex(/^org-\d+$/)
    .optional(),
});

const FaultBody = z.strictObject({
  file_id: z.string().optional(),
  container_id: z.string().optional(),
  kind: z.enum(["status", "cut", "slow", "pause", "expire"]),
  on: z.enum(["content", "list", "any"]).optional(),
  status: z.number().int().min(400).max(599).optional(),
  times: z.number().int().min(1).optional(),
  retry_after: z.number().min(0).optional(),
  at_byte: z.number().int().min(0).optional(),
  bytes_per_sec: z.number().int().min(1).optional(),
});

const ConfigBody = z.strictObject({
  quirks: z.record(z.string(), z.boolean()).optional(),
  late_listing_ms: z.number().int().min(0).optional(),
  expire_idle_ms: z.number().int().min(1).optional(),
  pace_ms: z.number().int().min(0).optional(),
  background_ms: z.number().int().min(0).optional(),
});

/** A container.file plus the simulator's truth about it (`size`: the real byte count). */
const fileWithTruth = (f: SimFile) => ({ ...toFileObject(f), size: f.size });

export const controlRoutes = new Hono();

controlRoutes.post("/reset", (c) => {
  resetState();
  return c.json({ ok: true });
});

controlRoutes.get("/config", (c) => c.json({ quirks: state.globalQuirks, ...state.settings }));

controlRoutes.post("/config", async (c) => {
  const body = parseOr400(ConfigBody, await jsonBody(c.req.raw));
  const { quirks, ...settings } = body;
  state.globalQuirks = { ...state.globalQuirks, ...checkQuirkObject(quirks, "config") };
  state.settings = { ...state.settings, ...settings };
  return c.json({ quirks: state.globalQuirks, ...state.settings });
});

controlRoutes.post("/containers", async (c) => {
  const body = parseOr400(CreateContainer, await jsonBody(c.req.raw));
  const ct = createContainer({
    org: body.org,
    name: body.name,
    quirks: checkQuirkObject(body.quirks, "container"),
    expire_idle_ms: body.expire_idle_ms,
  });
  const files = (body.files ?? []).map((spec) => addSpecFile(ct.id, spec));
  return c.json({ ...toContainerObject(ct), files: files.map(fileWithTruth) });
});

function addSpecFile(cid: string, spec: z.infer<typeof FileSpec>): SimFile {
  const ct = findContainer(cid);
  const path = spec.path.startsWith("/") ? spec.path : `/mnt/data/${spec.path}`;
  return addFile(ct, {
    path,
    size: spec.size ?? naturalSize(path),
    source: spec.source,
    seed: spec.seed,
    visible_from_ms: Date.now() + (spec.visible_after_ms ?? 0),
  });
}

controlRoutes.post("/containers/:cid/files", async (c) => {
  const spec = parseOr400(FileSpec, await jsonBody(c.req.raw));
  return c.json(fileWithTruth(addSpecFile(c.req.param("cid"), spec)));
});

controlRoutes.post("/containers/:cid/config", async (c) => {
  const ct = findContainer(c.req.param("cid"));
  const body = parseOr400(z.strictObject({ quirks: z.record(z.string(), z.boolean()) }), await jsonBody(c.req.raw));
  ct.quirks = { ...ct.quirks, ...checkQuirkObject(body.quirks, "container") };
  return c.json({ id: ct.id, quirks: ct.quirks });
});

controlRoutes.post("/containers/:cid/expire", async (c) => {
  const ct = findContainer(c.req.param("cid"));
  const text = await c.req.text();
  const body = text.trim()
    ? parseOr400(z.strictObject({ after_ms: z.number().int().min(0).optional() }), JSON.parse(text))
    : {};
  ct.expire_at_ms = Date.now() + (body.after_ms ?? 0);
  return c.json(toContainerObject(ct));
});

controlRoutes.post("/faults", async (c) => {
  const body = parseOr400(FaultBody, await jsonBody(c.req.raw));
  const f = addFault(body);
  return c.json({ id: f.id });
});

controlRoutes.get("/faults/:id", (c) => {
  const f = state.faults.get(c.req.param("id"));
  if (!f) throw notFound(`No fault ${c.req.param("id")}`);
  return c.json(faultView(f));
});

controlRoutes.post("/faults/:id/release", (c) => {
  const f = state.faults.get(c.req.param("id"));
  if (!f) throw notFound(`No fault ${c.req.param("id")}`);
  f.released = true;
  return c.json(faultView(f));
});

controlRoutes.get("/responses/:id", async (c) => c.json(await groundTruth(c.req.param("id"))));

/** The event types and numbers of the last stream served for a response (404 before any). */
controlRoutes.get("/responses/:id/events", (c) => {
  const r = state.responses.get(c.req.param("id")) as StoredResponse | undefined;
  if (!r?.streamed) throw notFound(`No stream was served for response ${c.req.param("id")}`);
  return c.json({ object: "list", data: r.streamed });
});

/** Registers a recording to replay (replay.ts): `{response}` or `{events}` → `{id, files}`. */
controlRoutes.post("/replays", async (c) => {
  const r = registerReplay(await c.req.json());
  return c.json({ id: r.id, files: r.files });
});

/** The create request of a response as the simulator received it (`store: false` ones too). */
controlRoutes.get("/responses/:id/request", (c) => {
  const r = state.responses.get(c.req.param("id")) as StoredResponse | undefined;
  if (!r?.received) throw notFound(`No request recorded for response ${c.req.param("id")}`);
  return c.json(r.received);
});

/** The last `/v1` requests received (method, path, query, `openai_beta`), oldest first; `?path_contains=` filters. */
controlRoutes.get("/requests", (c) => {
  const needle = c.req.query("path_contains");
  return c.json({
    object: "list",
    data: needle ? state.requests.filter((r) => r.path.includes(needle)) : state.requests,
  });
});

controlRoutes.get("/files/:fid", async (c) => {
  const f = state.files.get(c.req.param("fid"));
  if (!f) throw notFound(`No file ${c.req.param("fid")}`);
  if (f.body.kind === "junk") throw new SimError(404, `File ${f.id} is a junk listing entry with no content.`);
  return c.json({
    file_id: f.id,
    container_id: f.container_id,
    path: f.path,
    bytes: f.size,
    sha256: await fileSha256(f),
    source: f.source,
    deleted: f.deleted,
  });
});

controlRoutes.get("/counters", (c) => c.json(state.counters));
