/**
 * @module overload
 * Which failures of an internal dependency (a Durable Object: rate counter, directory, ownership
 * ledger, meter, index, tracker) mean "busy or briefly unavailable, try again shortly", and the
 * answer they get: 503 with `Retry-After`, in OpenAI's error shape, never a 500. OpenAI's SDKs
 * retry a 503 after `Retry-After`, as they would a 503 from OpenAI.
 *
 * Cloudflare marks such errors with properties
 * (https://developers.cloudflare.com/durable-objects/best-practices/error-handling/):
 * `.overloaded` (the object cannot keep up; retrying at once worsens it, so the wait is longer)
 * and `.retryable` (a transient infrastructure error, safe to retry when idempotent). The runtime
 * has already retried the retryable ones it could
 * (https://developers.cloudflare.com/durable-objects/best-practices/automatic-retries/).
 */
import { UnsandboxError } from "./errors";

export interface Overload {
  /** `overloaded`: an object cannot keep up; `unavailable`: a transient infrastructure error. */
  kind: "overloaded" | "unavailable";
  retryAfterS: number;
}

/** Seconds a client should wait after an overloaded object; a transient error needs less. */
export const OVERLOADED_RETRY_AFTER_S = 5;
export const UNAVAILABLE_RETRY_AFTER_S = 1;

/** The overload an error reports, or null when it is something else (a bug, a refusal). */
export function classifyOverload(err: unknown): Overload | null {
  if (typeof err !== "object" || err === null) return null;
  const e = err as { overloaded?: unknown; retryable?: unknown };
  if (e.overloaded === true) return { kind: "overloaded", retryAfterS: OVERLOADED_RETRY_AFTER_S };
  if (e.retryable === true) return { kind: "unavailable", retryAfterS: UNAVAILABLE_RETRY_AFTER_S };
  return null;
}

/** The answer to an overload: 503 `overloaded` / `temporarily_unavailable` with `Retry-After`. */
export function overloadError(o: Overload): UnsandboxError {
  const message =
    o.kind === "overloaded"
      ? "unsandbox is overloaded right now; retry after the Retry-After delay"
      : "unsandbox is briefly unavailable; retry after the Retry-After delay";
  return new UnsandboxError(503, message, {
    type: "server_error",
    code: o.kind === "overloaded" ? "overloaded" : "temporarily_unavailable",
    headers: { "retry-after": String(o.retryAfterS) },
  });
}
