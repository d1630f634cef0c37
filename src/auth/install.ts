/**
 * @module auth/install
 * Puts the security middleware on the app, in order, before any route is mounted (Hono runs
 * handlers in registration order, so middleware added after a route would not guard it):
 * body limits, CORS, authentication, then the route/ownership guard on `/v1/*`. The routes it
 * guards (admin, widget session, the /v1 surfaces) are mounted by src/index.ts.
 */
import type { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { AppEnv } from "../app";
import { UnsandboxError } from "../errors";
import { requireSecretKey } from "./bearer";
import { widgetCors } from "./cors";
import { guard } from "./guard";

/** Largest `POST /v1/responses` body (inputs may carry base64 images and files). */
export const MAX_RESPONSES_BODY = 16 * 1024 * 1024;
/** Largest body of unsandbox's own JSON routes. */
export const MAX_OWN_BODY = 64 * 1024;

const tooLarge = (max: number) =>
  bodyLimit({
    maxSize: max,
    onError: () => {
      throw new UnsandboxError(413, `The request body is larger than ${max} bytes.`, { code: "request_too_large" });
    },
  });

/** Installs body limits, CORS, authentication and the guard (on `/v1/*`, `/admin/*`, `/widget/*`). */
export function installSecurity(app: Hono<AppEnv>): void {
  app.use("/v1/responses", tooLarge(MAX_RESPONSES_BODY));
  app.use("/v1/conversations/*", tooLarge(MAX_RESPONSES_BODY));
  app.use("/admin/*", tooLarge(MAX_OWN_BODY));
  app.use("/widget/*", tooLarge(MAX_OWN_BODY));
  app.use("/v1/*", widgetCors);
  app.use("/widget/*", widgetCors);
  app.use("/v1/*", requireSecretKey);
  app.use("/v1/*", guard);
}
