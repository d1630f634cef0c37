// Inline figures and R2's one write per second per key (https://developers.cloudflare.com/r2/platform/limits/):
// the same figure twice in one response (at the same time or one after the other), or again in a
// later response of the container, is written to R2 once, and no object is left that no row names.
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { ContainerTracker } from "../../../src/tracker/container-tracker";
import { env, sim, tracker } from "../support/tracker";

const T = "default";

/** Runs `work` on the tracker instance with its bucket counting `put`s (the real bucket underneath). */
async function countingPuts<T>(
  cid: string,
  work: (inst: ContainerTracker) => Promise<T>,
): Promise<{ result: T; puts: string[] }> {
  return runInDurableObject(tracker(cid), async (inst: ContainerTracker) => {
    const holder = inst as unknown as { env: { FILES: R2Bucket } };
    const real = holder.env.FILES;
    const puts: string[] = [];
    holder.env = {
      ...holder.env,
      FILES: new Proxy(real, {
        get(target, prop) {
          const value = Reflect.get(target, prop, target) as unknown;
          if (prop === "put")
            return (key: string, ...rest: unknown[]) => (
              puts.push(key), (value as R2Bucket["put"]).call(target, key, ...(rest as [never]))
            );
          return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
      }),
    };
    try {
      return { result: await work(inst), puts };
    } finally {
      holder.env = { ...holder.env, FILES: real };
    }
  });
}

describe("inline figures", () => {
  it("the same figure twice in a response, and again in the next, is one R2 write and one object", async () => {
    const ct = await sim.container([]);
    await tracker(ct.id).open({ tenant: T, containerId: ct.id, responseId: "resp_twice" });
    await tracker(ct.id).open({ tenant: T, containerId: ct.id, responseId: "resp_again" });
    const bytes = new Uint8Array([137, 80, 78, 71, 9, 9, 9, 9]);
    const figure = (responseId: string, filename: string) => ({
      tenant: T,
      responseId,
      filename,
      contentType: "image/png",
      bytes,
    });
    const { result, puts } = await countingPuts(ct.id, async (inst) => {
      // Two at once (overlapping calls), one after, and the next response's.
      const [a, b] = await Promise.all([
        inst.storeInline(figure("resp_twice", "call_0.png")),
        inst.storeInline(figure("resp_twice", "call_1.png")),
      ]);
      const c = await inst.storeInline(figure("resp_twice", "call_2.png"));
      const d = await inst.storeInline(figure("resp_again", "call_0.png"));
      return [a, b, c, d];
    });
    expect(puts).toHaveLength(1);
    for (const e of result)
      expect(e).toMatchObject({ state: "stored", cited: ["figure"], file_id: result[0]!.file_id });
    expect((await tracker(ct.id).manifest("resp_again")).map((e) => e.state)).toEqual(["stored"]);
    // No orphan: every object under the tenant's inline prefixes is the one the row names.
    const objects = [
      ...(await env.FILES.list({ prefix: `t/${T}/r/resp_twice/` })).objects,
      ...(await env.FILES.list({ prefix: `t/${T}/r/resp_again/` })).objects,
    ];
    expect(objects.map((o) => o.key)).toEqual(puts);
  });
});
