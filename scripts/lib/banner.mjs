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
 * The mode `npm start` runs in, as the Worker reads it (src/config.ts: `UNSANDBOX_MODE`,
 * single-tenant by default).
 * @param {string | undefined} value
 * @returns {"single-tenant" | "multi-tenant" | "pass-through" | string}
 */
export function modeOf(value) {
  return value === undefined || value.trim() === "" ? "single-tenant" : value.trim();
}

/**
 * Who may call in each mode, and a first request that works in it. The single-tenant demo keys
 * are refused in the other modes, so they are printed only in single-tenant mode:
 * - multi-tenant: callers use a tenant's key, made with the tenant CLI (scripts/tenants.mjs) and
 *   the admin secret;
 * - pass-through: callers send their own OpenAI key (the simulator's key when it runs).
 * @param {{ origin: string, apiKey: string, publishableKey?: string, mode?: string, adminSecretSet?: boolean,
 *           upstream: string, sim?: { origin: string, key?: string } | null, persistTo: string, defaulted: string[] }} o
 * @returns {string}
 */
export function banner(o) {
  const mode = modeOf(o.mode);
  const lines = [
    "",
    `${READY_LINE}`,
    "",
    `  unsandbox   ${o.origin}   (OpenAI-compatible: set baseURL to ${o.origin}/v1)`,
    o.sim
      ? `  simulator   ${o.sim.origin}   (simulated OpenAI upstream, because OPENAI_API_KEY is not set)`
      : `  upstream    ${o.upstream}`,
    `  storage     ${o.persistTo}   (local R2 and Durable Objects)`,
    `  mode        ${mode}`,
    "",
  ];
  /** @type {string} */
  let apiKey;
  if (mode === "multi-tenant") {
    const url = `UNSANDBOX_URL=${o.origin}`;
    lines.push(
      "  Callers use a tenant's key (the local demo keys are refused in this mode). Make a tenant and a key",
      o.adminSecretSet
        ? "  with the admin secret (ADMIN_SECRET, as set for this instance):"
        : "  with the admin secret; ADMIN_SECRET is not set, so the admin API is off: set it (32+ characters) and restart.",
      "",
      `    export ${url} ADMIN_SECRET=…`,
      `    npm run tenants -- create "Acme" --id acme`,
      "    npm run tenants -- key acme secret        # prints the key once: export UNSANDBOX_KEY=usk_…",
    );
    apiKey = "$UNSANDBOX_KEY";
  } else if (mode === "pass-through") {
    lines.push(
      "  Callers send their own OpenAI key as the bearer key; unsandbox forwards it upstream.",
      o.sim
        ? `  The simulator accepts only its own key: ${o.sim.key ?? "sk-sim-local"}`
        : "  (for example: export OPENAI_API_KEY=sk-…)",
    );
    apiKey = o.sim ? (o.sim.key ?? "sk-sim-local") : "$OPENAI_API_KEY";
  } else {
    lines.push(`  client key  ${o.apiKey}`);
    if (o.publishableKey) lines.push(`  widget key  ${o.publishableKey}`);
    apiKey = o.apiKey;
  }
  if (o.defaulted.length) lines.push(`  local defaults for: ${o.defaulted.join(", ")}`);
  lines.push("", "Try it:", "", exampleCurl({ origin: o.origin, apiKey }), "", "Ctrl-C stops everything.", "");
  return lines.join("\n");
}

/**
 * The banner of a start plan (scripts/lib/settings.mjs), as `npm start` prints it.
 * @param {import("./settings.mjs").StartPlan} plan
 * @param {{ origin: string, simOrigin: string, simKey: string }} where
 * @returns {string}
 */
export function bannerOf(plan, where) {
  return banner({
    origin: where.origin,
    apiKey: /** @type {string} */ (plan.vars.UNSANDBOX_API_KEY),
    publishableKey: plan.vars.UNSANDBOX_PUBLISHABLE_KEY,
    mode: plan.vars.UNSANDBOX_MODE,
    adminSecretSet: Boolean(plan.vars.ADMIN_SECRET),
    upstream: plan.vars.OPENAI_BASE_URL ?? "https://api.openai.com/v1 (wrangler.toml)",
    sim: plan.useSim ? { origin: where.simOrigin, key: where.simKey } : null,
    persistTo: plan.persistTo,
    defaulted: plan.defaulted,
  });
}
