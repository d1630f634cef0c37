// @ts-check
/**
 * @module bench/cases/streaming
 * Case 4, streaming: time to the first text delta and to the last event, straight to the
 * simulator and through unsandbox (alternating), for a streamed answer with three file links
 * (`several-files`, tiny deltas cut anywhere, the simulator's default).
 *
 * The holdback is counted from the outside (bench/lib/holdback.mjs): it needs upstream's own
 * deltas of the very response unsandbox relayed, and the simulator can replay those only for a
 * background response (`GET /v1/responses/{id}?stream=true`, sim/README.md). So those runs are
 * `background: true` streams through unsandbox, with the simulator's background pacing set to 0
 * for the case, then the same response replayed straight from the simulator.
 */
import { directive, TOOLS } from "../lib/context.mjs";
import { measureHoldback } from "../lib/holdback.mjs";
import { getAndCollect, postAndCollect } from "../lib/sse.mjs";
import { percentile, round } from "../lib/stats.mjs";

const DELTA = "response.output_text.delta";
const INPUT = directive("Make three small files and link them.", "scenario=several-files");

/** @param {import("../lib/sse.mjs").TimedEvent[]} events */
const deltas = (events) =>
  events
    .filter((e) => e.data?.type === DELTA)
    .map((e) => ({
      sequence_number: e.data.sequence_number,
      item_id: e.data.item_id,
      content_index: e.data.content_index,
      delta: e.data.delta,
    }));

/**
 * @param {import("../lib/context.mjs").BenchContext} ctx
 * @param {{ warmup: number, runs: number, holdbackRuns: number }} o
 */
export async function streamingCase(ctx, { warmup, runs, holdbackRuns }) {
  const body = { model: "gpt-5", input: INPUT, tools: TOOLS, stream: true };
  // first: first text delta; last: last event. created and gap locate where added time goes:
  // the first event (response.created), and the wait between the event before the terminal
  // event and the terminal event (the harvest runs there).
  /** @typedef {{ first: number[], last: number[], created: number[], terminalGap: number[], toolAdded: number[] }} Times */
  /** @type {Times} */ const direct = { first: [], last: [], created: [], terminalGap: [], toolAdded: [] };
  /** @type {Times} */ const through = { first: [], last: [], created: [], terminalGap: [], toolAdded: [] };
  let eventCountsMatch = true;
  for (let i = 0; i < warmup + runs; i++) {
    const d = await postAndCollect(`${ctx.sim.baseURL}/responses`, { authorization: `Bearer ${ctx.sim.apiKey}` }, body);
    const t = await postAndCollect(
      `${ctx.unsandbox.baseURL}/responses`,
      { authorization: `Bearer ${ctx.unsandbox.apiKey}` },
      body,
    );
    if (d.status !== 200 || t.status !== 200) throw new Error(`streaming: direct ${d.status}, through ${t.status}`);
    if (i < warmup) continue;
    for (const [into, run] of /** @type {const} */ ([
      [direct, d],
      [through, t],
    ])) {
      const first = run.events.find((e) => e.data?.type === DELTA);
      if (!first) throw new Error("streaming: a stream without text deltas");
      into.first.push(first.at);
      const at = (/** @type {number} */ i) => /** @type {import("../lib/sse.mjs").TimedEvent} */ (run.events.at(i)).at;
      into.last.push(at(-1));
      into.created.push(at(0));
      into.terminalGap.push(at(-1) - at(-2));
      const tool = run.events.find(
        (e) => e.data?.type === "response.output_item.added" && e.data?.item?.type === "code_interpreter_call",
      );
      if (tool) into.toolAdded.push(tool.at - (run.events[run.events.indexOf(tool) - 1]?.at ?? 0));
    }
    // Same response shape both ways (delta splits differ per response id, so the counts may differ
    // by the number of deltas; events other than deltas must match one for one).
    const nonDelta = (/** @type {typeof d} */ r) =>
      r.events.filter((e) => e.data?.type !== DELTA && e.data?.type !== "response.output_text.annotation.added").length;
    if (nonDelta(d) !== nonDelta(t)) eventCountsMatch = false;
  }

  // Holdback: background streams through unsandbox, replayed straight from the simulator.
  const config = await (await fetch(`${ctx.sim.origin}/__sim/config`)).json();
  await fetch(`${ctx.sim.origin}/__sim/config`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ background_ms: 0 }),
  });
  const holdbacks = [];
  try {
    for (let i = 0; i < holdbackRuns; i++) {
      const t = await postAndCollect(
        `${ctx.unsandbox.baseURL}/responses`,
        { authorization: `Bearer ${ctx.unsandbox.apiKey}` },
        { ...body, background: true },
      );
      const id = t.events.find((e) => e.data?.response?.id)?.data.response.id;
      if (t.status !== 200 || !id) throw new Error(`streaming holdback: through ${t.status}, no response id`);
      const replay = await getAndCollect(`${ctx.sim.baseURL}/responses/${id}?stream=true`, {
        authorization: `Bearer ${ctx.sim.apiKey}`,
      });
      if (replay.status !== 200) throw new Error(`streaming holdback: replay answered ${replay.status}`);
      holdbacks.push(measureHoldback(deltas(replay.events), deltas(t.events), ctx.unsandbox.origin));
    }
  } finally {
    await fetch(`${ctx.sim.origin}/__sim/config`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ background_ms: config.background_ms }),
    });
  }

  const p = (/** @type {number[]} */ xs, /** @type {number} */ q) => round(percentile(xs, q), 2);
  const result = {
    runs,
    scenario: "several-files",
    direct_ms: {
      first_delta_p50: p(direct.first, 50),
      first_delta_p95: p(direct.first, 95),
      last_event_p50: p(direct.last, 50),
      last_event_p95: p(direct.last, 95),
    },
    through_ms: {
      first_delta_p50: p(through.first, 50),
      first_delta_p95: p(through.first, 95),
      last_event_p50: p(through.last, 50),
      last_event_p95: p(through.last, 95),
    },
    added_ms: {
      first_delta_p50: round(percentile(through.first, 50) - percentile(direct.first, 50), 2),
      last_event_p50: round(percentile(through.last, 50) - percentile(direct.last, 50), 2),
    },
    profile_p50_ms: {
      first_event: { direct: p(direct.created, 50), through: p(through.created, 50) },
      tool_call_added_after_previous_event: { direct: p(direct.toolAdded, 50), through: p(through.toolAdded, 50) },
      terminal_event_after_previous_event: { direct: p(direct.terminalGap, 50), through: p(through.terminalGap, 50) },
    },
    ratio_last_event_p50: round(percentile(through.last, 50) / percentile(direct.last, 50), 2),
    non_delta_events_match: eventCountsMatch,
    holdback: {
      runs: holdbackRuns,
      max_chars: Math.max(0, ...holdbacks.map((h) => h.maxChars)),
      per_run_max_chars: holdbacks.map((h) => h.maxChars),
      delta_events_holding: holdbacks.map((h) => h.eventsHolding),
      delta_events: holdbacks.map((h) => h.deltaEvents),
    },
  };
  ctx.log(
    `streaming: first delta ${result.direct_ms.first_delta_p50} → ${result.through_ms.first_delta_p50} ms, last event ${result.direct_ms.last_event_p50} → ${result.through_ms.last_event_p50} ms, holdback max ${result.holdback.max_chars} chars`,
  );
  return result;
}
