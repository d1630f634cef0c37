// The copy engine's pure parts and its isolate-wide cap, without workerd (vitest project `node`):
// the part size that grows with the file, and the copy slots.
import { describe, expect, it } from "vitest";
import {
  COPY_SLOTS_PER_ISOLATE,
  copySlots,
  copyStep,
  MAX_PARTS,
  PART_SIZE,
  partSizeFor,
  type CopyHooks,
  type CopyState,
} from "./copy";
import { DEFAULT_LIMITS } from "./limits";

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;

describe("partSizeFor", () => {
  it("is 8 MiB up to 78 GiB, then grows so that the file always fits in R2's 10,000 parts", () => {
    expect(partSizeFor(0)).toBe(PART_SIZE);
    expect(partSizeFor(120 * MIB)).toBe(PART_SIZE);
    expect(partSizeFor(MAX_PARTS * PART_SIZE)).toBe(PART_SIZE);
    expect(partSizeFor(MAX_PARTS * PART_SIZE + 1)).toBe(PART_SIZE + MIB);
    for (const bytes of [DEFAULT_LIMITS.bytesPerTenant, 100 * GIB, 1024 * GIB, 4.99 * 1024 * GIB]) {
      const size = partSizeFor(bytes);
      expect(Math.ceil(bytes / size)).toBeLessThanOrEqual(MAX_PARTS);
      expect(size % MIB).toBe(0);
    }
    // Never below the job's own part size (a resumed upload keeps the size it started with).
    expect(partSizeFor(1, 16 * MIB)).toBe(16 * MIB);
  });
});

describe("copy slots", () => {
  it(`N+1 concurrent copies never run more than N (${COPY_SLOTS_PER_ISOLATE}) at once in one isolate`, async () => {
    let running = 0;
    let most = 0;
    let started = 0;
    const gates: (() => void)[] = [];
    const hooks: CopyHooks = {
      fetchContent: async () => {
        started++;
        running++;
        most = Math.max(most, running);
        await new Promise<void>((open) => gates.push(open));
        running--;
        // Upstream answers 503: the step ends as a retry, having touched no bucket.
        return new Response("busy", { status: 503 });
      },
      uploadStarted: () => {},
      partStored: () => {},
      uploadDiscarded: () => {},
      resumed: () => {},
    };
    const state = (): CopyState => ({
      key: "k",
      partSize: PART_SIZE,
      uploadId: null,
      parts: [],
      httpMetadata: {},
      customMetadata: {},
    });
    const bucket = {} as R2Bucket;
    const n = COPY_SLOTS_PER_ISOLATE;
    const steps = Array.from({ length: n + 1 }, () => copyStep(bucket, state(), hooks, { maxParts: 1 }));
    await new Promise((r) => setTimeout(r, 20));
    expect(started).toBe(n);
    expect(copySlots.queued).toBe(1);
    // Each released copy lets a waiting one in, never more than N at once.
    // (A waiter finds a freed slot on its own timer, so gates keep coming until every copy started.)
    const deadline = Date.now() + 10_000;
    while ((started < n + 1 || gates.length > 0) && Date.now() < deadline) {
      gates.shift()?.();
      await new Promise((r) => setTimeout(r, 5));
    }
    const results = await Promise.all(steps);
    expect(results.every((r) => r.kind === "retry")).toBe(true);
    expect(started).toBe(n + 1);
    expect(most).toBe(n);
    expect(copySlots.busy).toBe(0);
  });
});
