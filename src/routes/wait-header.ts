/**
 * @module routes/wait-header
 * `x-unsandbox-wait-ms`: how long a route may hold its answer while copies finish. The plain
 * `POST /v1/responses` waits 10 s unless told; the manifest (`GET /v1/responses/{id}/files`)
 * answers at once unless told, so a client can wait for `stored` in one request instead of polling.
 * A publishable key is public, so its waits are clamped to {@link MAX_PUBLISHABLE_WAIT_MS}: a held
 * request is a request the platform keeps open, and anyone may send the header with that key.
 */
import type { Context } from "hono";
import type { AppEnv } from "../app";
import { badRequest } from "../errors";

export const MAX_WAIT_MS = 60_000;
/** The longest wait a publishable key gets (the plain create's default). */
export const MAX_PUBLISHABLE_WAIT_MS = 10_000;

/**
 * The header's value, or `fallback` when it is absent, clamped for publishable keys; anything but
 * an integer in range is a 400.
 */
export function waitMsHeader(c: Context<AppEnv>, fallback: number): number {
  const header = c.req.header("x-unsandbox-wait-ms");
  const max = c.get("caller")?.kind === "publishable" ? MAX_PUBLISHABLE_WAIT_MS : MAX_WAIT_MS;
  if (header === undefined) return Math.min(fallback, max);
  const n = Number(header);
  if (header.trim() === "" || !Number.isInteger(n) || n < 0 || n > MAX_WAIT_MS) {
    throw badRequest(
      `x-unsandbox-wait-ms must be an integer from 0 to ${MAX_WAIT_MS}`,
      "x-unsandbox-wait-ms",
      "invalid_header",
    );
  }
  return Math.min(n, max);
}
