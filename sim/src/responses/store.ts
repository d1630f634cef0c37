/**
 * @module responses/store
 * Stored responses: what was asked, what the model produced (all output items, with outputs),
 * the files it wrote and cited, and for background responses the timeline that decides their
 * status when they are read.
 */
import { fileSha256 } from "../content";
import { notFound } from "../errors";
import type { Quirks } from "../quirks";
import { state } from "../state";
import type { CreateResponseBody } from "./schemas";
import type { WrittenBody } from "./turn";

export interface StoredResponse {
  id: string;
  /** The organisation whose key created it (src/orgs.ts). */
  org: string;
  created_ms: number;
  created_at: number;
  body: CreateResponseBody;
  quirks: Quirks;
  pace_ms: number;
  background: boolean;
  /** Background only: when it leaves `queued`, and when it completes. */
  starts_ms: number;
  completes_ms: number;
  cancelled: boolean;
  container_id: string | null;
  /** Final output items (tool calls with their outputs; `include` filters them when rendered). */
  output: Record<string, unknown>[];
  input_items: Record<string, unknown>[];
  error: { code: string; message: string } | null;
  usage: { input_tokens: number; output_tokens: number };
  written: string[];
  /** The content of each written file at the end of this turn (quirk `same_id_rewrite` changes it in place later). */
  written_bodies?: Record<string, WrittenBody>;
  claimed: string[];
  cited: string[];
  /** The conversation it belongs to (`conversation` on create). */
  conversation_id?: string;
  /** Created as a beta multi-agent response (responses/beta.ts): items and events carry `agent`. */
  multi_agent?: boolean;
  /** The create request as received: its JSON body, query string and `OpenAI-Beta` header. */
  received?: { body: unknown; query: string; openai_beta: string | null };
  /** The events of the last stream served for it (type and number), for proxies' fidelity tests. */
  streamed?: { type: string; sequence_number: number }[];
}

export function putResponse(r: StoredResponse): void {
  state.responses.set(r.id, r);
}

/** A stored response of `org`, or the real 404 (another organisation's id is not found either). */
export function getResponse(id: string, org: string): StoredResponse {
  const r = state.responses.get(id) as StoredResponse | undefined;
  // `store: false` responses cannot be read back (background ones are kept while they run).
  if (!r || r.org !== org || (r.body.store === false && !r.background))
    throw notFound(`Response with id '${id}' not found.`);
  return r;
}

/** A response for the control API's ground truth, stored or not. */
export function getAnyResponse(id: string): StoredResponse {
  const r = state.responses.get(id) as StoredResponse | undefined;
  if (!r) throw notFound(`Response with id '${id}' not found.`);
  return r;
}

/** Ground truth for tests: `{id, container_id, written:[{file_id,path,bytes,sha256}], claimed, cited}`. */
export async function groundTruth(id: string) {
  const r = getAnyResponse(id);
  const written = [];
  for (const fid of r.written) {
    const f = state.files.get(fid);
    if (!f) continue;
    // The bytes as this turn left them: a later turn may have rewritten the file under the same id.
    const own = r.written_bodies?.[fid];
    const asWritten = own && own.body !== f.body ? { ...f, ...own, sha256: undefined } : f;
    written.push({ file_id: f.id, path: f.path, bytes: asWritten.size, sha256: await fileSha256(asWritten) });
  }
  return { id: r.id, container_id: r.container_id, written, claimed: r.claimed, cited: r.cited };
}
