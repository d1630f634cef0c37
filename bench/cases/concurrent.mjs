// @ts-check
/**
 * @module bench/cases/concurrent
 * Issue 20, "under load": `concurrency` streamed conversations at once, through the anchor (a bare
 * pass-through, bench/anchor) and through unsandbox, rounds alternating so both see the same
 * machine. Two kinds: no file (`no-tool`) and two files per turn (`several-files` with two names);
 * a conversation is `turns` turns, each after the last with `previous_response_id`. The figure is
 * the time from a turn's request to its last event, p50 and p95 over every turn of every round.
 * A round straight to the simulator too shows what the anchor itself costs (local `wrangler dev`).
 *
 * Then the files: every file the simulator wrote for a turn through unsandbox must end `stored`
 * (counted against `GET /__sim/responses/{id}`), and once every container has expired in the
 * simulator (so nothing can come from upstream any more), each file's download URL must give
 * exactly the simulator's bytes (sha256).
 *
 * Beside the times, the CPU each Worker's workerd used per turn during its own round
 * (`/proc/<pid>/stat`; unsandbox's includes the copies and sweeps that ran meanwhile): on a
 * machine shared with other work a process's latency grows with the CPU it needs. And the
 * container listings and reads the simulator served during unsandbox's round, per turn
 * (`GET /__sim/counters`): the trackers' sweeps, which the simulator pays for too.
 */
import { directive, getJson, TOOLS, waitSettled } from "../lib/context.mjs";
import { download } from "../lib/download.mjs";
import { postAndCollect } from "../lib/sse.mjs";
import { cpuSeconds } from "../lib/proc-memory.mjs";
import { profileWhile } from "../lib/cpu-profile.mjs";
import { percentile, round } from "../lib/stats.mjs";

/** Issue 20's target: unsandbox's time to the last event at most this multiple of the anchor's. */
export const CONCURRENT_TARGET_RATIO = 1.25;

const KINDS = {
  no_file: { model: "gpt-5", input: "What is 2 + 2?", stream: true },
  two_files: {
    model: "gpt-5",
    input: directive("Write a table and a note.", "scenario=several-files; files=table.csv,note.txt"),
    tools: TOOLS,
    stream: true,
  },
};

/**
 * One round: `concurrency` conversations of `turns` turns at once through `baseURL`.
 * @param {string} baseURL
 * @param {string} key
 * @param {object} body
 * @param {number} concurrency
 * @param {number} turns
 * @param {Record<string, string>} [headers]  more request headers
 * @returns {Promise<{ lastEventMs: number[], responseIds: string[] }>}
 */
async function round1(baseURL, key, body, concurrency, turns, headers = {}) {
  /** @type {number[]} */ const lastEventMs = [];
  /** @type {string[]} */ const responseIds = [];
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      /** @type {string | undefined} */
      let previous;
      for (let turn = 0; turn < turns; turn++) {
        const r = await postAndCollect(
          `${baseURL}/responses`,
          { authorization: `Bearer ${key}`, ...headers },
          previous ? { ...body, previous_response_id: previous } : body,
        );
        const last = r.events.at(-1);
        if (r.status !== 200 || last?.data?.type !== "response.completed")
          throw new Error(`concurrent: ${baseURL} answered ${r.status}, last event ${last?.data?.type}`);
        lastEventMs.push(last.at);
        previous = last.data.response.id;
        responseIds.push(/** @type {string} */ (previous));
      }
    }),
  );
  return { lastEventMs, responseIds };
}

/**
 * Container listings and container reads the simulator has served so far (all containers).
 * @param {import("../lib/context.mjs").BenchContext} ctx
 */
async function upstreamReads(ctx) {
  const c = await getJson(`${ctx.sim.origin}/__sim/counters`, ctx.sim.apiKey);
  /** @param {Record<string, number>} m */
  const sum = (m) => Object.values(m ?? {}).reduce((n, x) => n + x, 0);
  return { listings: sum(c.list_calls), reads: sum(c.container_reads) };
}

/** @param {number[]} xs */
const pcts = (xs) => ({ p50: round(percentile(xs, 50)), p95: round(percentile(xs, 95)) });

/**
 * Files of the responses made through unsandbox: stored against written, then the bytes of each
 * download after its container expired.
 * @param {import("../lib/context.mjs").BenchContext} ctx
 * @param {string[]} responseIds
 */
async function checkFiles(ctx, responseIds) {
  let written = 0;
  let stored = 0;
  /** @type {Record<string, number>} */
  const otherStates = {};
  /** @type {{ url: string, sha256: string, file_id: string }[]} */
  const toCheck = [];
  const containers = new Set();
  for (const id of responseIds) {
    const truth = await getJson(`${ctx.sim.origin}/__sim/responses/${id}`);
    written += truth.written.length;
    if (truth.container_id) containers.add(truth.container_id);
    const settled = await waitSettled(ctx, id, { everyMs: 250, timeoutMs: 120_000, expect: truth.written.length });
    for (const f of settled.files) {
      const w = truth.written.find((/** @type {any} */ x) => x.file_id === f.file_id);
      if (f.state === "stored" && w) {
        stored++;
        toCheck.push({ url: f.url, sha256: w.sha256, file_id: f.file_id });
      } else otherStates[f.state] = (otherStates[f.state] ?? 0) + 1;
    }
  }
  for (const c of containers) {
    const res = await fetch(`${ctx.sim.origin}/__sim/containers/${c}/expire`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    if (!res.ok) throw new Error(`concurrent: expiring ${c} answered ${res.status}`);
  }
  let shaMatches = 0;
  /** @type {string[]} */
  const mismatches = [];
  const queue = [...toCheck];
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let f = queue.shift(); f; f = queue.shift()) {
        const got = await download(f.url, { hash: true });
        if (got.status === 200 && got.sha256 === f.sha256) shaMatches++;
        else mismatches.push(`${f.file_id}: ${got.status} ${got.sha256}`);
      }
    }),
  );
  return {
    files_written: written,
    files_stored: stored,
    other_states: otherStates,
    containers_expired: containers.size,
    downloads_checked: toCheck.length,
    sha256_matches: shaMatches,
    mismatches: mismatches.slice(0, 10),
  };
}

/**
 * @param {import("../lib/context.mjs").BenchContext} ctx
 * @param {{ concurrency: number, rounds: number, turns: number, warmup: number, profile?: number }} o
 */
export async function concurrentCase(ctx, { concurrency, rounds, turns, warmup, profile = 0 }) {
  const anchor = /** @type {import("../lib/processes.mjs").Running} */ (ctx.anchor);
  /** @type {Record<string, any>} */
  const kinds = {};
  for (const [name, body] of Object.entries(KINDS)) {
    for (let i = 0; i < warmup; i++) {
      await round1(`${anchor.origin}/v1`, ctx.sim.apiKey, body, Math.min(10, concurrency), 1);
      await round1(ctx.unsandbox.baseURL, ctx.unsandbox.apiKey, body, Math.min(10, concurrency), 1);
    }
    /** @type {number[]} */ const a = [];
    /** @type {number[]} */ const u = [];
    /** The copy floor's turns (two files only: with no file it is the anchor). */
    /** @type {number[]} */ const floor = [];
    /** The copy floor told not to copy (`x-bench-copy: 0`): what reading the stream in JavaScript costs alone. */
    /** @type {number[]} */ const scanOnly = [];
    const copier = name === "no_file" ? undefined : ctx.copier;
    const floorFiles = { stored: 0, written: 0 };
    /** @type {number[]} */ const direct = [];
    /** @type {string[]} */ const ids = [];
    const wall = { anchor: /** @type {number[]} */ ([]), through: /** @type {number[]} */ ([]) };
    const cpu = { anchor: 0, through: 0, floor: 0, scanOnly: 0 };
    const upstream = { listings: 0, reads: 0 };
    const cpuOf = (/** @type {{ workerdPid(): number | null }} */ p) =>
      cpuSeconds(/** @type {number} */ (p.workerdPid()));
    for (let r = 0; r < rounds; r++) {
      // Direct first: after unsandbox's round its copies and sweeps still run for a while.
      direct.push(...(await round1(ctx.sim.baseURL, ctx.sim.apiKey, body, concurrency, turns)).lastEventMs);
      const t0 = performance.now();
      const c0 = cpuOf(anchor);
      const ar = await round1(`${anchor.origin}/v1`, ctx.sim.apiKey, body, concurrency, turns);
      cpu.anchor += cpuOf(anchor) - c0;
      wall.anchor.push(performance.now() - t0);
      if (copier) {
        const cs = cpuOf(copier);
        scanOnly.push(
          ...(await round1(`${copier.origin}/v1`, ctx.sim.apiKey, body, concurrency, turns, { "x-bench-copy": "0" }))
            .lastEventMs,
        );
        cpu.scanOnly += cpuOf(copier) - cs;
        const before = await getJson(`${copier.origin}/stats`);
        const c = cpuOf(copier);
        const fr = await round1(`${copier.origin}/v1`, ctx.sim.apiKey, body, concurrency, turns);
        cpu.floor += cpuOf(copier) - c;
        floor.push(...fr.lastEventMs);
        // Its copies run after each answer: wait until this round's are done (or 30 s), then count.
        let written = 0;
        let stored = 0;
        for (const id of fr.responseIds)
          written += (await getJson(`${ctx.sim.origin}/__sim/responses/${id}`)).written.length;
        for (let i = 0; i < 60; i++) {
          stored = (await getJson(`${copier.origin}/stats`)).files_stored - before.files_stored;
          if (stored >= written) break;
          await new Promise((r) => setTimeout(r, 500));
        }
        floorFiles.written += written;
        floorFiles.stored += stored;
      }
      const t1 = performance.now();
      const c1 = cpuOf(ctx.unsandbox);
      const s0 = await upstreamReads(ctx);
      const ur = await round1(ctx.unsandbox.baseURL, ctx.unsandbox.apiKey, body, concurrency, turns);
      cpu.through += cpuOf(ctx.unsandbox) - c1;
      const s1 = await upstreamReads(ctx);
      upstream.listings += s1.listings - s0.listings;
      upstream.reads += s1.reads - s0.reads;
      wall.through.push(performance.now() - t1);
      a.push(...ar.lastEventMs);
      u.push(...ur.lastEventMs);
      ids.push(...ur.responseIds);
    }
    const ratio = {
      p50: round(percentile(u, 50) / percentile(a, 50), 2),
      p95: round(percentile(u, 95) / percentile(a, 95), 2),
    };
    kinds[name] = {
      turns_each: a.length,
      last_event_ms: { direct: pcts(direct), anchor: pcts(a), through: pcts(u) },
      ratio,
      anchor_over_direct: {
        p50: round(percentile(a, 50) / percentile(direct, 50), 2),
        p95: round(percentile(a, 95) / percentile(direct, 95), 2),
      },
      wall_ms: { anchor: wall.anchor.map((x) => round(x)), through: wall.through.map((x) => round(x)) },
      cpu_ms_per_turn: {
        anchor: round((cpu.anchor * 1000) / a.length),
        through: round((cpu.through * 1000) / u.length),
        ...(floor.length
          ? {
              copy_floor: round((cpu.floor * 1000) / floor.length),
              scan_only: round((cpu.scanOnly * 1000) / scanOnly.length),
            }
          : {}),
      },
      /**
       * The copy floor (bench/copier): the anchor plus the least work that stores the files. Its
       * ratio over the anchor is what storing the files costs on this machine at all; unsandbox's
       * ratio over it is what unsandbox adds beyond that.
       */
      copy_floor: floor.length
        ? {
            last_event_ms: pcts(floor),
            over_anchor: {
              p50: round(percentile(floor, 50) / percentile(a, 50), 2),
              p95: round(percentile(floor, 95) / percentile(a, 95), 2),
            },
            unsandbox_over_floor: {
              p50: round(percentile(u, 50) / percentile(floor, 50), 2),
              p95: round(percentile(u, 95) / percentile(floor, 95), 2),
            },
            files_stored: floorFiles.stored,
            files_written: floorFiles.written,
            /** The same Worker reading the stream but copying nothing. */
            scan_only: {
              last_event_ms: pcts(scanOnly),
              over_anchor: {
                p50: round(percentile(scanOnly, 50) / percentile(a, 50), 2),
                p95: round(percentile(scanOnly, 95) / percentile(a, 95), 2),
              },
            },
          }
        : null,
      /** During unsandbox's rounds, per turn: container listings (sweeps, `track`) and all container reads. */
      upstream_per_turn: {
        listings: round(upstream.listings / u.length, 2),
        container_reads: round(upstream.reads / u.length, 2),
      },
      files: name === "no_file" ? null : await checkFiles(ctx, ids),
      samples: { anchor: a.map((x) => round(x)), through: u.map((x) => round(x)) },
    };
    // `--set=concurrent.profile=1`: one more round through unsandbox under the CPU profiler (not
    // timed, not counted): where the isolate's JavaScript time per turn goes.
    if (profile) {
      const p = await profileWhile(
        ctx.inspector,
        () => round1(ctx.unsandbox.baseURL, ctx.unsandbox.apiKey, body, concurrency, turns),
        25,
        `concurrent-${name}`,
      );
      kinds[name].cpu_profile = {
        busy_ms: p.busy_ms,
        idle_ms: p.idle_ms,
        inclusive: p.inclusive,
        self: p.top,
        by_file: p.byFile,
      };
      ctx.log(
        `concurrent ${name}: CPU profile of one round: ${p.busy_ms} ms busy, ${p.idle_ms} ms idle in the isolate`,
      );
      for (const l of p.inclusive)
        ctx.log(`  total ${String(l.total_ms).padStart(8)} ms ${(l.share * 100).toFixed(1).padStart(5)}%  ${l.fn}`);
      for (const l of p.top)
        ctx.log(`  self  ${String(l.self_ms).padStart(8)} ms ${(l.share * 100).toFixed(1).padStart(5)}%  ${l.fn}`);
    }
    const f = kinds[name].files;
    const cf = kinds[name].copy_floor;
    if (cf)
      ctx.log(
        `concurrent ${name}, copy floor (bench/copier): last event p50 ${cf.last_event_ms.p50} ms (${cf.over_anchor.p50}× the anchor; unsandbox ${cf.unsandbox_over_floor.p50}× it), p95 ${cf.last_event_ms.p95} ms (${cf.over_anchor.p95}×; unsandbox ${cf.unsandbox_over_floor.p95}×); workerd CPU per turn ${kinds[name].cpu_ms_per_turn.copy_floor} ms; files stored ${cf.files_stored}/${cf.files_written}; reading the stream alone (no copy): p50 ${cf.scan_only.over_anchor.p50}×, p95 ${cf.scan_only.over_anchor.p95}×, CPU per turn ${kinds[name].cpu_ms_per_turn.scan_only} ms`,
      );
    ctx.log(
      `concurrent ${name}: last event p50 ${kinds[name].last_event_ms.anchor.p50} → ${kinds[name].last_event_ms.through.p50} ms (${ratio.p50}×), p95 ${kinds[name].last_event_ms.anchor.p95} → ${kinds[name].last_event_ms.through.p95} ms (${ratio.p95}×); workerd CPU per turn ${kinds[name].cpu_ms_per_turn.anchor} → ${kinds[name].cpu_ms_per_turn.through} ms, ${kinds[name].upstream_per_turn.listings} container listings${f ? `; files stored ${f.files_stored}/${f.files_written}, sha256 after expiry ${f.sha256_matches}/${f.downloads_checked}` : ""}`,
    );
  }
  return { concurrency, rounds, turns, target_ratio: CONCURRENT_TARGET_RATIO, kinds };
}
