/**
 * @module replay
 * Replays a recorded answer of the real API, so a proxy can be run against real traffic: a test
 * registers a recorded Response body (plain) or its event list (stream) with
 * `POST /__sim/replays`, then sends `POST /v1/responses` whose last user message carries the
 * directive `sim: replay=<id>`; the answer is the recording, byte for byte as parsed (the plain
 * body as JSON, the events framed `event: <type>\ndata: <json>\n\n` in their order).
 *
 * Recordings hold no container contents, so registering one makes the containers and files the
 * recording names exist here, with the recorded ids: every `container_id`, every cited file at
 * the path its citation's link names (or `/mnt/data/<filename>` when the citation covers no link,
 * as a shown figure's does), and every linked path no citation names as a file of the first
 * container. Their bytes are the simulator's deterministic ones (content.ts), listed at once, and
 * `GET /__sim/files/{id}` gives their sha256, so a proxy's downloads can be checked.
 */
import { addFile, createContainer } from "./containers";
import { naturalSize } from "./content";
import { SimError, notFound } from "./errors";
import { fileId } from "./ids";
import { DEFAULT_ORG } from "./orgs";
import { state } from "./state";

type Json = Record<string, unknown>;

export interface Replay {
  id: string;
  response?: Json;
  events?: Json[];
  files: { file_id: string; container_id: string; path: string }[];
}

const TERMINAL = new Set(["response.completed", "response.incomplete", "response.failed"]);

/** The finished Response a recording shows: the plain body, or the stream's terminal event's. */
function finalOf(r: { response?: Json; events?: Json[] }): Json | undefined {
  if (r.response) return r.response;
  const terminal = r.events?.findLast((e) => TERMINAL.has(String(e.type)));
  return terminal?.response as Json | undefined;
}

/** `sandbox:` link destinations of a text with their offsets (UTF-16). */
function linksIn(text: string): { start: number; end: number; path: string }[] {
  const out: { start: number; end: number; path: string }[] = [];
  for (const m of text.matchAll(/sandbox:(\/mnt\/data\/[^\s)>\]"']+)/g)) {
    let path = m[1]!;
    try {
      path = decodeURI(path);
    } catch {
      // kept as written
    }
    out.push({ start: m.index!, end: m.index! + m[0].length, path });
  }
  return out;
}

/** `created_at` from an id that embeds its creation second (`cfile_<8 hex>…`). */
function createdAtOf(id: string, fallback: number): number {
  const m = /^[a-z]+_([0-9a-f]{8})/.exec(id);
  return m ? parseInt(m[1]!, 16) : fallback;
}

/** Registers a recording and makes its containers and files exist. */
export function registerReplay(input: { response?: unknown; events?: unknown }): Replay {
  const response = input.response && typeof input.response === "object" ? (input.response as Json) : undefined;
  const events = Array.isArray(input.events) ? (input.events as Json[]) : undefined;
  if (!response === !events)
    throw new SimError(
      400,
      "replay: give exactly one of response (a Response object) or events (a list of stream events)",
    );
  const final = finalOf({ response, events });
  const createdAt = typeof final?.created_at === "number" ? final.created_at : Math.floor(Date.now() / 1000);
  const containers: string[] = [];
  const files: Replay["files"] = [];
  const ensureContainer = (id: string) => {
    if (!containers.includes(id)) containers.push(id);
    const c = state.containers.get(id);
    if (c) {
      c.last_active_ms = Date.now();
      c.expire_at_ms = undefined;
      return c;
    }
    return createContainer({ id, org: DEFAULT_ORG, name: "replayed container" });
  };
  const ensureFile = (containerId: string, fileId: string, path: string) => {
    if (files.some((f) => f.file_id === fileId)) return;
    const c = ensureContainer(containerId);
    if (!state.files.has(fileId))
      addFile(c, {
        id: fileId,
        created_at: createdAtOf(fileId, createdAt),
        path,
        size: naturalSize(path),
        source: "assistant",
        visible_from_ms: 0,
      });
    files.push({ file_id: fileId, container_id: containerId, path: state.files.get(fileId)!.path });
  };

  const linked: string[] = [];
  for (const item of (final?.output ?? []) as Json[]) {
    if (typeof item.container_id === "string") ensureContainer(item.container_id);
    for (const part of (Array.isArray(item.content) ? item.content : []) as Json[]) {
      if (part.type !== "output_text" || typeof part.text !== "string") continue;
      const links = linksIn(part.text);
      linked.push(...links.map((l) => l.path));
      for (const a of (Array.isArray(part.annotations) ? part.annotations : []) as Json[]) {
        if (a.type !== "container_file_citation" || typeof a.container_id !== "string" || typeof a.file_id !== "string")
          continue;
        // Recorded texts have no astral characters, so the indices are UTF-16 offsets too.
        const covered = links.find((l) => l.start === a.start_index && l.end === a.end_index);
        ensureFile(a.container_id, a.file_id, covered?.path ?? `/mnt/data/${String(a.filename)}`);
      }
    }
  }
  const first = containers[0];
  if (first) {
    for (const path of linked) {
      if (files.some((f) => f.path === path)) continue;
      ensureFile(first, fileId(createdAt), path);
    }
  }
  const replay: Replay = {
    id: `rpl_${crypto.randomUUID().replaceAll("-", "")}`,
    ...(response ? { response } : {}),
    ...(events ? { events } : {}),
    files,
  };
  state.replays.set(replay.id, replay);
  return replay;
}

export function getReplay(id: string): Replay {
  const r = state.replays.get(id) as Replay | undefined;
  if (!r) throw notFound(`No replay ${id}`);
  return r;
}
