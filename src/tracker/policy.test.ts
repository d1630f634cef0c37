// The tracker's pure rules, with time passed in: no workerd, no clock to skew (vitest project `node`).
import { describe, expect, it } from "vitest";
import { DEFAULT_LIMITS, type StorageLimits } from "../storage/limits";
import type { ContainerFile } from "../upstream/containers";
import { BACKOFF_BASE_MS } from "./backoff";
import {
  alarmRetryAt,
  attributionWindow,
  byteAllowance,
  clientActivity,
  computedExpiry,
  containerEnd,
  containerIsOver,
  copyOrder,
  copyOutcome,
  deletionsAfterEnd,
  EXPIRY_MARGIN_MS,
  failedSweep,
  FINAL_SWEEP_LEAD_MS,
  INTERRUPTED_STEP,
  interruptedStep,
  inWindow,
  isLive,
  isOutputOf,
  matchClaim,
  nextSweep,
  nextWake,
  SWEEP_SHARE_MS,
  sweepsServed,
  pinnedState,
  reasonText,
  SETTLE_QUIET_MS,
  settleAt,
  skipReason,
  SWEEP_WINDOW_MS,
  sweepSchedule,
  TENANT_REFRESH_MS,
  tenantRefreshDue,
  unreachableAt,
  unresolvedClaimState,
  versionDecision,
  copyBeganBefore,
  startedBefore,
  WATCH_WINDOW_MS,
} from "./policy";

const MIN = 60_000;
const DAY = 24 * 60 * MIN;
const T0 = Date.UTC(2026, 0, 15, 12, 0, 0);
const file = (id: string, path: string, created_at: number, source = "assistant"): ContainerFile => ({
  id,
  path,
  created_at,
  source,
});
const limits = (over: Partial<StorageLimits> = {}): StorageLimits => ({ ...DEFAULT_LIMITS, ...over });
const allowance = byteAllowance(limits(), 0);

describe("attribution", () => {
  it("a response owns files from its start (less 5 s of slack) up to the next response's start", () => {
    const w = attributionWindow(1000, 1100);
    expect([994, 995, 1000, 1099, 1100].map((t) => inWindow(w, t))).toEqual([false, true, true, true, false]);
    expect(inWindow(attributionWindow(1000, null), 10_000)).toBe(true);
  });

  it("counts assistant outputs only, never user uploads or junk", () => {
    const w = attributionWindow(1000, null);
    expect(isOutputOf(w, file("a", "/mnt/data/out.csv", 1001))).toBe(true);
    expect(isOutputOf(w, file("b", "/mnt/data/in.csv", 1001, "user"))).toBe(false);
    expect(isOutputOf(w, file("c", "/mnt/data/.hidden", 1001))).toBe(false);
    expect(isOutputOf(w, file("d", "/mnt/data/out.csv", 900))).toBe(false);
  });

  it("a linked path resolves to the response's own write, else an earlier one, never a later response's rewrite", () => {
    const w = attributionWindow(1000, 1100);
    const listing = [
      file("old", "/mnt/data/r.csv", 500),
      file("own", "/mnt/data/r.csv", 1050),
      file("later", "/mnt/data/r.csv", 1150),
    ];
    expect(matchClaim(w, "/mnt/data/r.csv", listing)?.id).toBe("own");
    expect(matchClaim(w, "/mnt/data/r.csv", [listing[0]!, listing[2]!])?.id).toBe("old");
    expect(matchClaim(w, "/mnt/data/r.csv", [listing[2]!])).toBeNull();
    // A bare name matches by basename; within one second the later listing position wins.
    expect(
      matchClaim(w, "r.csv", [file("x", "/mnt/data/r.csv", 1050), file("y", "/mnt/data/sub/r.csv", 1050)])?.id,
    ).toBe("y");
  });
});

describe("versions and limits", () => {
  it("the same path and created_at is the same version; a failed one is queued again; anything else is a new version", () => {
    const latest = { version: 2, upstreamCreatedAt: 1000, path: "/mnt/data/a", state: "stored" as const };
    expect(versionDecision(latest, { created_at: 1000, path: "/mnt/data/a" })).toEqual({
      kind: "same",
      version: 2,
      requeue: false,
    });
    expect(versionDecision({ ...latest, state: "failed" }, { created_at: 1000, path: "/mnt/data/a" })).toEqual({
      kind: "same",
      version: 2,
      requeue: true,
    });
    expect(versionDecision(latest, { created_at: 1001, path: "/mnt/data/a" })).toEqual({ kind: "new", version: 3 });
    expect(versionDecision(latest, { created_at: 1000, path: "/mnt/data/b" })).toEqual({ kind: "new", version: 3 });
    expect(versionDecision(undefined, { created_at: 1000, path: "/mnt/data/a" })).toEqual({ kind: "new", version: 1 });
  });

  it("a later turn naming a file an earlier turn recorded unchanged gets its own version once that copy began", () => {
    const f = { created_at: 1000, path: "/mnt/data/report.csv" };
    const v1 = {
      version: 1,
      upstreamCreatedAt: 1000,
      path: f.path,
      state: "stored" as const,
      recordedBy: [1000, 1] as const,
    };
    const same1 = { kind: "same", version: 1, requeue: false };
    const later = { order: [1003, 2] as const, named: true };
    // Same id, path and created_at, but the copy was made before this turn ended: it may hold older bytes.
    expect(versionDecision(v1, f, later)).toEqual({ kind: "later_turn", version: 2 });
    expect(versionDecision({ ...v1, copyBegan: true }, f, later)).toEqual({ kind: "later_turn", version: 2 });
    // Two turns in the same second are ordered by when the tracker first heard of them.
    expect(versionDecision(v1, f, { order: [1000, 2], named: true })).toEqual({ kind: "later_turn", version: 2 });
    // A copy not begun yet will read the later turn's bytes: shared (two responses, one copy).
    expect(versionDecision({ ...v1, state: "pending", copyBegan: false }, f, later)).toEqual(same1);
    // The turn that recorded it, or a turn that started before it (a late harvest), keeps using it.
    expect(versionDecision(v1, f, { order: [1000, 1], named: true })).toEqual(same1);
    expect(versionDecision({ ...v1, recordedBy: [1003, 2] }, f, { order: [1000, 1], named: true })).toEqual(same1);
    // The version a response already cites stays its own, whatever was recorded since.
    const v2 = { ...v1, version: 2, recordedBy: [1003, 2] as const };
    expect(versionDecision(v2, f, { order: [1000, 1], named: true, own: v1 })).toEqual(same1);
    expect(versionDecision(v2, f, { ...later, own: v2 })).toEqual({ kind: "same", version: 2, requeue: false });
    // A version of unknown origin is reused as before; a changed listing entry is a new version anyway.
    expect(versionDecision({ ...v1, recordedBy: null }, f, later)).toEqual(same1);
    expect(versionDecision(v1, { ...f, created_at: 1004 }, later)).toEqual({ kind: "new", version: 2 });
    expect(startedBefore([1000, 5], [1001, 1])).toBe(true);
    expect(startedBefore([1001, 1], [1001, 1])).toBe(false);
  });

  it("a listed file an earlier turn recorded is a later turn's only when written since it started", () => {
    const v1 = { version: 1, upstreamCreatedAt: 1000, path: "/mnt/data/a.csv", state: "stored" as const };
    const listedBy = (order: readonly [number, number]) => ({ order, named: false });
    // Found through the later turn's 5 s of slack: the earlier turn's output, not the later one's.
    expect(
      versionDecision({ ...v1, recordedBy: [998, 1] }, { created_at: 1000, path: v1.path }, listedBy([1003, 2])),
    ).toEqual({
      kind: "not_own",
    });
    // Written since the later turn started (the earlier one recorded it before it knew of it): shared.
    expect(
      versionDecision({ ...v1, recordedBy: [998, 1] }, { created_at: 1000, path: v1.path }, listedBy([1000, 2])),
    ).toEqual({
      kind: "same",
      version: 1,
      requeue: false,
    });
    // A file never seen is a new version, listed or named.
    expect(versionDecision(undefined, { created_at: 1000, path: v1.path }, listedBy([1003, 2]))).toEqual({
      kind: "new",
      version: 1,
    });
  });

  it("a copy began before a turn ended when it was copying then, or began or settled before it; not when still pending", () => {
    const v = { fileId: "cfile_a", version: 1 };
    const end = { at: T0, copying: new Set(["cfile_b/1"]) };
    expect(copyBeganBefore({ ...v, state: "pending", stateAt: T0 - 5_000 }, end)).toBe(false);
    expect(copyBeganBefore({ ...v, state: "copying", stateAt: T0 - 1 }, end)).toBe(true);
    expect(copyBeganBefore({ ...v, state: "copying", stateAt: T0 + 1 }, end)).toBe(false);
    expect(copyBeganBefore({ ...v, state: "stored", stateAt: T0 - 1 }, end)).toBe(true);
    // Settled after the end: it began after it, unless it was being copied at the end.
    expect(copyBeganBefore({ ...v, state: "stored", stateAt: T0 + 50 }, end)).toBe(false);
    expect(copyBeganBefore({ fileId: "cfile_b", version: 1, state: "stored", stateAt: T0 + 50 }, end)).toBe(true);
    expect(copyBeganBefore({ fileId: "cfile_b", version: 1, state: "pending", stateAt: T0 + 50 }, end)).toBe(true);
    // A later sweep does not know when the turn ended: any copy begun counts.
    expect(copyBeganBefore({ ...v, state: "stored", stateAt: T0 + 50 }, undefined)).toBe(true);
    expect(copyBeganBefore({ ...v, state: "pending", stateAt: T0 + 50 }, undefined)).toBe(false);
  });

  it("skips past files_per_response and for blocked extensions, the extension said first", () => {
    const l = limits({ filesPerResponse: 2, blockedExtensions: ["exe"] });
    expect(skipReason(l, 1, "a.csv")).toBeNull();
    expect(skipReason(l, 2, "a.csv")).toEqual({ code: "limit_files_per_response", limit: 2 });
    expect(skipReason(l, 0, "setup.EXE")).toEqual({ code: "blocked_extension", extension: "exe" });
    expect(reasonText(skipReason(l, 2, "a.csv")!)).toBe("limit: the response already has 2 files (files_per_response)");
    expect(reasonText(skipReason(l, 5, "x.exe")!)).toBe("blocked: .exe files are not stored (blocked_extensions)");
  });

  it("bounds a copy by the smaller of the per-file and the tenant's remaining bytes", () => {
    const l = limits({ bytesPerFile: 100, bytesPerTenant: 1000 });
    expect(byteAllowance(l, 0)).toMatchObject({ maxBytes: 100, full: false, refusal: { which: "file" } });
    expect(byteAllowance(l, 950)).toMatchObject({ maxBytes: 50, full: false, refusal: { which: "tenant" } });
    expect(byteAllowance(l, 1000)).toMatchObject({ maxBytes: 0, full: true });
    expect(reasonText(byteAllowance(l, 0).refusal)).toBe("limit: larger than allowed by bytes_per_file (100 bytes)");
    expect(reasonText(byteAllowance(l, 950).refusal)).toBe(
      "limit: larger than allowed by bytes_per_tenant (1000 bytes, 950 already stored)",
    );
  });
});

describe("sweeps and expiry", () => {
  it("re-lists at 1, 2, 4, 8 s within the 16 s window after track, then closes it", () => {
    const [first, until] = sweepSchedule("track", T0, true);
    expect([first, until]).toEqual([T0, T0 + SWEEP_WINDOW_MS]);
    let now = T0;
    const gaps: number[] = [];
    for (let attempts = 1; ; attempts++) {
      const next = nextSweep(attempts, now, until);
      if (next.kind === "closed") break;
      gaps.push(next.at - now);
      now = next.at;
    }
    expect(gaps).toEqual([1000, 2000, 4000, 8000]);
    expect(sweepSchedule("open", T0, true)).toEqual([T0 + 1000, T0 + WATCH_WINDOW_MS]);
    expect(sweepSchedule("track", T0, false)).toEqual([null, null]);
    expect(nextSweep(10, T0, null)).toEqual({ kind: "again", at: T0 + 10_000 });
  });

  it("one listing serves the sweeps due and watch sweeps due within a second; a track window's sweep is never moved", () => {
    const watch = (next: number) => {
      const [, until] = sweepSchedule("open", T0, true);
      return { id: `watch@${next}`, sweep_next_at: next, sweep_until: until };
    };
    const win = (next: number) => ({ id: `window@${next}`, sweep_next_at: next, sweep_until: T0 + SWEEP_WINDOW_MS });
    const ids = (rows: { id: string }[]) => rows.map((r) => r.id);
    // A turn's window sweep due now takes the next turn's watch sweep due 0.6 s later along.
    expect(ids(sweepsServed([win(T0 + 1000), watch(T0 + 1600)], T0 + 1000))).toEqual([
      `window@${T0 + 1000}`,
      `watch@${T0 + 1600}`,
    ]);
    // …but not one due later than SWEEP_SHARE_MS.
    expect(ids(sweepsServed([win(T0 + 1000), watch(T0 + 1000 + SWEEP_SHARE_MS + 1)], T0 + 1000))).toEqual([
      `window@${T0 + 1000}`,
    ]);
    // A watch sweep due now never pulls a window sweep forward: that window keeps its length.
    expect(ids(sweepsServed([watch(T0 + 1000), win(T0 + 1500)], T0 + 1000))).toEqual([`watch@${T0 + 1000}`]);
    // Nothing due now: nothing is listed early on its own.
    expect(sweepsServed([watch(T0 + 1500), win(T0 + 1800)], T0 + 1000)).toEqual([]);
    // Every sweep already due is served (one listing for all).
    expect(ids(sweepsServed([win(T0 + 900), win(T0 + 1000)], T0 + 1000))).toHaveLength(2);
    // A watch near the end of its 10 min counts as a window: not moved.
    const late = { id: "late", sweep_next_at: T0 + 1500, sweep_until: T0 + 1500 + SWEEP_WINDOW_MS };
    expect(ids(sweepsServed([win(T0 + 1000), late], T0 + 1000))).toEqual([`window@${T0 + 1000}`]);
  });

  it("computes the expiry from the last client activity and expires_after (20 min by default), and the final sweep 3 min before", () => {
    const c = { openedAt: T0, clientActiveAt: null, expiresAfterMinutes: null };
    expect(computedExpiry(c)).toBe(T0 + 20 * MIN);
    expect(computedExpiry({ ...c, expiresAfterMinutes: 5 })).toBe(T0 + 5 * MIN);
    expect(computedExpiry(undefined)).toBe(Number.MAX_SAFE_INTEGER);
    const later = clientActivity(c, T0 + 7 * MIN);
    expect(later).toEqual({ clientActiveAt: T0 + 7 * MIN, finalSweepAt: T0 + 27 * MIN - FINAL_SWEEP_LEAD_MS });
    // Activity never moves backwards.
    expect(clientActivity({ ...c, clientActiveAt: T0 + 9 * MIN }, T0 + 7 * MIN).clientActiveAt).toBe(T0 + 9 * MIN);
  });

  it("reads a container only while it lives; a path on a container that is over cannot resolve any more", () => {
    expect(isLive(undefined)).toBe(true);
    expect(isLive({ status: "running", finalSweptAt: null })).toBe(true);
    expect(isLive({ status: "expired", finalSweptAt: null })).toBe(false);
    expect(isLive({ status: "unavailable", finalSweptAt: null })).toBe(false);
    expect(isLive({ status: "running", finalSweptAt: T0 })).toBe(false);
    expect([null, "running", "expired", "unavailable"].map(unresolvedClaimState)).toEqual([
      "pending",
      "pending",
      "missing",
      "unavailable",
    ]);
  });

  it("ends a container one way, with what each cause does to its rows", () => {
    expect(containerEnd("gone")).toMatchObject({
      status: "expired",
      unfinished: { state: "lost" },
      dropJobs: true,
      dropParts: true,
      claims: "missing",
      forgetKey: true,
    });
    expect(containerEnd("unavailable")).toMatchObject({
      status: "unavailable",
      unfinished: { state: "unavailable" },
      dropJobs: true,
      claims: "unavailable",
      forgetKey: false,
    });
    expect(containerEnd("final_sweep")).toMatchObject({
      status: null,
      finalSwept: true,
      unfinished: null,
      dropJobs: false,
      claims: "missing",
    });
    expect(containerEnd("overdue")).toMatchObject({
      status: null,
      finalSwept: false,
      unfinished: null,
      forgetKey: true,
      claims: "missing",
    });
    expect(reasonText(containerEnd("gone").unfinished!.reason)).toBe(
      "the container expired before the file was copied",
    );
    expect(reasonText(containerEnd("unavailable").unfinished!.reason)).toMatch(/Containers API/);
  });
});

describe("copy outcomes", () => {
  const base = {
    now: T0,
    attempts: 0,
    expiry: T0 + 20 * MIN,
    retentionMs: 30 * DAY,
    path: "/mnt/data/a.csv",
    allowance,
    random: () => 1,
  };

  it("stored files are kept for the retention time; a partial step continues at once", () => {
    expect(copyOutcome({ kind: "stored", bytes: 1, sha256: "x", etag: "e", multipart: false }, base)).toEqual({
      kind: "stored",
      retainUntil: T0 + 30 * DAY,
    });
    expect(copyOutcome({ kind: "partial", bytesStored: 8 }, base)).toEqual({ kind: "continue", at: T0 });
  });

  it("retries with backoff, never sooner than Retry-After, and is lost once the retries reach the expiry", () => {
    expect(copyOutcome({ kind: "retry", reason: "HTTP 500" }, base)).toEqual({
      kind: "retry",
      at: T0 + 2000,
      attempts: 1,
      lastError: "HTTP 500",
    });
    expect(copyOutcome({ kind: "retry", reason: "HTTP 429", retryAfterMs: 300_000 }, base)).toMatchObject({
      kind: "retry",
      at: T0 + 300_000,
    });
    // A Retry-After beyond the expiry is pulled in before it.
    expect(copyOutcome({ kind: "retry", reason: "HTTP 429", retryAfterMs: 3600_000 }, base)).toMatchObject({
      at: base.expiry - EXPIRY_MARGIN_MS,
    });
    // At the deadline: lost, saying when the container expired and the last error.
    const lost = copyOutcome(
      { kind: "retry", reason: "HTTP 500" },
      { ...base, attempts: 6, now: base.expiry - EXPIRY_MARGIN_MS },
    );
    expect(lost).toMatchObject({ kind: "lost", reason: { code: "retries_exhausted", attempts: 7 } });
    expect(reasonText((lost as { reason: Parameters<typeof reasonText>[0] }).reason)).toBe(
      "the container expired (about 2026-01-15T12:20:00Z) before the copy succeeded; last error after 7 attempts: HTTP 500",
    );
  });

  it("classifies upstream's refusals: the container is over, an unexplained 404 is checked, an entry without content is missing or junk", () => {
    const gone = (failure: "expired" | "no_api" | "file_gone") => ({
      kind: "gone" as const,
      reason: "HTTP 404",
      status: 404,
      failure,
    });
    expect(copyOutcome(gone("expired"), base)).toEqual({ kind: "container_gone" });
    expect(copyOutcome(gone("no_api"), base)).toEqual({ kind: "check_container" });
    expect(copyOutcome(gone("file_gone"), base)).toMatchObject({ kind: "no_content", state: "missing" });
    expect(copyOutcome(gone("file_gone"), { ...base, path: "/mnt/data/__pycache__/x.pyc" })).toMatchObject({
      kind: "no_content",
      state: "skipped",
      reason: { code: "junk" },
    });
    expect(copyOutcome({ kind: "too_large", reason: "big", limit: 1 }, base)).toEqual({
      kind: "too_large",
      reason: allowance.refusal,
    });
  });
});

describe("copy order and interrupted steps", () => {
  const job = (file_id: string, next_attempt_at: number, cited: string[]) => ({ file_id, next_attempt_at, cited });

  it("files the answer points at go first, whatever their due time or id; then due time, then id", () => {
    const jobs = [
      job("cfile_a", T0, ["listing"]),
      job("cfile_b", T0 - 5000, ["listing"]),
      job("cfile_z", T0, ["listing", "link"]),
      job("cfile_y", T0 + 1, ["figure"]),
      job("cfile_x", T0, ["annotation"]),
      job("cfile_w", T0, ["item"]),
      job("cfile_c", T0, []),
    ];
    expect(copyOrder(jobs).map((j) => j.file_id)).toEqual([
      "cfile_w",
      "cfile_x",
      "cfile_z",
      "cfile_y",
      "cfile_b",
      "cfile_a",
      "cfile_c",
    ]);
    // The input is not reordered in place.
    expect(jobs[0]!.file_id).toBe("cfile_a");
  });

  it("a step whose instance ended is one failed attempt: due again after the first backoff, not at the heartbeat", () => {
    const ctx = { now: T0, expiry: T0 + 20 * MIN, random: () => 1 };
    expect(interruptedStep(0, ctx)).toEqual({
      kind: "retry",
      at: T0 + BACKOFF_BASE_MS,
      attempts: 1,
      lastError: INTERRUPTED_STEP,
    });
    // At least half the first backoff, whatever the jitter: never a tight loop of restarts.
    expect(interruptedStep(0, { ...ctx, random: () => 0 })).toMatchObject({ at: T0 + BACKOFF_BASE_MS / 2 });
    // A file whose copy kills its instance every time backs off like any failure.
    expect(interruptedStep(4, ctx)).toMatchObject({ attempts: 5, at: T0 + 16 * BACKOFF_BASE_MS });
    // Past the expiry margin nothing is retried: lost.
    expect(interruptedStep(2, { ...ctx, now: ctx.expiry - EXPIRY_MARGIN_MS })).toMatchObject({
      kind: "lost",
      reason: { code: "retries_exhausted", attempts: 3, lastError: INTERRUPTED_STEP },
    });
  });
});

describe("lifecycle and the alarm", () => {
  it("deletion reasons carry the day of the clock passed in (retention: 30 days after storing)", () => {
    expect(reasonText({ code: "deleted_by_retention", at: T0 + 30 * DAY + MIN })).toBe(
      "deleted by retention on 2026-02-14",
    );
    expect(reasonText({ code: "deleted_on_request", at: T0 })).toBe("deleted on request on 2026-01-15");
    expect(reasonText({ code: "expired_before_copy", expiry: T0 })).toBe(
      "the container expired (about 2026-01-15T12:00:00Z) before the copy succeeded",
    );
  });

  it("a tracker is unreachable only when every response's links expire, after the last of them", () => {
    expect(unreachableAt({ responses: 0, unbounded: 0, until: null })).toBeNull();
    expect(unreachableAt({ responses: 2, unbounded: 1, until: T0 })).toBeNull();
    expect(unreachableAt({ responses: 2, unbounded: 0, until: T0 })).toBe(T0);
  });

  it("arms the alarm for the earliest due time any capability reports, or none", () => {
    expect(nextWake([null, undefined])).toBeNull();
    expect(nextWake([T0 + 5, null, T0 + 1, T0 + 3])).toBe(T0 + 1);
  });
});

describe("failures that don't become load", () => {
  const low = () => 0;
  const high = () => 1;

  it("a failed listing backs off with jitter and pauses the window by the wait", () => {
    const now = 1_000_000;
    const until = now + SWEEP_WINDOW_MS;
    const a = failedSweep(1, now, until, now + 20 * MIN, undefined, low);
    const b = failedSweep(1, now, until, now + 20 * MIN, undefined, high);
    expect(a).toEqual({ kind: "again", at: now + BACKOFF_BASE_MS / 2, until: until + BACKOFF_BASE_MS / 2 });
    expect(b).toEqual({ kind: "again", at: now + BACKOFF_BASE_MS, until: until + BACKOFF_BASE_MS });
    // Consecutive failures double the step.
    expect(failedSweep(4, now, until, now + 20 * MIN, undefined, high)).toMatchObject({
      at: now + 8 * BACKOFF_BASE_MS,
    });
  });

  it("a failed listing never retries sooner than Retry-After, and the window never closes during a 429 storm", () => {
    const limit = 20 * MIN;
    let now = 0;
    let until: number | null = SWEEP_WINDOW_MS;
    // 30 s of 429s with Retry-After: 5 s: the window is still open afterwards.
    for (let failures = 1; now < 30_000; failures++) {
      const next = failedSweep(failures, now, until, limit, 5_000, low);
      if (next.kind !== "again") throw new Error("closed");
      expect(next.at - now).toBeGreaterThanOrEqual(5_000);
      now = next.at;
      until = next.until;
    }
    expect(until! - now).toBeGreaterThanOrEqual(SWEEP_WINDOW_MS - 5_000);
  });

  it("a failed listing whose retry would pass the final sweep closes the window", () => {
    expect(failedSweep(1, 0, 16_000, 1_000, 5_000)).toEqual({ kind: "closed" });
    // The pushed window never runs past the limit either.
    expect(failedSweep(1, 0, 16_000, 17_000, undefined, high)).toEqual({ kind: "again", at: 2_000, until: 17_000 });
  });

  it("an alarm run that failed as a whole is not re-armed at once", () => {
    const now = 50_000;
    expect(alarmRetryAt(now, now, 1, low)).toBe(now + BACKOFF_BASE_MS / 2);
    expect(alarmRetryAt(now - 10, now, 3, high)).toBe(now + 4 * BACKOFF_BASE_MS);
    // Work due later than the backoff keeps its own time.
    expect(alarmRetryAt(now + 60_000, now, 1, high)).toBe(now + 60_000);
    // At most one run per backoff step: 20 failures in a row are still ≤ one run per 5 minutes.
    expect(alarmRetryAt(now, now, 20, low)).toBeGreaterThanOrEqual(now + 150_000);
  });

  it("the tenant's record is refreshed once per interval, and a failed refresh waits its backoff", () => {
    expect(tenantRefreshDue({ checkedAt: null, failures: 0, failedAt: null }, 0)).toBe(true);
    expect(tenantRefreshDue({ checkedAt: 0, failures: 0, failedAt: null }, TENANT_REFRESH_MS - 1)).toBe(false);
    expect(tenantRefreshDue({ checkedAt: 0, failures: 0, failedAt: null }, TENANT_REFRESH_MS)).toBe(true);
    // A refresh failed at 70 s (the last good record stays in use): not again before its backoff.
    const failed = { checkedAt: 0, failures: 1, failedAt: 70_000 };
    expect(tenantRefreshDue(failed, 70_000 + BACKOFF_BASE_MS - 1, high)).toBe(false);
    expect(tenantRefreshDue(failed, 70_000 + BACKOFF_BASE_MS, high)).toBe(true);
    // Never loaded and the directory failed: the callers back off too, no call each time.
    expect(tenantRefreshDue({ checkedAt: null, failures: 2, failedAt: 0 }, 1_000, high)).toBe(false);
  });

  it("a revoked tenant ends the container: unfinished files lost, no more reads, the key forgotten", () => {
    const end = containerEnd("revoked");
    expect(end).toMatchObject({
      finalSwept: true,
      dropJobs: true,
      claims: "missing",
      forgetKey: true,
      unfinished: { state: "lost", reason: { code: "tenant_revoked" } },
    });
    expect(isLive({ status: null, finalSweptAt: 1 })).toBe(false);
    expect(reasonText({ code: "tenant_revoked" })).toContain("revoked");
  });
});

describe("what outlives the container", () => {
  const idle = {
    live: false,
    expired: false,
    unfinished: 0,
    jobs: 0,
    sweeping: 0,
    repairs: 0,
    unmetered: false,
    copying: false,
  };

  it("a container is over only when it may not be read and nothing about it is left to do", () => {
    expect(containerIsOver(idle)).toBe(true);
    // Still readable (final sweep not run) unless its computed expiry passed.
    expect(containerIsOver({ ...idle, live: true })).toBe(false);
    expect(containerIsOver({ ...idle, live: true, expired: true })).toBe(true);
    for (const left of [
      { unfinished: 1 },
      { jobs: 1 },
      { sweeping: 1 },
      { repairs: 1 },
      { unmetered: true },
      { copying: true },
    ])
      expect(containerIsOver({ ...idle, ...left }), JSON.stringify(left)).toBe(false);
  });

  it("an over tracker empties itself a quiet minute after the last call that named the container", () => {
    expect(settleAt(idle, T0, T0 + 1)).toBe(T0 + SETTLE_QUIET_MS);
    expect(settleAt(idle, T0, T0 + 2 * SETTLE_QUIET_MS)).toBe(T0 + 2 * SETTLE_QUIET_MS);
    expect(settleAt({ ...idle, jobs: 1 }, T0, T0 + 2 * SETTLE_QUIET_MS)).toBeNull();
  });

  it("bytes go at retention or when every link expired, whichever is first; records only when links expire", () => {
    const stored = [
      { key: "a", retainUntil: T0 + 30 * DAY },
      { key: "b", retainUntil: null },
    ];
    expect(deletionsAfterEnd(stored, null, ["p/"])).toEqual([{ key: "a", at: T0 + 30 * DAY, prefix: false }]);
    expect(deletionsAfterEnd(stored, T0 + DAY, ["p/"])).toEqual([
      { key: "a", at: T0 + DAY, prefix: false },
      { key: "b", at: T0 + DAY, prefix: false },
      { key: "p/", at: T0 + DAY, prefix: true },
    ]);
  });

  it("a pin past its retain_until reads as deleted by retention on that day; before it, as written", () => {
    const pin = { state: "stored" as const, reason: null, stateAt: T0, retainUntil: T0 + 30 * DAY };
    expect(pinnedState(pin, T0 + 29 * DAY)).toBeNull();
    expect(pinnedState(pin, T0 + 31 * DAY)).toEqual({
      state: "deleted",
      reason: "deleted by retention on 2026-02-14",
      reasonCode: "deleted_by_retention",
      stateAt: T0 + 30 * DAY,
    });
    expect(pinnedState({ ...pin, state: "lost" }, T0 + 31 * DAY)).toBeNull();
    expect(pinnedState({ ...pin, retainUntil: null }, T0 + 400 * DAY)).toBeNull();
  });
});
