/**
 * @module app
 * The Hono app: its context variables (`AppEnv`), request ids, configuration, and the one
 * `onError` that turns an `UnsandboxError` into OpenAI's error shape, and an overloaded internal
 * object into a 503 with `Retry-After` (./overload.ts), or, when the answer exists already,
 * into that answer. Middleware everywhere types
 * its context with `AppEnv`, so this module imports nothing but the configuration and the error
 * type. Routes live in `routes/`, one file per surface, and `index.ts` mounts them.
 */
import { Hono } from "hono";
import { loadConfig, type Bindings, type Config } from "./config";
import { UnsandboxError } from "./errors";
import { errorFields, logEvent } from "./log";
import { classifyOverload, overloadError } from "./overload";

/** The ids an answer reveals, as the response pipeline decoded them (src/harvest/pipeline.ts). */
export interface DecodedIds {
  /** The response's id, when this answer (or stream event) is the first to name it. */
  responseId: string | null;
  /** Containers its code interpreter calls ran in. */
  containerIds: string[];
  /** Its output items (`msg_…`, `ci_…`, …). */
  itemIds: string[];
}

export interface AppVariables {
  config: Config;
  requestId: string;
  /** Set when a step after upstream answered was skipped for overload (`x-unsandbox-degraded`). */
  degraded?: string;
  /** The tenant the caller acts for; single-tenant mode has exactly one, `default`. */
  tenant: string;
  /**
   * Optional: given the ids each answer of the response pipeline reveals, awaited before that
   * answer (or the stream event that revealed them) goes out. Middleware that records owners
   * sets it, so it needs no second parse of the answer (docs/architecture.md).
   */
  onDecoded?: (ids: DecodedIds) => Promise<unknown>;
  /**
   * Set by a route whose streamed body it writes itself (the SSE relay): settles when that body
   * has ended, failed or lost its client, so the request log waits on it instead of wrapping the
   * body in one more stream.
   */
  bodyEnded?: Promise<void>;
}

export type AppEnv = { Bindings: Bindings; Variables: AppVariables };

export function createApp(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.use("*", async (c, next) => {
    const requestId = crypto.randomUUID();
    c.set("requestId", requestId);
    c.set("config", loadConfig(c.env));
    await next();
    c.header("x-unsandbox-request-id", requestId);
  });

  app.onError((err, c) => {
    const overload = classifyOverload(err);
    if (overload) {
      logEvent("warn", "internal_object_overloaded", {
        requestId: c.get("requestId"),
        kind: overload.kind,
        ...errorFields(err),
      });
      // The route answered (upstream ran, the model may have been paid for) and a step after it
      // failed, e.g. recording the answer's owner: the answer still goes out, marked.
      if (c.finalized && c.res.status < 500) {
        const res = new Response(c.res.body, c.res);
        res.headers.set("x-unsandbox-degraded", overload.kind);
        res.headers.set("x-unsandbox-request-id", c.get("requestId") ?? "");
        return res;
      }
      err = overloadError(overload);
    }
    if (err instanceof UnsandboxError) {
      const res = err.toResponse();
      res.headers.set("x-unsandbox-request-id", c.get("requestId") ?? "");
      return res;
    }
    logEvent("error", "unhandled_error", {
      requestId: c.get("requestId"),
      tenant: c.get("tenant") ?? null,
      ...errorFields(err),
      stack: err instanceof Error ? (err.stack ?? null) : null,
    });
    return new UnsandboxError(500, "unsandbox hit an internal error; the request id is in x-unsandbox-request-id", {
      type: "server_error",
    }).toResponse();
  });

  app.notFound((c) =>
    new UnsandboxError(404, `Unknown route: ${c.req.method} ${new URL(c.req.url).pathname}`, {
      code: "unknown_route",
    }).toResponse(),
  );

  return app;
}
