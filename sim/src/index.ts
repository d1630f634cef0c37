/**
 * The simulated OpenAI upstream (see sim/README.md). Runs under `wrangler dev -c sim/wrangler.toml`
 * and, bundled by esbuild, as the tests' auxiliary worker; state lives in this isolate's memory.
 */
import { createSimApp, type SimEnv } from "./app";

const app = createSimApp();

export default {
  fetch(req: Request, env: SimEnv, ctx: ExecutionContext): Response | Promise<Response> {
    return app.fetch(req, env, ctx);
  },
};
