#!/usr/bin/env node
// @ts-check
/**
 * `npm run probe:real`: asks the real OpenAI API (OPENAI_API_KEY, optional OPENAI_BASE_URL and
 * OPENAI_MODEL) the questions in docs/assumptions.md and rewrites that file with the answers.
 * It makes two model calls with the code_interpreter tool and deletes the container it used.
 *
 *   OPENAI_API_KEY=sk-… npm run probe:real                   # writes docs/assumptions.md
 *   OPENAI_API_KEY=sk-… npm run probe:real -- --json         # also prints the report as JSON
 *   … -- --out /tmp/assumptions.md                           # writes elsewhere
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { runProbe } from "./lib/probe.mjs";
import { assumptionsMarkdown } from "./lib/probe-report.mjs";
import { REPO_ROOT } from "./lib/wrangler-dev.mjs";

const args = process.argv.slice(2);
const outAt = args.indexOf("--out");
const out = outAt >= 0 ? args[outAt + 1] : join(REPO_ROOT, "docs", "assumptions.md");
const apiKey = process.env.OPENAI_API_KEY;
if (!apiKey) {
  console.error(
    "probe:real needs OPENAI_API_KEY (a real key; it makes two small code_interpreter calls). OPENAI_BASE_URL and OPENAI_MODEL are optional.",
  );
  process.exit(2);
}
const baseURL = process.env.OPENAI_BASE_URL || "https://api.openai.com/v1";
try {
  const report = await runProbe({
    baseURL,
    apiKey,
    model: process.env.OPENAI_MODEL || "gpt-5",
    log: (m) => console.error(`probe: ${m}`),
  });
  if (out) writeFileSync(out, assumptionsMarkdown(report));
  if (args.includes("--json")) console.log(JSON.stringify(report, null, 2));
  else console.error(`probe: wrote ${out}`);
} catch (err) {
  console.error(`probe failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
