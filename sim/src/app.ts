/**
 * @module app
 * The simulator's Hono app: the bearer check on `/v1/*`, the API routes, the control API and
 * one error handler that renders OpenAI's error body.
 */
import { Hono } from "hono";
import { SimError } from "./errors";
import { containersRoutes } from "./routes/containers";
import { conversationsRoutes } from "./routes/conversations";
import { controlRoutes } from "./routes/control";
import { modelsRoutes } from "./routes/models";
import { responsesRoutes } from "./routes/responses";
import { responsesSocket } from "./routes/responses-socket";
import { orgOfKey, type SimVars } from "./orgs";
import { logRequest } from "./state";

export interface SimEnv {
  /** The bearer keys the simulator accepts, comma-separated; each is an organisation (src/orgs.ts). */
  SIM_API_KEY?: string;
}

/** Like the real API: 401 without a key, 401 `invalid_api_key` with a wrong one. */
function checkBearer(header: string | undefined, expected: string): string {
  const m = /^Bearer\s+(.+)$/i.exec(header ?? "");
  if (!m) {
    throw new SimError(
      401,
      "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username and password. You can obtain an API key from https://platform.openai.com/account/api-keys.",
    );
  }
  const key = m[1]!.trim();
  const org = orgOfKey(key, expected);
  if (org === null) {
    const shown = key.length > 8 ? `${key.slice(0, 3)}*********${key.slice(-4)}` : "*****";
    throw new SimError(
      401,
      `Incorrect API key provided: ${shown}. You can find your API key at https://platform.openai.com/account/api-keys.`,
      { code: "invalid_api_key" },
    );
  }
  return org;
}

export function createSimApp(): Hono<{ Bindings: SimEnv } & SimVars> {
  const app = new Hono<{ Bindings: SimEnv } & SimVars>();
  app.use("/v1/*", async (c, next) => {
    const started = Date.now();
    c.set("org", checkBearer(c.req.header("authorization"), c.env?.SIM_API_KEY ?? "sk-sim-local"));
    const url = new URL(c.req.url);
    logRequest({
      method: c.req.method,
      path: url.pathname,
      query: url.search.slice(1),
      openai_beta: c.req.header("openai-beta") ?? null,
    });
    await next();
    // The headers every real answer carries, which clients (and proxies) read and must keep.
    c.header("x-request-id", `req_${crypto.randomUUID().replaceAll("-", "")}`);
    c.header("openai-processing-ms", String(Date.now() - started));
    c.header("x-ratelimit-limit-requests", "10000");
    c.header("x-ratelimit-remaining-requests", "9999");
    c.header("x-ratelimit-reset-requests", "6ms");
  });
  // WebSocket mode (routes/responses-socket.ts): the upgrade is answered before the HTTP routes.
  app.get("/v1/responses", (c) => responsesSocket(c.req.header("upgrade"), c.get("org")));
  app.route("/v1/responses", responsesRoutes);
  app.route("/v1/containers", containersRoutes);
  app.route("/v1/conversations", conversationsRoutes);
  app.route("/v1/models", modelsRoutes);
  app.route("/__sim", controlRoutes);
  app.get("/", (c) => c.text("unsandbox simulated OpenAI upstream; see sim/README.md\n"));
  app.onError((err, c) => {
    if (err instanceof SimError) return err.toResponse();
    console.error("sim: internal error", err);
    return new SimError(500, `The simulator hit an internal error: ${String(err)}`, {
      type: "server_error",
    }).toResponse();
  });
  app.notFound((c) =>
    new SimError(404, `Invalid URL (${c.req.method} ${new URL(c.req.url).pathname})`, { code: null }).toResponse(),
  );
  return app;
}
