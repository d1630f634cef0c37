/**
 * Two of the tracker's pure rules: retry backoff (tracker/backoff.ts) and scratch files
 * (tracker/policy.ts `isJunkPath`).
 */
import { describe, expect, it } from "vitest";
import { backoffMs, BACKOFF_CAP_MS } from "../../../src/tracker/backoff";
import { isJunkPath } from "../../../src/tracker/policy";

describe("copy retries", () => {
  it("backs off exponentially with jitter, capped, and never sooner than Retry-After", () => {
    expect([1, 2, 3].map((a) => backoffMs(a, undefined, () => 1))).toEqual([2000, 4000, 8000]);
    expect([1, 2, 3].map((a) => backoffMs(a, undefined, () => 0))).toEqual([1000, 2000, 4000]);
    expect(backoffMs(30, undefined, () => 1)).toBe(BACKOFF_CAP_MS);
    expect(backoffMs(1, 60_000)).toBe(60_000);
    // Real randomness stays inside [half, whole] of the step and is not constant.
    const samples = Array.from({ length: 50 }, () => backoffMs(4));
    expect(samples.every((d) => d >= 8_000 && d <= 16_000)).toBe(true);
    expect(new Set(samples).size).toBeGreaterThan(1);
  });
});

describe("filters", () => {
  it("recognises scratch files", () => {
    for (const p of [
      "/mnt/data/.x",
      "/mnt/data/__pycache__/m.pyc",
      "/mnt/data/.ipynb_checkpoints/a.ipynb",
      "/mnt/data/out.tmp",
      "/mnt/data/~$book.xlsx",
      "/mnt/data/a.csv/mnt/data/b.png",
    ]) {
      expect(isJunkPath(p)).toBe(true);
    }
    for (const p of ["/mnt/data/report.csv", "/mnt/data/sub/chart.png", "/mnt/data/a.b.c.txt"])
      expect(isJunkPath(p)).toBe(false);
  });
});
