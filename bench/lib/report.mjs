// @ts-check
/**
 * @module bench/lib/report
 * The bench's results as a Markdown table (printed, and saved as bench/results/latest.md for the
 * README to quote). Pure: takes the result object that is also saved as JSON.
 */

/** @param {number} x @param {number} target @param {"min" | "max"} kind */
const mark = (x, target, kind) => ((kind === "min" ? x >= target : x <= target) ? "yes" : "**no**");

/**
 * @param {any} r the result object of bench/run.mjs
 * @returns {string}
 */
export function markdownReport(r) {
  const lines = [];
  const m = r.machine;
  lines.push(
    `Run ${r.finished_at} on ${m.cpus}× ${m.cpu_model}, ${m.memory_gib} GiB RAM, ${m.platform}; Node ${m.node}, wrangler ${m.wrangler} (local workerd, local R2 on disk); \`${r.command}\`, ${r.duration_s} s in all; load average (1 min) ${m.load_average_at_start?.[0]} at start, ${m.load_average_at_end?.[0]} at end (the machine is shared); commit ${String(r.source?.commit).slice(0, 12)}${r.source?.uncommitted?.length ? ` plus ${r.source.uncommitted.length} uncommitted Worker files` : ""}.`,
  );
  lines.push("");
  if (r.latency) {
    const l = r.latency;
    lines.push(`**Added latency** (a response with no files, ${l.runs} runs each, alternating)`);
    lines.push("");
    lines.push("| | direct | through unsandbox | added | ratio |");
    lines.push("|---|---:|---:|---:|---:|");
    lines.push(`| p50 | ${l.direct_ms.p50} ms | ${l.through_ms.p50} ms | +${l.added_ms.p50} ms | ${l.ratio.p50}× |`);
    lines.push(`| p95 | ${l.direct_ms.p95} ms | ${l.through_ms.p95} ms | +${l.added_ms.p95} ms | ${l.ratio.p95}× |`);
    lines.push("");
    lines.push(
      `unsandbox without upstream (\`GET /healthz\`: the settings check and one cheap read per binding): p50 ${l.healthz_ms.p50} ms, p95 ${l.healthz_ms.p95} ms.`,
    );
    lines.push("");
  }
  if (r.copy) {
    lines.push(
      `**Copy to R2** (one file, end of the answer → \`stored\`; medians of ${[...new Set(r.copy.sizes.map((/** @type {any} */ s) => s.runs))].join(" or ")} runs; ceiling = slower of a plain download from the simulator and an R2 put inside a Worker (the faster of a single put and 8 MiB multipart), same run; ratio = median of each run's ceiling ÷ its own copy time, measured back to back, with the lowest and highest run in brackets)`,
    );
    lines.push("");
    lines.push(
      "| size | download | R2 put | ceiling | unsandbox | ratio (≥ 0.9) | workerd RSS growth (< 128 MiB at 1 GiB) | isolate heap growth | content fetches |",
    );
    lines.push("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (const s of r.copy.sizes) {
      const memTarget = s.size_mib >= 1024 ? ` ${mark(s.memory_growth_max_mib, 128, "max")}` : "";
      lines.push(
        `| ${s.size_mib} MiB | ${s.download_mib_s} MiB/s | ${s.r2_put_mib_s} MiB/s | ${s.ceiling_mib_s} MiB/s (${s.ceiling_leg === "download" ? "download" : "R2 put"}) | ${s.copy_mib_s} MiB/s (${(s.copy_ms / 1000).toFixed(2)} s) | ${s.ratio} (${s.ratio_min}–${s.ratio_max}) ${s.size_mib >= 256 ? mark(s.ratio, 0.9, "min") : ""} | +${s.memory_growth_mib} MiB (max +${s.memory_growth_max_mib})${memTarget} | +${s.isolate_growth_mib} MiB (max +${s.isolate_growth_max_mib}) | ${s.samples.map((/** @type {any} */ x) => x.content_fetches).join(", ")} |`,
      );
    }
    lines.push("");
    const cpu = r.copy.sizes.filter((/** @type {any} */ s) => s.size_mib >= 256 && s.r2_put_writer_cpu_s_per_gib);
    if (cpu.length) {
      lines.push(
        `CPU per GiB (what bounds the copy on this machine): ${cpu.map((/** @type {any} */ s) => `${s.size_mib} MiB: unsandbox's workerd ${s.copy_unsandbox_cpu_s_per_gib} s (${Math.round(s.copy_unsandbox_cpu_share * 100)}% of one core while copying), the R2 writer's ${s.r2_put_writer_cpu_s_per_gib} s (${Math.round(s.r2_put_writer_cpu_share * 100)}%)`).join("; ")}.`,
      );
      lines.push("");
    }
  }
  if (r.streaming) {
    const s = r.streaming;
    lines.push(`**Streaming** (\`${s.scenario}\`, three links in tiny deltas; ${s.runs} runs each, p50)`);
    lines.push("");
    lines.push("| | direct | through unsandbox | added |");
    lines.push("|---|---:|---:|---:|");
    lines.push(
      `| first text delta | ${s.direct_ms.first_delta_p50} ms | ${s.through_ms.first_delta_p50} ms | +${s.added_ms.first_delta_p50} ms |`,
    );
    lines.push(
      `| last event | ${s.direct_ms.last_event_p50} ms | ${s.through_ms.last_event_p50} ms | +${s.added_ms.last_event_p50} ms |`,
    );
    lines.push("");
    const pr = s.profile_p50_ms;
    lines.push(
      `Where the added time goes (p50, direct → through): first event ${pr.first_event.direct} → ${pr.first_event.through} ms; tool call after the event before it ${pr.tool_call_added_after_previous_event.direct} → ${pr.tool_call_added_after_previous_event.through} ms; terminal event after the event before it ${pr.terminal_event_after_previous_event.direct} → ${pr.terminal_event_after_previous_event.through} ms.`,
    );
    lines.push("");
    lines.push(
      `Largest holdback: ${s.holdback.max_chars} characters (over ${s.holdback.runs} streams, counted from outside against the simulator's replay of the same response).`,
    );
    lines.push("");
  }
  if (r.load) {
    const l = r.load;
    lines.push(`**Load** (${l.concurrency} concurrent conversations, two files each; medians of ${l.runs} rounds)`);
    lines.push("");
    lines.push("| requests/s | p50 | p95 | files stored / written | none lost |");
    lines.push("|---:|---:|---:|---:|---|");
    lines.push(
      `| ${l.rps} | ${l.p50_ms} ms | ${l.p95_ms} ms | ${l.files_stored} / ${l.files_written} | ${l.no_file_lost ? "yes" : "**no**"} |`,
    );
    lines.push("");
  }
  if (r.owncost) lines.push(...ownCostLines(r.owncost));
  if (r.concurrent) lines.push(...concurrentLines(r.concurrent));
  if (r.downloads) lines.push(...downloadLines(r.downloads));
  if (r.scale) lines.push(...scaleLines(r.scale));
  return lines.join("\n");
}

/** @param {any} o the own-cost case's result */
function ownCostLines(o) {
  const t = o.targets_ms;
  const s = o.streams;
  const row = (
    /** @type {string} */ name,
    /** @type {any} */ a,
    /** @type {any} */ u,
    /** @type {number} */ cost,
    /** @type {number | null} */ target,
  ) =>
    `| ${name} | ${a} ms | ${u} ms | +${cost} ms | ${target === null ? "—" : `≤ ${target} ms ${mark(cost, target, "max")}`} |`;
  return [
    `**Own cost** (unsandbox minus the anchor, a bare pass-through Worker to the same simulator started the same way; ${o.runs} runs each: the creates interleaved, then each kind of stream in a phase of its own, alternating)`,
    "",
    "| | anchor | through unsandbox | own cost | target |",
    "|---|---:|---:|---:|---|",
    row("no-file create, p50", o.create_ms.anchor.p50, o.create_ms.through.p50, o.own_cost_create_ms.p50, t.create_p50),
    row("no-file create, p95", o.create_ms.anchor.p95, o.create_ms.through.p95, o.own_cost_create_ms.p95, t.create_p95),
    row(
      "first text delta, no file, p50",
      s.no_file.first_delta_ms.anchor.p50,
      s.no_file.first_delta_ms.through.p50,
      s.no_file.own_cost_first_delta_ms.p50,
      t.first_delta_p50,
    ),
    row(
      "first text delta, three files, p50",
      s.three_files.first_delta_ms.anchor.p50,
      s.three_files.first_delta_ms.through.p50,
      s.three_files.own_cost_first_delta_ms.p50,
      t.first_delta_p50,
    ),
    row(
      "last event, no file, p50",
      s.no_file.last_event_ms.anchor.p50,
      s.no_file.last_event_ms.through.p50,
      s.no_file.own_cost_last_event_ms.p50,
      null,
    ),
    row(
      "last event, three files, p50",
      s.three_files.last_event_ms.anchor.p50,
      s.three_files.last_event_ms.through.p50,
      s.three_files.own_cost_last_event_ms.p50,
      null,
    ),
    "",
    `The anchor itself: a 404 it answers without going upstream takes p50 ${o.anchor_404_ms.p50} ms, p95 ${o.anchor_404_ms.p95} ms (the \`wrangler dev\` floor, about 0.8 ms on an idle machine); forwarding a create costs it +${o.anchor_over_404_ms.p50} ms over that 404 and +${o.anchor_over_direct_ms.p50} ms over the same create sent straight to the simulator (${o.create_ms.direct.p50} ms), at p50.`,
    "",
  ];
}

/** @param {any} c the concurrent case's result */
function concurrentLines(c) {
  const lines = [
    `**Under load** (${c.concurrency} concurrent streamed conversations of ${c.turns} turn${c.turns === 1 ? "" : "s"}, ${c.rounds} round${c.rounds === 1 ? "" : "s"} each way, alternating; time from a turn's request to its last event)`,
    "",
    `| conversations | anchor p50 | unsandbox p50 | ratio | anchor p95 | unsandbox p95 | ratio (target ≤ ${c.target_ratio}×) | files stored / written | sha256 right after the containers expired |`,
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const [name, k] of Object.entries(/** @type {Record<string, any>} */ (c.kinds))) {
    const f = k.files;
    lines.push(
      `| ${name === "no_file" ? "no file" : "two files per turn"} | ${k.last_event_ms.anchor.p50} ms | ${k.last_event_ms.through.p50} ms | ${k.ratio.p50}× ${mark(k.ratio.p50, c.target_ratio, "max")} | ${k.last_event_ms.anchor.p95} ms | ${k.last_event_ms.through.p95} ms | ${k.ratio.p95}× ${mark(k.ratio.p95, c.target_ratio, "max")} | ${f ? `${f.files_stored} / ${f.files_written} ${f.files_stored === f.files_written ? "" : "**no**"}` : "—"} | ${f ? `${f.sha256_matches} / ${f.downloads_checked}` : "—"} |`,
    );
  }
  lines.push("");
  lines.push(
    `Straight to the simulator, the same rounds took ${Object.entries(/** @type {Record<string, any>} */ (c.kinds))
      .map(
        ([name, k]) =>
          `${k.last_event_ms.direct?.p50} ms at p50 (${name === "no_file" ? "no file" : "two files"}; the anchor ${k.anchor_over_direct?.p50}× that)`,
      )
      .join(", ")}: what local \`wrangler dev\` itself costs under this load.`,
  );
  lines.push("");
  return lines;
}

/** @param {any} d the downloads case's result */
function downloadLines(d) {
  const calls = d.durable_object_calls;
  return [
    `**Downloads** (${d.requests} requests to one URL of ${Math.round(d.bytes / 1024)} KiB at concurrency ${d.concurrency}; medians of ${d.rounds} round${d.rounds === 1 ? "" : "s"} each way, alternating, without the counting breakpoints)`,
    "",
    "| | requests/s | p50 | p95 |",
    "|---|---:|---:|---:|",
    `| the same bytes from R2 (bench/r2-writer, one \`get\`) | ${d.floor_rps} | ${d.latency_ms.floor.p50} ms | ${d.latency_ms.floor.p95} ms |`,
    `| through unsandbox | ${d.through_rps} | ${d.latency_ms.through.p50} ms | ${d.latency_ms.through.p95} ms |`,
    ...(d.cpu_ms_per_request
      ? [
          "",
          `CPU per download (medians of the rounds): the serving workerd (Worker and local R2 together) ${d.cpu_ms_per_request.through} ms through unsandbox, ${d.cpu_ms_per_request.floor} ms from the R2 writer; all of its \`wrangler dev\` (with the Node process that receives every console line) ${d.cpu_ms_per_request.through_tree} ms and ${d.cpu_ms_per_request.floor_tree} ms.`,
        ]
      : []),
    "",
    `Throughput ratio ${d.throughput_ratio} (target ≥ ${d.targets.throughput_ratio_min}: ${mark(d.throughput_ratio, d.targets.throughput_ratio_min, "min")}). Durable Object calls, counted in the isolate: the first ${calls.first_requests} downloads ${fmtCalls(calls.first_calls)}; the ${calls.round_requests} after them (${Math.round(calls.round.wall_ms / 100) / 10} s) ${fmtCalls(calls.round_calls)}, ${calls.round_calls_per_request} per request; ${fmtCalls(calls.round_methods)} by method.${splitLine(calls.round_split)} Target ${d.targets.do_calls_after_first} calls made by downloads: ${calls.round_split ? mark(calls.round_split.request_path_total, 0, "max") : mark(calls.round_calls_total, 0, "max")}${calls.waited_for_quiet_ms !== undefined ? ` (counting began once no object had been called for 9 s, ${Math.round(calls.waited_for_quiet_ms / 100) / 10} s after the files settled: the create's sweeps, copies and usage batch done)` : ""}.${d.failed ? ` **${d.failed} downloads failed.**` : ""}`,
    "",
  ];
}

/**
 * The round's calls apart: on the downloads' path, and the background's (bench/cases/downloads.mjs).
 * @param {any} split
 */
const splitLine = (split) =>
  split
    ? ` Of these, on the downloads' path: ${split.request_path_total}${split.request_path_total ? ` (${fmtCalls(split.request_path)})` : ""}; not made by a download: ${split.usage_batches} usage batch${split.usage_batches === 1 ? "" : "es"} (one per isolate per \`USAGE_FLUSH_MS\`, carrying every request's usage, and the trackers' outbox after copies) and ${split.tracker_alarms} tracker alarm${split.tracker_alarms === 1 ? "" : "s"} (the tracker's own schedule).`
    : "";

/** @param {Record<string, number>} m */
const fmtCalls = (m) =>
  Object.keys(m).length === 0
    ? "made none"
    : Object.entries(m)
        .map(([k, v]) => `${k} ${v}`)
        .join(", ");

/** @param {any} s the scale case's result */
function scaleLines(s) {
  const lines = [
    `**Scale** (issue 19: multi-tenant, ${s.tenants} tenants' secret keys and one widget key over ${s.widget_sessions} visitor sessions, alternating, one file per create; each rate for ${s.seconds_per_rate} s, open loop; Durable Object calls per request to each shared object: all its instances, and the busiest one in brackets)`,
    "",
    "| offered req/s | requests (status) | completed (requests ÷ time to the last answer) | p95 | TenantDirectory | UsageMeter (busiest shard) | RateCounter (busiest) | item set (busiest) | files stored / written |",
    "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const x of s.steps) {
    const sh = x.shared;
    const cell = (/** @type {any} */ g) => `${g.calls_per_request} (${g.busiest_calls_per_request})`;
    lines.push(
      `| ${x.rate} | ${x.requests} (${Object.entries(x.statuses)
        .map(([k, v]) => `${v}× ${k}`)
        .join(
          ", ",
        )}) | ${x.achieved_rps}/s | ${x.latency_ms.p95} ms | ${sh.TenantDirectory.calls_per_request} | ${cell(sh.UsageMeter)} | ${cell(sh.RateCounter)} | ${cell(sh.OwnershipLedger_item_set)} | ${x.files_stored} / ${x.files_written}${x.files_stored === x.files_written ? "" : " **no**"} |`,
    );
  }
  lines.push("");
  return lines;
}
