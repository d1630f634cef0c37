/**
 * @module http/front-door
 * The first middleware after the request log: a `/v1/…` or `/files/…` request whose path is not
 * spelled canonically (http/canonical-path.ts) is refused with 400 `invalid_path` before any
 * authentication, route, metering or upstream call, so every later decision can rely on the raw
 * path and the router's decoded path being the same string.
 */
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app";
import { badRequest } from "../errors";
import { canonicalVerdict } from "./canonical-path";

export const frontDoor = createMiddleware<AppEnv>(async (c, next) => {
  const verdict = canonicalVerdict(new URL(c.req.url).pathname);
  if (!verdict.ok) {
    throw badRequest(
      `The request path is not spelled canonically: ${verdict.reason}. Send /v1 paths without percent-encoding, empty or dot segments, and download links exactly as they were issued.`,
      null,
      "invalid_path",
    );
  }
  await next();
});
