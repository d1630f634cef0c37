/**
 * @module responses/turn
 * Carries out a turn plan against a container: writes the files, then builds the final output
 * items (messages with `output_text` and `container_file_citation` annotations, the
 * `code_interpreter_call` with its outputs) exactly as the real API shapes them.
 */
import { addFile, fileAtPath, rewriteFile } from "../containers";
import { PNG_BASE64, PNG_BYTES } from "../content";
import { itemId } from "../ids";
import type { Quirks, QuirkOverrides } from "../quirks";
import { state, type FileBody, type SimContainer, type SimFile } from "../state";
import type { TurnPlan } from "./model";

export interface TurnResult {
  output: Record<string, unknown>[];
  written: string[];
  cited: string[];
  /** The content of each written file as this turn left it (a later turn may rewrite it in place). */
  bodies: Record<string, WrittenBody>;
}

/** A file's content at the end of a turn, for ground truth. */
export interface WrittenBody {
  size: number;
  body: FileBody;
}

export interface TurnOptions {
  plan: TurnPlan;
  container: SimContainer | null;
  quirks: Quirks;
  overrides: QuirkOverrides;
  /** Files of earlier turns the model may cite again. */
  earlier: { path: string; file_id: string }[];
  /** When the message citing the files starts (ms); listing shows them `late_listing_ms` later. */
  messageStartMs: number;
  lateListingMs: number;
}

/** The index of the `occurrence`-th match (-1: last) of `needle`, in UTF-16 units. */
function findNth(text: string, needle: string, occurrence: number): number {
  const hits: number[] = [];
  for (let i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + 1)) hits.push(i);
  return (occurrence < 0 ? hits.at(occurrence) : hits[occurrence]) ?? -1;
}

/** Converts a UTF-16 offset into the unit the quirk asks for (code points by default). */
export function toIndexUnit(text: string, utf16: number, codePoints: boolean): number {
  return codePoints ? [...text.slice(0, utf16)].length : utf16;
}

/** Writes files and builds output items. */
export function runTurn(o: TurnOptions): TurnResult {
  const output: Record<string, unknown>[] = [];
  const written: string[] = [];
  const cited: string[] = [];
  const byPath = new Map<string, SimFile>();
  let figure: SimFile | undefined;
  const visible = o.quirks.late_listing ? o.messageStartMs + o.lateListingMs : Date.now();

  for (const step of o.plan.steps) {
    if (step.kind === "tool") {
      const c = o.container!;
      for (const w of step.writes) {
        const same = o.quirks.same_id_rewrite ? fileAtPath(c, w.path) : undefined;
        if (same) {
          // Quirk `same_id_rewrite`: the write keeps the file's id and `created_at`; only the bytes change.
          byPath.set(w.path, rewriteFile(same, w.size, o.overrides));
          written.push(same.id);
          continue;
        }
        if (step.replaces) {
          // Writing a path again replaces the older file: it leaves the listing and its content is gone.
          for (const fid of c.file_ids) {
            const old = state.files.get(fid);
            if (old && !old.deleted && old.path === w.path) old.deleted = true;
          }
        }
        const f = addFile(c, {
          path: w.path,
          size: w.size,
          source: "assistant",
          visible_from_ms: visible,
          quirks: o.overrides,
        });
        byPath.set(w.path, f);
        written.push(f.id);
      }
      const outputs: Record<string, unknown>[] = [{ type: "logs", logs: step.logs }];
      if (step.figure && o.quirks.figure_citation) {
        // The shown figure is a container file of its own, cited by a zero-span citation.
        figure = addFile(c, {
          path: `/mnt/data/figure_${written.length}.png`,
          size: PNG_BYTES.length,
          source: "assistant",
          visible_from_ms: visible,
          quirks: o.overrides,
        });
        figure.path = `/mnt/data/${figure.id}.png`;
        outputs.push({ type: "image", url: `data:image/png;base64,${PNG_BASE64}` });
      }
      output.push({
        id: itemId("ci"),
        type: "code_interpreter_call",
        status: "completed",
        code: step.code,
        container_id: c.id,
        outputs,
      });
      continue;
    }
    const annotations: Record<string, unknown>[] = [];
    if (figure && step.phase === "final_answer") {
      annotations.push({
        type: "container_file_citation",
        container_id: figure.container_id,
        end_index: 0,
        file_id: figure.id,
        filename: `${figure.id}.png`,
        start_index: 0,
      });
      cited.push(figure.id);
      figure = undefined;
    }
    for (const cite of o.quirks.missing_citations ? [] : step.cites) {
      const f = byPath.get(cite.path) ?? fileFromEarlier(o.earlier, cite.path);
      const at = findNth(step.text, cite.needle, cite.occurrence);
      if (!f || at < 0) continue;
      const start = toIndexUnit(step.text, at, o.quirks.codepoint_indices);
      const end = toIndexUnit(step.text, at + cite.needle.length, o.quirks.codepoint_indices);
      annotations.push({
        type: "container_file_citation",
        container_id: f.container_id,
        end_index: end,
        file_id: f.id,
        filename: f.path.slice(f.path.lastIndexOf("/") + 1),
        start_index: start,
      });
      cited.push(f.id);
    }
    output.push({
      id: itemId("msg"),
      type: "message",
      status: "completed",
      content: [{ type: "output_text", annotations, logprobs: [], text: step.text }],
      phase: step.phase,
      role: "assistant",
    });
  }
  const bodies: Record<string, WrittenBody> = {};
  for (const id of written) {
    const f = state.files.get(id)!;
    bodies[id] = { size: f.size, body: f.body };
  }
  return { output, written, cited, bodies };
}

function fileFromEarlier(earlier: { path: string; file_id: string }[], path: string): SimFile | undefined {
  const hit = [...earlier].reverse().find((e) => e.path === path);
  return hit ? state.files.get(hit.file_id) : undefined;
}
