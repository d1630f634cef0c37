/**
 * @module routes/widget-session
 * `POST /widget/session`: a publishable key, from an allowed origin, gets a short-lived signed
 * visitor session (auth/session.ts). It lives outside `/v1` because it is not an OpenAI route.
 * The widget then sends `Authorization: Bearer pk_…` and `x-unsandbox-session: <token>` on every
 * call; the responses it creates belong to that visitor only.
 *
 * Answer: `{ "session": "<token>", "expires_at": <unix seconds> }`.
 */
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../app";
import { authenticate } from "../auth/authenticate";
import { getCaller } from "../auth/caller";
import { randomBase62 } from "../auth/keys";
import { signSession } from "../auth/session";
import { readStrictJson } from "../auth/strict-json";
import { UnsandboxError } from "../errors";

export const widgetSession = new Hono<AppEnv>();

widgetSession.post("/widget/session", authenticate({ session: "none" }), async (c) => {
  await readStrictJson(c, z.strictObject({}));
  const caller = getCaller(c);
  if (caller.kind !== "publishable") {
    throw new UnsandboxError(403, "Visitor sessions are for publishable keys (pk_…).", {
      code: "publishable_key_required",
    });
  }
  const expiresAt = Math.floor(Date.now() / 1000) + caller.widget!.session_ttl_s;
  const session = await signSession(
    { t: caller.tenant, k: caller.keyId, v: `vis_${randomBase62(22)}`, o: caller.origin!, e: expiresAt },
    c.get("config").LINK_SECRETS,
  );
  c.header("cache-control", "no-store");
  return c.json({ session, expires_at: expiresAt });
});
