/**
 * @module auth/admin-secret
 * The guard of every `/admin/*` route (tenants, keys, usage): the `ADMIN_SECRET` bearer, compared
 * in constant time. Without a configured secret the routes do not exist (404), and the secret is
 * refused from a browser (any `Origin`), where it could only have leaked.
 */
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app";
import { UnsandboxError } from "../errors";
import { bearerOf } from "./authenticate";
import { constantTimeEqual } from "./keys";

export const requireAdminSecret = createMiddleware<AppEnv>(async (c, next) => {
  const secret = c.get("config").ADMIN_SECRET;
  if (!secret)
    throw new UnsandboxError(404, `Unknown route: ${c.req.method} ${new URL(c.req.url).pathname}`, {
      code: "unknown_route",
    });
  const given = bearerOf(c);
  if (!given || !(await constantTimeEqual(given, secret)))
    throw new UnsandboxError(401, "Incorrect admin secret.", { code: "invalid_api_key" });
  if (c.req.header("origin") !== undefined) {
    throw new UnsandboxError(403, "The admin secret must not be used from a browser.", {
      code: "secret_key_in_browser",
    });
  }
  await next();
});
