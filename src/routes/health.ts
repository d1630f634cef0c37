/**
 * @module routes/health
 * `GET /healthz`: answers 200 when the configuration parses (app.ts checks it before any route),
 * R2 answers, and every Durable Object binding is present and the ones unsandbox cannot work
 * without answer an RPC. 503 otherwise, naming the failed check. No secret, id or content is shown.
 *
 * The calls are cheap reads against instances named `healthz` (an R2 `head` of a key that is never
 * written, an empty manifest, an unknown response), so a monitor polling every few seconds costs a
 * handful of Class B operations and Durable Object requests.
 */
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../app";
import type { Bindings } from "../config";
import { meterFor } from "../metering/record";
import { responseIndexFor, trackerFor } from "../tracker/stubs";

/** Longest a single check may take before it counts as failed. */
export const CHECK_TIMEOUT_MS = 5_000;

export const HealthCheck = z.object({
  ok: z.boolean(),
  ms: z.int().describe("How long the check took."),
  error: z.string().optional().describe("Why it failed (a class of problem, never a secret)."),
});
export const HealthReport = z.object({
  ok: z.boolean().describe("True when every check passed (status 200); false answers 503."),
  checks: z
    .record(z.string(), HealthCheck)
    .describe("One entry per dependency: `r2`, and one per Durable Object binding."),
});
export type HealthReport = z.infer<typeof HealthReport>;

/** Durable Object bindings that must exist; the value says how to exercise one, or null for presence only. */
const DO_CHECKS: Record<string, ((env: Bindings) => Promise<unknown>) | null> = {
  CONTAINER_TRACKER: (env) => trackerFor(env, "healthz").manifest("healthz"),
  RESPONSE_INDEX: (env) => responseIndexFor(env, "healthz").info("healthz"),
  USAGE_METER: (env) => meterFor(env, "healthz").report("healthz"),
  TENANT_DIRECTORY: null,
  OWNERSHIP_LEDGER: null,
  RATE_COUNTER: null,
};

async function timed(run: () => Promise<unknown>): Promise<z.infer<typeof HealthCheck>> {
  const started = Date.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      run(),
      new Promise(
        (_, reject) =>
          (timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS)),
      ),
    ]);
    return { ok: true, ms: Date.now() - started };
  } catch (err) {
    return { ok: false, ms: Date.now() - started, error: err instanceof Error ? err.message.slice(0, 200) : "failed" };
  } finally {
    clearTimeout(timer);
  }
}

/** Runs every check. */
export async function checkHealth(env: Bindings): Promise<HealthReport> {
  const entries: [string, Promise<z.infer<typeof HealthCheck>>][] = [
    [
      "r2",
      timed(async () => {
        if (!env.FILES) throw new Error("the R2 binding FILES is missing (wrangler.toml [[r2_buckets]])");
        await env.FILES.head("healthz/never-written");
      }),
    ],
  ];
  for (const [binding, exercise] of Object.entries(DO_CHECKS)) {
    entries.push([
      binding.toLowerCase(),
      timed(async () => {
        const ns = env[binding] as DurableObjectNamespace | undefined;
        if (!ns || typeof ns.idFromName !== "function")
          throw new Error(`the Durable Object binding ${binding} is missing (wrangler.toml)`);
        if (exercise) await exercise(env);
      }),
    ]);
  }
  const checks = Object.fromEntries(await Promise.all(entries.map(async ([k, p]) => [k, await p] as const)));
  return { ok: Object.values(checks).every((c) => c.ok), checks };
}

export const health = new Hono<AppEnv>();

health.get("/healthz", async (c) => {
  const report = await checkHealth(c.env);
  return c.json(report, report.ok ? 200 : 503, { "cache-control": "no-store" });
});
