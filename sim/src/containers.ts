/**
 * @module containers
 * The container store: containers, their files, activity and expiry. Plain functions over
 * `state`; the HTTP shapes are made by `toContainerObject` / `toFileObject`.
 */
import { containerExpired, notFound } from "./errors";
import { containerId, fileId, nowSeconds } from "./ids";
import { hash32 } from "./prng";
import { resolveQuirks, type QuirkOverrides, type Quirks } from "./quirks";
import { DEFAULT_ORG } from "./orgs";
import { nextSeq, state, type FileBody, type FileSource, type SimContainer, type SimFile } from "./state";

export interface CreateContainerOptions {
  /** A given id (a replayed recording's); default: a fresh one. */
  id?: string;
  /** The owning organisation (default: the first key's). */
  org?: string;
  name?: string;
  memory_limit?: SimContainer["memory_limit"];
  expire_idle_ms?: number;
  quirks?: QuirkOverrides;
}

/** Creates a running container. */
export function createContainer(opts: CreateContainerOptions = {}): SimContainer {
  const created = nowSeconds();
  const c: SimContainer = {
    id: opts.id ?? containerId(created),
    org: opts.org ?? DEFAULT_ORG,
    name: opts.name ?? "Code Interpreter container",
    created_at: created,
    last_active_ms: Date.now(),
    expire_idle_ms: opts.expire_idle_ms ?? state.settings.expire_idle_ms,
    memory_limit: opts.memory_limit ?? "1g",
    quirks: { ...opts.quirks },
    deleted: false,
    file_ids: [],
    seq: nextSeq(),
  };
  state.containers.set(c.id, c);
  return c;
}

/** Whether the container has expired (idle too long, or forced). */
export function isExpired(c: SimContainer, now = Date.now()): boolean {
  if (c.expire_at_ms !== undefined && now >= c.expire_at_ms) return true;
  return now - c.last_active_ms >= c.expire_idle_ms;
}

/** The container's quirks, with optional request-level overrides on top. */
export function containerQuirks(c: SimContainer | undefined, extra?: QuirkOverrides): Quirks {
  return resolveQuirks(state.globalQuirks, c?.quirks, extra);
}

/**
 * A container that exists and was not deleted, or 404. Does not check expiry. With `org`, another
 * organisation's container is a 404 too, with the same message (the control API passes none).
 */
export function findContainer(id: string, org?: string): SimContainer {
  const c = state.containers.get(id);
  if (!c || c.deleted || (org !== undefined && c.org !== org)) throw notFound(`Container with id '${id}' not found.`);
  return c;
}

/**
 * A live container for a file endpoint: 404 "Container is expired." once it expired. Refreshes
 * `last_active_at`, as any container operation does on the real API.
 */
export function liveContainer(id: string, expiredStatus: 400 | 404 = 404): SimContainer {
  const c = findContainer(id);
  if (isExpired(c)) throw containerExpired(expiredStatus);
  c.last_active_ms = Date.now();
  return c;
}

/** Forces expiry now (or at a later moment). */
export function expireContainer(c: SimContainer, atMs = Date.now()): void {
  c.expire_at_ms = atMs;
}

export interface AddFileOptions {
  /** A given id and `created_at` (a replayed recording's); default: fresh, now. */
  id?: string;
  created_at?: number;
  path: string;
  size: number;
  source?: FileSource;
  body?: FileBody;
  seed?: number;
  visible_from_ms?: number;
  quirks?: QuirkOverrides;
}

/** Writes a file into a container (content is generated lazily, as a stream, when read). */
export function addFile(c: SimContainer, opts: AddFileOptions): SimFile {
  const visible = opts.visible_from_ms ?? Date.now();
  const created = opts.created_at ?? Math.max(nowSeconds(), Math.floor(visible / 1000));
  const id = opts.id ?? fileId(created);
  const f: SimFile = {
    id,
    container_id: c.id,
    path: opts.path,
    size: opts.size,
    source: opts.source ?? "assistant",
    body: opts.body ?? { kind: "generated", seed: opts.seed ?? hash32(id) },
    created_at: created,
    visible_from_ms: visible,
    quirks: opts.quirks,
    deleted: false,
    seq: nextSeq(),
  };
  state.files.set(id, f);
  c.file_ids.push(id);
  return f;
}

/**
 * The file a write to `path` overwrites in place (quirk `same_id_rewrite`): the newest live one
 * with content at that path, or undefined (the write makes a new file).
 */
export function fileAtPath(c: SimContainer, path: string): SimFile | undefined {
  for (let i = c.file_ids.length - 1; i >= 0; i--) {
    const f = state.files.get(c.file_ids[i]!);
    if (f && !f.deleted && f.body.kind !== "junk" && f.path === path) return f;
  }
  return undefined;
}

/**
 * Writes new bytes into an existing file, keeping its id, `created_at` and listing position (quirk
 * `same_id_rewrite`): only the content (and its size) changes.
 */
export function rewriteFile(f: SimFile, size: number, quirks?: QuirkOverrides): SimFile {
  f.body = { kind: "generated", seed: hash32(`${f.id}#${nextSeq()}`) };
  f.size = size;
  f.sha256 = undefined;
  if (quirks) f.quirks = { ...f.quirks, ...quirks };
  return f;
}

/** The container's files that a listing shows now (newest first unless `asc`). */
export function listedFiles(c: SimContainer, order: "asc" | "desc", now = Date.now()): SimFile[] {
  const out: SimFile[] = [];
  for (const id of c.file_ids) {
    const f = state.files.get(id);
    if (!f || f.deleted) continue;
    if (f.visible_from_ms > now) continue;
    out.push(f);
  }
  out.sort((a, b) => a.created_at - b.created_at || a.seq - b.seq);
  if (order === "desc") out.reverse();
  return out;
}

/** A file of this container, or 404 as the real API words it. */
export function findFile(c: SimContainer, id: string): SimFile {
  const f = state.files.get(id);
  if (!f || f.deleted || f.container_id !== c.id) throw notFound(`File ${id} not found on container ${c.id}.`);
  return f;
}

/** The container object as `GET /v1/containers/{id}` returns it. */
export function toContainerObject(c: SimContainer) {
  const expired = isExpired(c);
  return {
    id: c.id,
    object: "container",
    created_at: c.created_at,
    status: expired ? "expired" : "running",
    expires_after: { anchor: "last_active_at", minutes: Math.max(1, Math.round(c.expire_idle_ms / 60_000)) },
    last_active_at: Math.floor(c.last_active_ms / 1000),
    memory_limit: c.memory_limit,
    name: c.name,
  };
}

/** The container.file object; `bytes` is null for generated files while the quirk is on. */
export function toFileObject(f: SimFile) {
  const c = state.containers.get(f.container_id);
  const q = containerQuirks(c, f.quirks);
  const nullBytes = f.body.kind === "junk" || (f.source === "assistant" && q.null_bytes);
  return {
    id: f.id,
    object: "container.file",
    created_at: f.created_at,
    bytes: nullBytes ? null : f.size,
    container_id: f.container_id,
    path: f.path,
    source: f.source,
  };
}
