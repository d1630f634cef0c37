// @ts-check
/**
 * @module bench/cases/load
 * Case 5, load: `concurrency` conversations at once through unsandbox, each a plain request whose
 * answer writes two files (`several-files` with two names), answered the way an app gets it (the
 * route's default bounded wait for copies). Then every response's manifest is polled until its
 * files settle, and the files stored are counted against what the simulator says it wrote
 * (`GET /__sim/responses/{id}`): the two must be equal.
 */
import { directive, getJson, postJson, TOOLS, waitSettled } from "../lib/context.mjs";
import { median, percentile, round } from "../lib/stats.mjs";

const BODY = {
  model: "gpt-5",
  input: directive("Write a table and a note.", "scenario=several-files; files=table.csv,note.txt"),
  tools: TOOLS,
};

/**
 * One round: `concurrency` requests at once.
 * @param {import("../lib/context.mjs").BenchContext} ctx
 * @param {number} concurrency
 */
async function round1(ctx, concurrency) {
  const started = performance.now();
  const answers = await Promise.all(
    Array.from({ length: concurrency }, () =>
      postJson(`${ctx.unsandbox.baseURL}/responses`, ctx.unsandbox.apiKey, BODY),
    ),
  );
  const wallMs = performance.now() - started;
  const failed = answers.filter((a) => a.status !== 200);
  if (failed.length)
    throw new Error(
      `load: ${failed.length} of ${concurrency} answered ${failed[0]?.status}: ${JSON.stringify(failed[0]?.json).slice(0, 300)}`,
    );
  const storedAtAnswer = answers.reduce(
    (n, a) => n + a.json.unsandbox.files.filter((/** @type {any} */ f) => f.state === "stored").length,
    0,
  );
  let written = 0;
  let stored = 0;
  /** @type {Record<string, number>} */
  const otherStates = {};
  for (const a of answers) {
    const truth = await getJson(`${ctx.sim.origin}/__sim/responses/${a.json.id}`);
    written += truth.written.length;
    const settled = await waitSettled(ctx, a.json.id, {
      everyMs: 250,
      timeoutMs: 120_000,
      expect: truth.written.length,
    });
    for (const f of settled.files) {
      if (f.state === "stored") stored++;
      else otherStates[f.state] = (otherStates[f.state] ?? 0) + 1;
    }
  }
  const latencies = answers.map((a) => a.ms);
  return {
    wall_ms: round(wallMs),
    rps: round(concurrency / (wallMs / 1000), 2),
    p50_ms: round(percentile(latencies, 50)),
    p95_ms: round(percentile(latencies, 95)),
    files_written: written,
    files_stored: stored,
    stored_when_answered: storedAtAnswer,
    other_states: otherStates,
  };
}

/**
 * @param {import("../lib/context.mjs").BenchContext} ctx
 * @param {{ concurrency: number, runs: number, warmup: number }} o
 */
export async function loadCase(ctx, { concurrency, runs, warmup }) {
  for (let i = 0; i < warmup; i++) await round1(ctx, Math.min(10, concurrency));
  const rounds = [];
  for (let r = 0; r < runs; r++) {
    const one = await round1(ctx, concurrency);
    rounds.push(one);
    ctx.log(
      `load round ${r + 1}/${runs}: ${one.rps} req/s, p95 ${one.p95_ms} ms, files stored ${one.files_stored} of ${one.files_written} written`,
    );
  }
  const written = rounds.reduce((n, x) => n + x.files_written, 0);
  const stored = rounds.reduce((n, x) => n + x.files_stored, 0);
  return {
    concurrency,
    runs,
    rps: round(median(rounds.map((x) => x.rps)), 2),
    p95_ms: round(median(rounds.map((x) => x.p95_ms))),
    p50_ms: round(median(rounds.map((x) => x.p50_ms))),
    files_written: written,
    files_stored: stored,
    no_file_lost: written === stored,
    rounds,
  };
}
