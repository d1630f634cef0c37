/**
 * @module scenario
 * The directive line a prompt may carry: `sim: key=value; key=value`. The last such line of the
 * last user message wins. Keys: `scenario`, `files`, `size`, `count`, `quirks`, `pace_ms`, `late_listing_ms`,
 * `status` (`503x2`: the first two attempts of this exact request fail), `retry_after`, `replay`.
 */
import { SimError } from "./errors";
import { parseQuirkList, type QuirkOverrides } from "./quirks";

export const SCENARIOS = [
  "one-file",
  "several-files",
  "link-no-annotation",
  "annotation-no-link",
  "link-forms",
  "code-echo",
  "link-before-tool",
  "later-turn-link",
  "rewrite-same-path",
  "phantom",
  "unnamed",
  "many-temp",
  "big",
  "no-tool",
  "figure",
  "fail",
  "skill-document",
] as const;

export type ScenarioName = (typeof SCENARIOS)[number];

export interface Directive {
  scenario: ScenarioName;
  files?: string[];
  size?: number;
  count?: number;
  quirks: QuirkOverrides;
  pace_ms?: number;
  /** Per-request override of the late-listing delay. */
  late_listing_ms?: number;
  status?: { status: number; times: number };
  retry_after?: number;
  /** A registered replay (`POST /__sim/replays`): the answer is that recording, not a scenario. */
  replay?: string;
}

const bad = (message: string) => new SimError(400, `sim directive: ${message}`, { param: "input" });

/** `64MB`, `1.5MiB`, `300kb`, `1024` → bytes. */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib|gb|gib)?$/i.exec(text.trim());
  if (!m) throw bad(`size '${text}' is not like 64MB`);
  const unit = (m[2] ?? "b").toLowerCase();
  const mult = unit.startsWith("k") ? 1024 : unit.startsWith("m") ? 1024 ** 2 : unit.startsWith("g") ? 1024 ** 3 : 1;
  return Math.round(Number(m[1]) * mult);
}

/** Finds and parses the directive in a prompt's text (defaults when there is none). */
export function parseDirective(text: string): Directive {
  const out: Directive = { scenario: "one-file", quirks: {} };
  const lines = text.split(/\r?\n/).filter((l) => /^\s*sim:/.test(l));
  const line = lines.at(-1);
  if (!line) {
    // A prompt that lists container paths as `- /mnt/data/<name>` lines (as a proxy's repair turn
    // does) gets exactly those files written, like a model that follows the instruction.
    const asked = [...text.matchAll(/^\s*- \/mnt\/data\/(\S+)\s*$/gm)].map((m) => m[1]!);
    if (asked.length > 0) return { ...out, scenario: asked.length === 1 ? "one-file" : "several-files", files: asked };
    return out;
  }
  for (const pair of line.replace(/^\s*sim:/, "").split(";")) {
    if (!pair.trim()) continue;
    const eq = pair.indexOf("=");
    if (eq < 0) throw bad(`'${pair.trim()}' is not key=value`);
    const key = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    switch (key) {
      case "scenario":
        if (!(SCENARIOS as readonly string[]).includes(value))
          throw bad(`unknown scenario '${value}'; known: ${SCENARIOS.join(", ")}`);
        out.scenario = value as ScenarioName;
        break;
      case "files":
        out.files = value
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean);
        break;
      case "size":
        out.size = parseSize(value);
        break;
      case "count":
        out.count = Number(value);
        if (!Number.isInteger(out.count) || out.count < 1 || out.count > 10_000) throw bad("count must be 1..10000");
        break;
      case "quirks":
        out.quirks = parseQuirkList(value);
        break;
      case "pace_ms":
        out.pace_ms = Number(value);
        break;
      case "late_listing_ms":
        out.late_listing_ms = Number(value);
        if (!Number.isFinite(out.late_listing_ms) || out.late_listing_ms < 0)
          throw bad("late_listing_ms must be a number >= 0");
        break;
      case "status": {
        const m = /^(\d{3})(?:x(\d+))?$/.exec(value);
        if (!m) throw bad("status must look like 503 or 503x2");
        out.status = { status: Number(m[1]), times: Number(m[2] ?? 1) };
        break;
      }
      case "retry_after":
        out.retry_after = Number(value);
        break;
      case "replay":
        if (!/^rpl_[0-9a-f]{1,64}$/.test(value)) throw bad("replay must be an id from POST /__sim/replays");
        out.replay = value;
        break;
      default:
        throw bad(`unknown key '${key}'`);
    }
  }
  return out;
}
