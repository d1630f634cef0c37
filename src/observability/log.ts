/**
 * @module observability/log
 * Structured log lines: one JSON object per line on stdout, which Workers Logs indexes field by
 * field (`[observability] enabled = true` in wrangler.toml;
 * https://developers.cloudflare.com/workers/observability/logs/workers-logs/): one
 * `request` line per HTTP request, one `copy_job` line per copy step a tracker settles, and
 * `logEvent` lines for everything else (same `event`/`level` keys).
 * Lines never carry secrets, tokens, prompts or file contents: ids, counts, sizes and states only.
 */
import type { RequestMetrics } from "./request-context";

/** The line written once per request. */
export interface RequestLogLine extends RequestMetrics {
  event: "request";
  level: "info" | "warn" | "error";
  requestId: string;
  tenant: string | null;
  method: string;
  /** The matched route pattern (`/v1/responses/:id`), never the raw path: download paths hold tokens. */
  route: string;
  status: number;
  /** Whole request, until the handler returned (a stream keeps flowing after that). */
  durationMs: number;
  /** Bytes of the answer body when it declares them (downloads do). */
  bytesOut: number | null;
}

/** The line written once per settled copy step. */
export interface CopyJobLogLine {
  event: "copy_job";
  level: "info" | "warn";
  tenant: string;
  containerId: string;
  fileId: string;
  version: number;
  /** `stored`, `partial` (more parts to go), `retry`, `failed` (gave up) or `gone`. */
  outcome: "stored" | "partial" | "retry" | "failed" | "gone";
  /** Bytes written to R2 by this job so far (the whole file when `stored`). */
  bytes: number | null;
  multipart: boolean | null;
  attempts: number;
  reason: string | null;
}

/** Writes one line. `console.log` is what Workers Logs and `wrangler tail` capture. */
export function writeLine(line: RequestLogLine | CopyJobLogLine): void {
  console.log(JSON.stringify(line));
}

/** Level of a request line: 5xx is an error, 4xx a warning. */
export function levelFor(status: number): RequestLogLine["level"] {
  return status >= 500 ? "error" : status >= 400 ? "warn" : "info";
}

/** What a tracker knows when it settles a copy step (the copy engine's `CopyResult`, simplified). */
export interface CopyJobEvent {
  tenant: string;
  containerId: string;
  fileId: string;
  version: number;
  result:
    | { kind: "stored"; bytes: number; multipart: boolean }
    | { kind: "partial"; bytesStored: number }
    | { kind: "retry"; reason: string }
    | { kind: "gone"; reason: string };
  /** Attempts so far, this one included. */
  attempts: number;
  /** True when this retry was the last allowed one (the file is now `failed`). */
  gaveUp?: boolean;
}

/** Pure: the log line of a settled copy step. */
export function copyJobLine(e: CopyJobEvent): CopyJobLogLine {
  const r = e.result;
  const outcome = r.kind === "retry" && e.gaveUp ? "failed" : r.kind;
  return {
    event: "copy_job",
    level: outcome === "stored" || outcome === "partial" ? "info" : "warn",
    tenant: e.tenant,
    containerId: e.containerId,
    fileId: e.fileId,
    version: e.version,
    outcome,
    bytes: r.kind === "stored" ? r.bytes : r.kind === "partial" ? r.bytesStored : null,
    multipart: r.kind === "stored" ? r.multipart : null,
    attempts: e.attempts,
    reason: r.kind === "retry" || r.kind === "gone" ? r.reason : null,
  };
}

/** A field of an event line: ids, counts, states and short messages only (never secrets or contents). */
export type LogField = string | number | boolean | null;

/**
 * Writes one event line (`{event, level, ...fields}`) for what is neither a request nor a copy
 * step: a Durable Object's alarm that failed, a background watch that ended, a repair that could
 * not start. One shape, so Workers Logs can filter on `event` and `level` alike everywhere.
 */
export function logEvent(level: "info" | "warn" | "error", event: string, fields: Record<string, LogField> = {}): void {
  const line = JSON.stringify({ ...fields, event, level });
  if (level === "error") console.error(line);
  else console.log(line);
}
