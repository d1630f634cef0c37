/**
 * Usage metering off the copy path, batched, exact (src/metering/outbox.ts, record.ts, shards.ts):
 * a meter that does not answer holds up neither the answer nor a single copy; a create's request
 * path sends at most one meter batch and its stored files arrive in tracker batches after they are
 * `stored`; and the totals equal what was stored, to the byte, when a send fails once or when a
 * send's answer is lost after it was applied (counted once all the same).
 */
import { env } from "cloudflare:workers";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import OpenAI from "openai";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import app from "../../../src/index";
import { UsageMeter } from "../../../src/metering/meter";
import { tenantUsage } from "../../../src/metering/shards";
import type { UsageReport } from "../../../src/metering/usage";
import { countCalls, type CallCounter } from "../support/calls";
import { BASE, ENVS, makeTenant, sleep } from "../support/tenants";

const TOOLS = [{ type: "code_interpreter" as const, container: { type: "auto" as const } }];
type Answer = { id: string; unsandbox: { files: { state: string; bytes: number | null }[] } };

/** The SDK over the Worker's fetch with `workerEnv`; the answer is handed over before the request's waitUntil work ends. */
function client(key: string, workerEnv: object, background: Promise<unknown>[]): OpenAI {
  return new OpenAI({
    apiKey: key,
    baseURL: `${BASE}/v1`,
    maxRetries: 0,
    fetch: async (input, init) => {
      const ctx = createExecutionContext();
      const res = await app.fetch(new Request(input as RequestInfo, init as RequestInit), workerEnv as never, ctx);
      background.push(waitOnExecutionContext(ctx));
      return res;
    },
  });
}

const create = (sdk: OpenAI) =>
  sdk.responses.create(
    { model: "gpt-5", input: "Three files.\nsim: scenario=several-files", tools: TOOLS },
    { headers: { "x-unsandbox-wait-ms": "20000" } },
  ) as unknown as Promise<Answer>;

/** Polls the summed shards until `done` holds (or 15 s pass), then returns the totals. */
async function totalsWhen(tenant: string, done: (t: UsageReport["totals"]) => boolean) {
  let totals = (await tenantUsage(env, tenant)).totals;
  for (let i = 0; i < 150 && !done(totals); i++) {
    await sleep(100);
    totals = (await tenantUsage(env, tenant)).totals;
  }
  return totals;
}

const isTrackerBatch = (args: unknown[]) => (args[1] as { id: string }[]).every((e) => e.id.split("/").length === 3);

let meter: CallCounter;
beforeEach(() => {
  meter = countCalls(UsageMeter, ["apply", "add", "remember"]);
});
afterEach(() => meter.restore());

describe("metering", () => {
  it("a meter that does not answer holds up neither the answer nor any copy; then every stored byte is counted", async () => {
    const t = await makeTenant();
    meter.hold("apply");
    meter.hold("add");
    const background: Promise<unknown>[] = [];
    const r = await create(client(t.secret, ENVS.multi, background));
    const stored = r.unsandbox.files.filter((f) => f.state === "stored");
    expect(stored.length).toBe(r.unsandbox.files.length);
    expect(stored.length).toBeGreaterThanOrEqual(3);
    // Nothing was counted per file inside a copy: the old per-file `add` is never called.
    expect(meter.calls.add ?? 0).toBe(0);
    meter.release();
    await Promise.all(background);
    const bytes = stored.reduce((n, f) => n + f.bytes!, 0);
    const totals = await totalsWhen(t.id, (x) => x.files_stored >= stored.length);
    expect(totals).toMatchObject({ model_requests: 1, files_stored: stored.length, bytes_stored: bytes });
    // One batch from the request path; the stored files in one tracker batch (one container, whose
    // alarms between its stored files leave the rows to the flush the first file scheduled).
    const batches = meter.log.filter((c) => c.method === "apply");
    expect(batches.filter((c) => !isTrackerBatch(c.args)).length).toBe(1);
    expect(batches.filter((c) => isTrackerBatch(c.args)).length).toBe(1);
  });

  it("totals stay exact when the tracker's send fails once, and when a send's answer is lost after it counted", async () => {
    for (const when of ["before", "after"] as const) {
      const t = await makeTenant();
      meter.reset();
      meter.fail("apply", 1, when, isTrackerBatch);
      const background: Promise<unknown>[] = [];
      const r = await create(client(t.secret, ENVS.multi, background));
      await Promise.all(background);
      const stored = r.unsandbox.files.filter((f) => f.state === "stored");
      expect(stored.length).toBeGreaterThanOrEqual(3);
      const bytes = stored.reduce((n, f) => n + f.bytes!, 0);
      const totals = await totalsWhen(t.id, (x) => x.files_stored >= stored.length && x.model_requests >= 1);
      // The failed tracker batch is sent again (with the same entry ids) after its backoff
      // (FLUSH_DELAY_MS × 2), which the tracker's alarms respect; it counts once.
      const trackerBatches = () => meter.log.filter((c) => c.method === "apply" && isTrackerBatch(c.args)).length;
      for (let i = 0; i < 60 && trackerBatches() < 2; i++) await sleep(100);
      await sleep(300);
      expect(trackerBatches()).toBeGreaterThanOrEqual(2);
      expect((await tenantUsage(env, t.id)).totals).toEqual(totals);
      expect(totals).toMatchObject({ model_requests: 1, files_stored: stored.length, bytes_stored: bytes });
    }
  });

  it("the request path's batch is sent again when the Worker's meter namespace throws once", async () => {
    const t = await makeTenant();
    let applies = 0;
    const flaky = {
      getByName: (name: string) =>
        new Proxy(env.USAGE_METER.getByName(name), {
          get: (target, prop) =>
            prop === "apply" && applies++ === 0
              ? () => Promise.reject(new Error("meter overloaded"))
              : Reflect.get(target, prop),
        }),
    };
    const background: Promise<unknown>[] = [];
    const r = await create(client(t.secret, { ...ENVS.multi, USAGE_METER: flaky }, background));
    await Promise.all(background);
    expect(applies).toBe(2);
    const stored = r.unsandbox.files.filter((f) => f.state === "stored");
    const totals = await totalsWhen(t.id, (x) => x.files_stored >= stored.length && x.model_requests >= 1);
    expect(totals).toMatchObject({
      model_requests: 1,
      files_stored: stored.length,
      bytes_stored: stored.reduce((n, f) => n + f.bytes!, 0),
    });
  });
});
