/**
 * @module observability/request-log
 * The middleware that writes a request's `request` log line (every request with `REQUEST_LOG=all`,
 * the notable ones by default: log-policy.ts) and meters every request. It wraps the rest
 * of the chain in a per-request metrics store (request-context.ts) that the upstream client and
 * the harvest report into.
 *
 * It must run after the request-id middleware (app.ts) and before every route. Metering is handed
 * to `waitUntil`, so the answer never waits for the meter's Durable Object.
 */
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { matchedRoutes } from "hono/route";
import type { AppEnv } from "../app";
import { meter } from "../metering/record";
import { requestDelta } from "../metering/usage";
import { writeLine } from "../log";
import { levelFor, type RequestLogLine } from "./log";
import { shouldWrite } from "./log-policy";
import { newMetrics, withMetrics, type RequestMetrics } from "./request-context";

export const requestLog = createMiddleware<AppEnv>(async (c, next) => {
  const started = Date.now();
  const metrics = newMetrics();
  await withMetrics(metrics, next);
  const finish = () => report(c, started, metrics);
  const ended = c.get("bodyEnded");
  if (ended) {
    // A relay that writes its body itself says when it ended: no stream wrapped around it.
    void ended.then(finish, finish);
    return;
  }
  const body = c.res.body;
  if (body && (c.res.headers.get("content-type") ?? "").startsWith("text/event-stream")) {
    // A stream is harvested at its end (harvest/pipeline.ts StreamSession), after the handler returned:
    // the line is written when the body ends or the client goes away, with the final counts.
    c.res = new Response(onEnd(body, finish), c.res);
    return;
  }
  afterAnswer(c, finish);
});

/**
 * Runs `write` once the answer has gone out (a timer turn later, inside the request's
 * `waitUntil`): writing a line is not free (under `wrangler dev` every console line crosses the
 * inspector to the terminal) and nothing in the answer depends on it. Without an execution
 * context (a unit test's `app.request()`) it runs at once.
 */
function afterAnswer(c: Context<AppEnv>, write: () => void): void {
  let ctx: { waitUntil(work: Promise<unknown>): void };
  try {
    ctx = c.executionCtx;
  } catch {
    return write();
  }
  ctx.waitUntil(new Promise<void>((resolve) => setTimeout(resolve, 0)).then(write));
}

/** Writes the request's line when the policy keeps it, and meters the request (once, always). */
function report(c: Context<AppEnv>, started: number, metrics: RequestMetrics): void {
  const status = c.res.status;
  const length = c.res.headers.get("content-length");
  const line: RequestLogLine = {
    event: "request",
    level: levelFor(status),
    requestId: c.get("requestId"),
    tenant: c.get("tenant") ?? null,
    method: c.req.method,
    route: routeOf(c),
    status,
    durationMs: Date.now() - started,
    bytesOut: length !== null && /^\d+$/.test(length) ? Number(length) : null,
    degraded: c.res.headers.get("x-unsandbox-degraded"),
    ...metrics,
  };
  if (shouldWrite(c.get("config").REQUEST_LOG, line)) writeLine(line);
  const tenant = c.get("tenant");
  if (tenant && c.env.USAGE_METER) {
    const delta = requestDelta({
      method: line.method,
      route: line.route,
      path: new URL(c.req.url).pathname,
      status,
      bytesOut: line.bytesOut,
    });
    const done = meter(c.env, tenant, delta);
    if (!done) return;
    try {
      c.executionCtx.waitUntil(done);
    } catch {
      // No execution context (app.request() in a unit test): the promise still runs.
    }
  }
}

/** The same bytes, calling `done` once when the stream ends, fails or is cancelled. */
export function onEnd(src: ReadableStream<Uint8Array>, done: () => void): ReadableStream<Uint8Array> {
  const reader = src.getReader();
  let called = false;
  const once = () => {
    if (!called) {
      called = true;
      done();
    }
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { value, done: ended } = await reader.read();
        if (ended) {
          controller.close();
          once();
        } else controller.enqueue(value);
      } catch (err) {
        once();
        controller.error(err);
      }
    },
    cancel(reason) {
      once();
      return reader.cancel(reason);
    },
  });
}

/**
 * The pattern of the route that answers (`/v1/responses/:id/files`), or `(none)` when no route
 * matched. Middleware (handlers taking `next`) is skipped; the raw path is never logged because
 * download paths carry tokens.
 */
export function routeOf(c: Context): string {
  const handlers = matchedRoutes(c).filter((r) => r.handler.length < 2 && r.path !== "*" && r.path !== "/*");
  return handlers[0]?.path ?? "(none)";
}
