/**
 * @module auth/bearer
 * Single-tenant authentication: the client sends `Authorization: Bearer <UNSANDBOX_API_KEY>`,
 * exactly as the openai SDK sends its `apiKey`. Compared in constant time.
 */
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app";
import { UnsandboxError } from "../errors";

const encoder = new TextEncoder();

export async function constantTimeEqual(a: string, b: string): Promise<boolean> {
  // Hash both sides first so that timingSafeEqual sees equal lengths and length leaks nothing.
  const [ha, hb] = await Promise.all([
    crypto.subtle.digest("SHA-256", encoder.encode(a)),
    crypto.subtle.digest("SHA-256", encoder.encode(b)),
  ]);
  return crypto.subtle.timingSafeEqual(ha, hb);
}

export const requireSecretKey = createMiddleware<AppEnv>(async (c, next) => {
  const header = c.req.header("authorization") ?? "";
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) {
    throw new UnsandboxError(401, "You didn't provide an API key. Send it as `Authorization: Bearer <key>`.", {
      code: "missing_api_key",
    });
  }
  if (!(await constantTimeEqual(match[1]!, c.get("config").UNSANDBOX_API_KEY))) {
    throw new UnsandboxError(401, "Incorrect API key provided.", { code: "invalid_api_key" });
  }
  c.set("tenant", "default");
  await next();
});
