// @ts-check
/**
 * @module scripts/lib/banner
 * What `npm start` prints once both processes answer. The curl printed here is the one in the
 * README's Quick start; test/node/start.test.ts runs the README's copy against the banner's, so
 * the two cannot drift.
 */

/** The line that marks the banner; the first-run test waits for it. */
export const READY_LINE = "unsandbox is ready";

/**
 * One request that shows the proxy working: a Responses API call with the code_interpreter tool.
 * @param {{ origin: string, apiKey: string }} o
 * @returns {string}
 */
export function exampleCurl({ origin, apiKey }) {
  const body = JSON.stringify({
    model: "gpt-5",
    input: "Write the squares of 1 to 10 to squares.csv and give me a link to it.",
    tools: [{ type: "code_interpreter", container: { type: "auto" } }],
  });
  return [
    `curl -sS --fail-with-body ${origin}/v1/responses \\`,
    `  -H "Authorization: Bearer ${apiKey}" \\`,
    `  -H "Content-Type: application/json" \\`,
    `  -d '${body}'`,
  ].join("\n");
}

/**
 * @param {{ origin: string, apiKey: string, publishableKey?: string, upstream: string,
 *           sim?: { origin: string } | null, persistTo: string, defaulted: string[] }} o
 * @returns {string}
 */
export function banner(o) {
  const lines = [
    "",
    `${READY_LINE}`,
    "",
    `  unsandbox   ${o.origin}   (OpenAI-compatible: set baseURL to ${o.origin}/v1)`,
    o.sim
      ? `  simulator   ${o.sim.origin}   (simulated OpenAI upstream, because OPENAI_API_KEY is not set)`
      : `  upstream    ${o.upstream}`,
    `  storage     ${o.persistTo}   (local R2 and Durable Objects)`,
    "",
    `  client key  ${o.apiKey}`,
  ];
  if (o.publishableKey) lines.push(`  widget key  ${o.publishableKey}`);
  if (o.defaulted.length) lines.push(`  local defaults for: ${o.defaulted.join(", ")}`);
  lines.push("", "Try it:", "", exampleCurl(o), "", "Ctrl-C stops everything.", "");
  return lines.join("\n");
}
