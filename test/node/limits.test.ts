/**
 * The pure rules behind rate limits: the sliding window (any window of the limit's length holds
 * at most `limit` requests, whatever the calendar says) and the bucket a client address counts
 * under (an IPv6 /64 is one client).
 */
import { describe, expect, it } from "vitest";
import { addressBucket } from "../../src/auth/client-address";
import { LEASE_MAX_MS, leaseCap, leaseTtl, leaseWant, MAX_LEASE } from "../../src/tenants/lease-policy";
import { BUCKETS, bucketMs, decide, grant, type Bucket } from "../../src/tenants/sliding-window";

const MINUTE = 60_000;

/** Runs requests at `times` (ms) through the rule with stored state, as the Durable Object does. */
function run(times: number[], limit: number, windowMs: number) {
  let state: Bucket[] = [];
  return times.map((t) => {
    const d = decide(state, t, limit, windowMs);
    state = d.buckets;
    return d;
  });
}

describe("sliding window", () => {
  it("admits no more than the limit around a calendar boundary (fixed windows admitted 5 of these 6 within 2.2 s)", () => {
    // 3 per minute; requests at 58.9 s, 59.5 s, 59.9 s, then 60.1 s, 60.5 s, 61.1 s.
    const times = [58_900, 59_500, 59_900, 60_100, 60_500, 61_100];
    expect(run(times, 3, MINUTE).map((d) => d.ok)).toEqual([true, true, true, false, false, false]);
  });

  it("never admits more than the limit in any window, over a long random run", () => {
    const limit = 5;
    let t = 1_700_000_000_000;
    const times: number[] = [];
    let seed = 42;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 3000; i++) times.push((t += Math.floor(rand() * 4000)));
    const admitted = run(times, limit, MINUTE).flatMap((d, i) => (d.ok ? [times[i]!] : []));
    expect(admitted.length).toBeGreaterThan(limit * 20);
    // Every admitted request starts a window: count what it holds.
    for (let i = 0, j = 0; i < admitted.length; i++) {
      while (admitted[j]! <= admitted[i]! - MINUTE) j++;
      expect(i - j + 1).toBeLessThanOrEqual(limit);
    }
  });

  it("refuses with the time until a slot frees, and admits then (no earlier than a window after, at most a bucket later)", () => {
    const [a, b, c, refused] = run([10_200, 10_300, 10_400, 30_000], 3, MINUTE);
    expect([a!.ok, b!.ok, c!.ok, refused!.ok]).toEqual([true, true, true, false]);
    if (refused!.ok) throw new Error("unreachable");
    const retryAt = 30_000 + refused!.retryAfterMs;
    expect(retryAt).toBeGreaterThan(10_200 + MINUTE);
    expect(retryAt).toBeLessThanOrEqual(10_200 + MINUTE + bucketMs(MINUTE));
    expect(decide(refused!.buckets, retryAt - 1, 3, MINUTE).ok).toBe(false);
    expect(decide(refused!.buckets, retryAt, 3, MINUTE).ok).toBe(true);
  });

  it("keeps at most BUCKETS + 1 buckets whatever the limit, and a refused request counts nothing", () => {
    const decisions = run(
      Array.from({ length: 5000 }, (_, i) => i * 37),
      1_000_000,
      MINUTE,
    );
    expect(Math.max(...decisions.map((d) => d.buckets.length))).toBeLessThanOrEqual(BUCKETS + 1);
    const full = run([0, 1], 1, MINUTE)[1]!;
    expect(full.ok).toBe(false);
    expect(full.buckets).toEqual([{ start: 0, count: 1 }]);
  });

  it("holds a daily cap over any 24 hours, not per calendar day", () => {
    const DAY = 86_400_000;
    const times = [DAY - 60_000, DAY - 1_000, DAY + 1_000, DAY + 60_000, 2 * DAY + 60_000];
    expect(run(times, 2, DAY).map((d) => d.ok)).toEqual([true, true, false, false, true]);
  });
});

describe("leases", () => {
  it("never admit more than the limit in any window, whatever isolates lease, spend late or give back", () => {
    // Five isolates lease from one counter at random times and spend each unit at a random moment
    // before its lease ends; some units come back unused. Every window of the limit's length holds
    // at most `limit` spent units.
    for (const windowMs of [MINUTE, 86_400_000]) {
      const limit = 40;
      let state: Bucket[] = [];
      let seed = 7;
      const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
      const spent: number[] = [];
      let t = 1_700_000_000_000;
      for (let i = 0; i < 4000; i++) {
        t += Math.floor(rand() * (windowMs / 100));
        const g = grant(state, t, limit, windowMs, 1 + Math.floor(rand() * 80), leaseCap);
        state = g.buckets;
        if (!g.ok) continue;
        const ttl = leaseTtl(t, g.bucketEnd);
        let back = 0;
        for (let u = 0; u < g.granted; u++) {
          if (rand() < 0.3) back++;
          else spent.push(t + Math.floor(rand() * ttl));
        }
        if (back) state = state.map((b) => (b.start === g.bucket ? { ...b, count: b.count - back } : b));
      }
      spent.sort((a, b) => a - b);
      expect(spent.length).toBeGreaterThan(limit * 10);
      for (let i = 0, j = 0; i < spent.length; i++) {
        while (spent[j]! <= spent[i]! - windowMs) j++;
        expect(i - j + 1).toBeLessThanOrEqual(limit);
      }
    }
  });

  it("grant at most a quarter of what is left (at least one), at most MAX_LEASE, ending with their bucket", () => {
    expect([1, 2, 4, 5, 8, 1000].map(leaseCap)).toEqual([1, 1, 1, 2, 2, MAX_LEASE]);
    const g = grant([{ start: 0, count: 30 }], 500, 40, MINUTE, 100, leaseCap);
    expect(g).toMatchObject({ ok: true, granted: 3, remaining: 7, bucket: 0, bucketEnd: 1_000 });
    expect(leaseTtl(500, 1_000)).toBe(500);
    expect(leaseTtl(0, 86_400_000 / 60)).toBe(LEASE_MAX_MS);
  });

  it("ask for the requests waiting and what the last lease served, twice that when it ran out", () => {
    expect(leaseWant(1, null)).toBe(1);
    expect(leaseWant(30, null)).toBe(30);
    expect(leaseWant(1, { granted: 8, used: 8 })).toBe(16);
    expect(leaseWant(1, { granted: 8, used: 3 })).toBe(3);
    expect(leaseWant(0, { granted: 8, used: 0 })).toBe(1);
    expect(leaseWant(500, { granted: 64, used: 64 })).toBe(MAX_LEASE);
  });
});

describe("addressBucket", () => {
  it("keys IPv6 by its /64, whatever the spelling", () => {
    const same = [
      "2001:db8:1:2::1",
      "2001:DB8:1:2:0:0:0:ffff",
      "2001:0db8:0001:0002:abcd:ef01:2345:6789",
      "2001:db8:1:2::1.2.3.4",
      "2001:db8:1:2::1%eth0",
    ];
    for (const a of same) expect(addressBucket(a), a).toBe("6:2001:db8:1:2::/64");
    expect(addressBucket("2001:db8:1:3::1")).toBe("6:2001:db8:1:3::/64");
    expect(addressBucket("::1")).toBe("6:::/64");
    expect(addressBucket("fe80::1")).toBe("6:fe80::/64");
    expect(addressBucket("2001:db8::")).toBe("6:2001:db8::/64");
    expect(addressBucket("1:0:0:2::")).toBe("6:1:0:0:2::/64");
  });

  it("keys IPv4 by the full address, mapped IPv6 included", () => {
    expect(addressBucket("198.51.100.7")).toBe("4:198.51.100.7");
    expect(addressBucket("198.51.100.8")).toBe("4:198.51.100.8");
    expect(addressBucket("::ffff:198.51.100.7")).toBe("4:198.51.100.7");
    expect(addressBucket("::FFFF:c633:6407")).toBe("4:198.51.100.7");
  });

  it("puts everything that is not an address in one bucket", () => {
    for (const junk of [
      undefined,
      "",
      "unknown",
      "1.2.3",
      "1.2.3.256",
      "01.2.3.4",
      "1:2:3:4:5:6:7:8:9",
      "1::2::3",
      "::1.2.3.4:5",
      "12345::",
      "2001:db8:1:2::1; x",
      "x".repeat(100),
    ]) {
      expect(addressBucket(junk), String(junk)).toBe("unknown");
    }
  });
});
