/**
 * The single-tenant meter under a burst (issue 19): in single-tenant mode the one tenant's meter
 * shards serve the whole deployment, so nothing on the request path may call them per request.
 * A burst of creates answers while the meter does not answer at all, and once it does, the burst
 * cost one batch per FLUSH_MS from this isolate (to its one shard), with the count
 * exact (src/metering/record.ts, src/metering/shards.ts).
 */
import { env } from "cloudflare:workers";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import app from "../../../src/index";
import { UsageMeter } from "../../../src/metering/meter";
import { FLUSH_MS } from "../support/flush";
import { tenantUsage } from "../../../src/metering/shards";
import { countCalls, type CallCounter } from "../support/calls";
import { BASE, ENVS, SINGLE_KEY, sleep } from "../support/tenants";

let meter: CallCounter;
beforeEach(() => {
  meter = countCalls(UsageMeter, ["apply", "add", "report"]);
});
afterEach(() => meter.restore());

describe("single-tenant meter", () => {
  it("a burst of 40 creates never waits for the meter, and reaches it in one batch per FLUSH_MS, exactly counted", async () => {
    const before = (await tenantUsage(env, "default")).totals.model_requests;
    meter.reset();
    meter.hold("apply");
    const started = Date.now();
    const background: Promise<unknown>[] = [];
    const statuses = await Promise.all(
      Array.from({ length: 40 }, async () => {
        const ctx = createExecutionContext();
        const res = await app.fetch(
          new Request(`${BASE}/v1/responses`, {
            method: "POST",
            headers: { authorization: `Bearer ${SINGLE_KEY}`, "content-type": "application/json" },
            body: JSON.stringify({ model: "gpt-5", input: "hi\nsim: scenario=no-tool" }),
          }),
          ENVS.single as never,
          ctx,
        );
        background.push(waitOnExecutionContext(ctx));
        return res.status;
      }),
    );
    // Every answer arrived while the meter held every call: none of them waited for it.
    expect(statuses).toEqual(Array(40).fill(200));
    const elapsed = Date.now() - started;
    meter.release();
    await Promise.all(background);
    const applies = meter.log.filter((c) => c.method === "apply");
    console.log(`40 creates in ${elapsed} ms: ${applies.length} meter batches`);
    expect(applies.length).toBeGreaterThanOrEqual(1);
    expect(applies.length).toBeLessThanOrEqual(Math.ceil(elapsed / FLUSH_MS) + 1);
    // Nothing per event (`add`), and no read on this path.
    expect(meter.calls.add ?? 0).toBe(0);
    expect(meter.calls.report ?? 0).toBe(0);
    // Exact: every create counted once.
    let total = before;
    for (let i = 0; i < 50 && total < before + 40; i++) {
      await sleep(100);
      total = (await tenantUsage(env, "default")).totals.model_requests;
    }
    expect(total).toBe(before + 40);
  });
});
