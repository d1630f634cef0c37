/**
 * @module log
 * The one writer of structured log lines, in the lowest layer so every module can use it (the
 * metering layer sits below observability, app.ts below everything). One JSON object per line,
 * which Workers Logs indexes field by field
 * (https://developers.cloudflare.com/workers/observability/logs/workers-logs/). Every line has
 * `event` (what happened, snake_case) and `level`; the other keys are one shared set: `requestId`
 * when known, `tenant`, a machine `reason` (what went wrong, stable enough to filter on), ids and
 * counts, and `error` (the exception's text, capped) where there was one. Lines never carry
 * tokens, keys, secrets, prompts or file contents.
 * The line shapes of requests and copy steps are in observability/log.ts.
 */
import { UnsandboxError } from "./errors";

export type LogLevel = "info" | "warn" | "error";

/** A field of a line: ids, counts, states and short messages only (never secrets or contents). */
export type LogField = string | number | boolean | null;

/** What every line has. */
export interface LogLine {
  event: string;
  level: LogLevel;
}

/**
 * Writes one line to stdout, whatever its level (the `level` key carries it): `console.log` is
 * what Workers Logs and `wrangler tail` capture. The per-request and per-copy-step lines go here.
 */
export function writeLine(line: LogLine): void {
  console.log(JSON.stringify(line));
}

/**
 * Writes one event line (`{...fields, event, level}`) for what is neither a request nor a copy
 * step: a Durable Object's alarm that failed, a harvest that could not finish, a stream relay
 * that broke. An `error` line goes to `console.error`, the rest to `console.log`.
 */
export function logEvent(level: LogLevel, event: string, fields: Record<string, LogField | undefined> = {}): void {
  const kept: Record<string, LogField> = {};
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) kept[key] = value;
  const line = JSON.stringify({ ...kept, event, level });
  if (level === "error") console.error(line);
  else console.log(line);
}

/** Longest `error` text a line carries: enough to read the cause, bounded whatever threw. */
const MAX_ERROR_TEXT = 300;

/**
 * The fields that describe a caught exception: `reason`, a machine code (an `UnsandboxError`'s
 * `code`, or `http_<status>` when it has none; otherwise the exception's class in snake_case,
 * e.g. `type_error`, `abort_error`), and `error`, its text, capped.
 */
export function errorFields(err: unknown): { reason: string; error: string } {
  return { reason: reasonOf(err), error: String(err).slice(0, MAX_ERROR_TEXT) };
}

function reasonOf(err: unknown): string {
  if (err instanceof UnsandboxError) return err.options.code ?? `http_${err.status}`;
  const name = err instanceof Error || err instanceof DOMException ? err.name : typeof err;
  return name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase() || "unknown";
}
