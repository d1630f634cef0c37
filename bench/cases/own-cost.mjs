// @ts-check
/**
 * @module bench/cases/own-cost
 * Issue 20, "own cost": what unsandbox adds to a request over the anchor, a bare pass-through
 * Worker to the same simulator started the same way (bench/anchor). Each run sends, one after the
 * other so all see the same machine load: a no-file create through the anchor and through
 * unsandbox, a 404 the anchor answers itself (what local `wrangler dev` costs any request) and the
 * same create straight to the simulator. Then, in phases of their own, streamed creates through
 * each, alternating (no file, then the streaming case's three files), timed to the first text
 * delta and the last event.
 *
 * Own cost = unsandbox's percentile minus the anchor's, per figure.
 */
import { directive, postJson, TOOLS } from "../lib/context.mjs";
import { postAndCollect } from "../lib/sse.mjs";
import { percentile, round } from "../lib/stats.mjs";

const CREATE = { model: "gpt-5", input: "What is 2 + 2?" };
const STREAMS = {
  no_file: { model: "gpt-5", input: "What is 2 + 2?", stream: true },
  three_files: {
    model: "gpt-5",
    input: directive("Make three small files and link them.", "scenario=several-files"),
    tools: TOOLS,
    stream: true,
  },
};
/** Issue 20's targets for unsandbox minus the anchor, in ms. */
export const OWN_COST_TARGETS = { create_p50: 2, create_p95: 5, first_delta_p50: 3 };
const DELTA = "response.output_text.delta";

/** @param {number[]} xs */
const pcts = (xs) => ({ p50: round(percentile(xs, 50), 2), p95: round(percentile(xs, 95), 2) });
/** @param {number[]} a @param {number[]} b @param {number} q */
const minus = (a, b, q) => round(percentile(a, q) - percentile(b, q), 2);

/**
 * @param {import("../lib/context.mjs").BenchContext} ctx
 * @param {{ warmup: number, runs: number }} o
 */
export async function ownCostCase(ctx, { warmup, runs }) {
  const anchor = /** @type {import("../lib/processes.mjs").Running} */ (ctx.anchor);
  /** @type {Record<string, number[]>} */
  const t = {
    direct: [],
    anchor: [],
    through: [],
    anchor_404: [],
    anchor_first_no_file: [],
    through_first_no_file: [],
    anchor_last_no_file: [],
    through_last_no_file: [],
    anchor_first_three_files: [],
    through_first_three_files: [],
    anchor_last_three_files: [],
    through_last_three_files: [],
  };
  const anchorKey = { authorization: `Bearer ${ctx.sim.apiKey}` };
  const throughKey = { authorization: `Bearer ${ctx.unsandbox.apiKey}` };
  // Creates first, then each kind of stream in a phase of its own: a three-file stream leaves
  // copies running behind it, which must not land on the next run's no-file figures.
  for (let i = 0; i < warmup + runs; i++) {
    const a = await postJson(`${anchor.origin}/v1/responses`, ctx.sim.apiKey, CREATE);
    const u = await postJson(`${ctx.unsandbox.baseURL}/responses`, ctx.unsandbox.apiKey, CREATE);
    const n0 = performance.now();
    const nf = await fetch(`${anchor.origin}/nothing-here`);
    await nf.text();
    const n = performance.now() - n0;
    const d = await postJson(`${ctx.sim.baseURL}/responses`, ctx.sim.apiKey, CREATE);
    if (a.status !== 200 || u.status !== 200 || d.status !== 200 || nf.status !== 404)
      throw new Error(
        `own cost: anchor ${a.status}, unsandbox ${u.status}, direct ${d.status}, anchor 404 ${nf.status}`,
      );
    if (i < warmup) continue;
    t.anchor?.push(a.ms);
    t.through?.push(u.ms);
    t.direct?.push(d.ms);
    t.anchor_404?.push(n);
  }
  for (const [name, body] of Object.entries(STREAMS)) {
    for (let i = 0; i < warmup + runs; i++) {
      const as = await postAndCollect(`${anchor.origin}/v1/responses`, anchorKey, body);
      const us = await postAndCollect(`${ctx.unsandbox.baseURL}/responses`, throughKey, body);
      for (const [who, s] of /** @type {const} */ ([
        ["anchor", as],
        ["through", us],
      ])) {
        const first = s.events.find((e) => e.data?.type === DELTA);
        if (s.status !== 200 || !first) throw new Error(`own cost: ${who} stream ${name} answered ${s.status}`);
        if (i < warmup) continue;
        t[`${who}_first_${name}`]?.push(first.at);
        t[`${who}_last_${name}`]?.push(/** @type {any} */ (s.events.at(-1)).at);
      }
    }
  }
  const T = /** @type {Record<string, number[]>} */ (t);
  const get = (/** @type {string} */ k) => /** @type {number[]} */ (T[k]);
  const result = {
    runs,
    targets_ms: OWN_COST_TARGETS,
    create_ms: { direct: pcts(get("direct")), anchor: pcts(get("anchor")), through: pcts(get("through")) },
    own_cost_create_ms: {
      p50: minus(get("through"), get("anchor"), 50),
      p95: minus(get("through"), get("anchor"), 95),
    },
    anchor_404_ms: pcts(get("anchor_404")),
    anchor_over_404_ms: {
      p50: minus(get("anchor"), get("anchor_404"), 50),
      p95: minus(get("anchor"), get("anchor_404"), 95),
    },
    anchor_over_direct_ms: {
      p50: minus(get("anchor"), get("direct"), 50),
      p95: minus(get("anchor"), get("direct"), 95),
    },
    streams: Object.fromEntries(
      Object.keys(STREAMS).map((name) => [
        name,
        {
          first_delta_ms: { anchor: pcts(get(`anchor_first_${name}`)), through: pcts(get(`through_first_${name}`)) },
          last_event_ms: { anchor: pcts(get(`anchor_last_${name}`)), through: pcts(get(`through_last_${name}`)) },
          own_cost_first_delta_ms: {
            p50: minus(get(`through_first_${name}`), get(`anchor_first_${name}`), 50),
            p95: minus(get(`through_first_${name}`), get(`anchor_first_${name}`), 95),
          },
          own_cost_last_event_ms: {
            p50: minus(get(`through_last_${name}`), get(`anchor_last_${name}`), 50),
            p95: minus(get(`through_last_${name}`), get(`anchor_last_${name}`), 95),
          },
        },
      ]),
    ),
    samples: Object.fromEntries(Object.entries(T).map(([k, v]) => [k, v.map((x) => round(x, 2))])),
  };
  const s = /** @type {any} */ (result.streams);
  ctx.log(
    `own cost: create +${result.own_cost_create_ms.p50} ms p50 / +${result.own_cost_create_ms.p95} ms p95 over the anchor (${result.create_ms.anchor.p50} ms; its own 404 ${result.anchor_404_ms.p50} ms); first delta +${s.no_file.own_cost_first_delta_ms.p50} ms (no file), +${s.three_files.own_cost_first_delta_ms.p50} ms (three files)`,
  );
  return result;
}
