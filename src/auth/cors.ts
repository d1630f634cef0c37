/**
 * @module auth/cors
 * CORS for widgets (hono/cors with an origin callback). A browser's preflight carries no
 * Authorization header, so it is answered per origin: allowed when some active publishable key
 * lists the origin. The real request is then allowed only for the origins of the key it carries;
 * a secret key never gets CORS headers (and `authenticate` refuses it from a browser anyway).
 * @see https://hono.dev/docs/middleware/builtin/cors
 */
import { cors } from "hono/cors";
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../app";
import { originAllowedCached } from "../tenants/store";
import { resolveKey, SESSION_HEADER } from "./authenticate";

/** CORS middleware for `/v1/*` and `/widget/*`. */
export const widgetCors: MiddlewareHandler<AppEnv> = cors({
  origin: async (origin, c) => {
    if (!origin) return null;
    const config = c.get("config");
    if (c.req.method === "OPTIONS") {
      if (config.UNSANDBOX_MODE === "single-tenant")
        return config.UNSANDBOX_PUBLISHABLE_KEY && config.UNSANDBOX_ALLOWED_ORIGINS.includes(origin) ? origin : null;
      if (config.UNSANDBOX_MODE === "multi-tenant") return (await originAllowedCached(c.env, origin)) ? origin : null;
      return null;
    }
    const key = await resolveKey(c);
    return key?.kind === "publishable" && key.widget?.allowed_origins.includes(origin) ? origin : null;
  },
  allowMethods: ["GET", "POST"],
  allowHeaders: ["authorization", "content-type", SESSION_HEADER, "x-unsandbox-wait-ms"],
  exposeHeaders: ["x-unsandbox-request-id", "x-request-id", "retry-after"],
  maxAge: 600,
}) as MiddlewareHandler<AppEnv>;
