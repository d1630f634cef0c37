/**
 * The response index's background watch (src/tracker/response-index.ts) when the upstream key
 * cannot be had: the alarm does not throw (the runtime would retry it a few times, then drop
 * it), it backs off with jitter (src/tracker/backoff.ts) and counts the failures.
 */
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { ResponseIndex } from "../../../src/tracker/response-index";
import { responseIndexFor } from "../../../src/tracker/stubs";

type Watch = { key_failures: number; next_poll_at: number; state: string; last_error: string | null };

const watchOf = (inst: ResponseIndex) =>
  (inst as unknown as { ctx: DurableObjectState }).ctx.storage.sql
    .exec<Watch>("SELECT key_failures, next_poll_at, state, last_error FROM background_watch")
    .toArray()[0]!;

describe("background watch, key lookup failing", () => {
  it("backs off per watch with jitter instead of throwing from the alarm", async () => {
    const id = `resp_watch_backoff_${crypto.randomUUID().slice(0, 8)}`;
    const stub = responseIndexFor(env, id);
    // A sealed key no configured key opens: every lookup fails.
    await stub.watchBackground({
      tenant: "pt_someone",
      responseId: id,
      createdAt: Math.floor(Date.now() / 1000),
      upstreamKeySealed: "v1.nokey.aaaa.bbbb",
    });
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 3; attempt++) {
      await runInDurableObject(stub, async (inst: ResponseIndex) => {
        const before = Date.now();
        await inst.alarm(); // resolves: no retry storm from the runtime
        const w = watchOf(inst);
        expect(w.state).toBe("watching");
        expect(w.key_failures).toBe(attempt);
        expect(w.last_error).toContain("not configured");
        const delay = w.next_poll_at - before;
        // Equal jitter: between half and all of 2 s, 4 s, 8 s.
        const step = 2_000 * 2 ** (attempt - 1);
        expect(delay).toBeGreaterThanOrEqual(step / 2);
        expect(delay).toBeLessThanOrEqual(step + (Date.now() - before));
        expect(await (inst as unknown as { ctx: DurableObjectState }).ctx.storage.getAlarm()).toBe(w.next_poll_at);
        delays.push(delay);
      });
    }
    expect(delays[2]!).toBeGreaterThan(delays[0]!);
  });
});
