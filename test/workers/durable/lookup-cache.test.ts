/**
 * The per-isolate lookup cache (src/durable/lookup-cache.ts) called from inside Durable Objects:
 * the runtime refuses to settle, in one object, a promise made in another's context ("Cannot
 * perform I/O on behalf of a different Durable Object"), so two objects that cold-load the same
 * key at the same moment must not share one call. The byte total a tracker's copy checks
 * (`tenantBytesStored`, src/metering/shards.ts) is such a lookup: it is read from two trackers at
 * once here, each inside its own object.
 */
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { LookupCache } from "../../../src/durable/lookup-cache";
import { tenantBytesStored } from "../../../src/metering/shards";
import { meterFor } from "../../../src/metering/meter-stub";
import { trackerFor } from "../../../src/tracker/stubs";
import type { ContainerTracker } from "../../../src/tracker/container-tracker";

describe("lookup cache from Durable Objects", () => {
  it("two objects cold-loading one key at once make a call each, in their own context", async () => {
    const cache = new LookupCache<number>({ freshMs: 10_000, staleIfErrorMs: 10_000, maxEntries: 10 });
    let calls = 0;
    const read = (stub: DurableObjectStub<ContainerTracker>) =>
      runInDurableObject(stub, (inst: ContainerTracker) =>
        cache.get(
          "tenant-x",
          async () => {
            calls++;
            // A real RPC made from this object's context.
            return (await meterFor(env, "t_lookup_scope").report("t_lookup_scope", null, null)).totals.bytes_stored;
          },
          Date.now(),
          inst,
        ),
      );
    const [a, b] = [trackerFor(env, "cntr_scope_a"), trackerFor(env, "cntr_scope_b")];
    expect(await Promise.all([read(a), read(b)])).toEqual([0, 0]);
    expect(calls).toBe(2);
    // The answer, once stored, is a plain value: served to both without another call.
    expect(await Promise.all([read(a), read(b)])).toEqual([0, 0]);
    expect(calls).toBe(2);
  });

  it("two objects cold-loading the same key at once each get the answer", async () => {
    const tenant = `t_cold_${crypto.randomUUID().slice(0, 8)}`;
    const [a, b] = ["cntr_lookup_a", "cntr_lookup_b"].map((id) => trackerFor(env, `${id}_${tenant}`));
    const read = (stub: DurableObjectStub<ContainerTracker>) =>
      runInDurableObject(stub, (inst: ContainerTracker) =>
        tenantBytesStored((inst as unknown as { env: typeof env }).env, tenant, inst),
      );
    expect(await Promise.all([read(a!), read(b!)])).toEqual([0, 0]);
    // Once stored, the answer is served to both without a call.
    expect(await Promise.all([read(a!), read(b!)])).toEqual([0, 0]);
  });
});

describe("LookupCache scopes", () => {
  it("shares a call within one scope, never across scopes, and serves the stored answer to all", async () => {
    const cache = new LookupCache<number>({ freshMs: 10_000, staleIfErrorMs: 10_000, maxEntries: 10 });
    let calls = 0;
    const load = async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 10));
      return 7;
    };
    const x = {};
    const y = {};
    const got = await Promise.all([
      cache.get("k", load, Date.now(), x),
      cache.get("k", load, Date.now(), x),
      cache.get("k", load, Date.now(), y),
    ]);
    expect(got).toEqual([7, 7, 7]);
    expect(calls).toBe(2);
    expect(await cache.get("k", load, Date.now(), {})).toBe(7);
    expect(calls).toBe(2);
  });
});
