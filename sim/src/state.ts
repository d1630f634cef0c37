/**
 * @module state
 * The simulator's whole state, in the isolate's memory: one `wrangler dev` process or the tests'
 * auxiliary worker holds one copy. Nothing here survives a restart, like a real container.
 */
import { QUIRK_DEFAULTS, SETTING_DEFAULTS, type QuirkOverrides, type Settings } from "./quirks";

export type FileSource = "assistant" | "user";

/** How a file's bytes are made. */
export type FileBody =
  | { kind: "generated"; seed: number } // deterministic, streamed, any size
  | { kind: "stored"; bytes: Uint8Array } // uploaded through the Containers API
  | { kind: "junk" }; // a listing entry with no content ("not found on container")

export interface SimFile {
  id: string;
  container_id: string;
  path: string;
  /** The true size in bytes (what the content endpoint sends). */
  size: number;
  source: FileSource;
  body: FileBody;
  /** Unix seconds (the real `created_at` is when the file was registered, i.e. listed). */
  created_at: number;
  /** Listed only from this moment (ms). */
  visible_from_ms: number;
  /** Quirk overrides of the request that wrote it. */
  quirks?: QuirkOverrides;
  deleted: boolean;
  /** Filled the first time someone asks (computed by streaming). */
  sha256?: string;
  /** Insertion counter, to order files created within the same second. */
  seq: number;
}

export interface SimContainer {
  id: string;
  /** The organisation whose key created it (src/orgs.ts). */
  org: string;
  name: string;
  created_at: number;
  last_active_ms: number;
  expire_idle_ms: number;
  /** An absolute moment at which it expires, whatever the activity. */
  expire_at_ms?: number;
  memory_limit: "1g" | "4g" | "16g" | "64g";
  quirks: QuirkOverrides;
  deleted: boolean;
  file_ids: string[];
  seq: number;
}

export interface SimFault {
  id: string;
  file_id?: string;
  container_id?: string;
  kind: "status" | "cut" | "slow" | "pause" | "expire";
  /** Which routes a status fault hits: the content endpoint, the file listing, or any container route. */
  on: "content" | "list" | "any";
  status: number;
  times: number;
  retry_after?: number;
  at_byte: number;
  bytes_per_sec: number;
  hits: number;
  paused: boolean;
  released: boolean;
}

export interface Counters {
  content_fetches: Record<string, number>;
  container_reads: Record<string, number>;
  list_calls: Record<string, number>;
  responses_created: number;
}

/** The mutable global state, with `reset()` for a process of one's own. */
export const state = {
  containers: new Map<string, SimContainer>(),
  files: new Map<string, SimFile>(),
  /** Responses are `unknown` here to keep this module free of the engine's types. */
  responses: new Map<string, unknown>(),
  faults: new Map<string, SimFault>(),
  /** Registered recordings to replay (replay.ts). */
  replays: new Map<string, unknown>(),
  /** Conversations (conversations.ts), `unknown` here like responses. */
  conversations: new Map<string, unknown>(),
  /** Attempts seen per request body, for directive `status=` faults. */
  requestAttempts: new Map<string, number>(),
  counters: emptyCounters(),
  globalQuirks: {} as QuirkOverrides,
  settings: { ...SETTING_DEFAULTS } as Settings,
  seq: 0,
  /** The last {@link REQUEST_LOG_SIZE} `/v1` requests as received (method, path, query, `openai-beta`), for proxies' tests. */
  requests: [] as ReceivedRequest[],
};

/** A `/v1` request as it arrived (`GET /__sim/requests`). */
export interface ReceivedRequest {
  method: string;
  path: string;
  /** The query string without `?` ("" when none). */
  query: string;
  openai_beta: string | null;
}

export const REQUEST_LOG_SIZE = 500;

/** Remembers a request; the oldest is forgotten past {@link REQUEST_LOG_SIZE}. */
export function logRequest(r: ReceivedRequest): void {
  state.requests.push(r);
  if (state.requests.length > REQUEST_LOG_SIZE) state.requests.splice(0, state.requests.length - REQUEST_LOG_SIZE);
}

function emptyCounters(): Counters {
  return { content_fetches: {}, container_reads: {}, list_calls: {}, responses_created: 0 };
}

/** Forgets everything, including global config. */
export function resetState(): void {
  state.containers.clear();
  state.files.clear();
  state.responses.clear();
  state.faults.clear();
  state.conversations.clear();
  state.replays.clear();
  state.requestAttempts.clear();
  state.requests = [];
  state.counters = emptyCounters();
  state.globalQuirks = {};
  state.settings = { ...SETTING_DEFAULTS };
}

/** Next insertion counter. */
export const nextSeq = () => ++state.seq;

/** Adds one to a per-id counter. */
export function bump(map: Record<string, number>, id: string): void {
  map[id] = (map[id] ?? 0) + 1;
}

export { QUIRK_DEFAULTS };
