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
  return lines.join("\n");
}
