// @ts-check
/**
 * @module scripts/lib/settings
 * Which settings `npm start` hands to `wrangler dev`, and their local defaults. Pure: the caller
 * passes the process environment and the parsed `.dev.vars`; the environment wins.
 * The settings themselves are checked by the Worker (src/config.ts), not here.
 */

/**
 * The settings of the Worker's configuration contract (src/config.ts) that `npm start` knows by
 * name. `npm start` also passes every name listed in .dev.vars.example (see `settingNames`), so
 * a setting added there reaches the Worker from the environment without a change here.
 */
export const SETTING_NAMES = /** @type {const} */ ([
  "OPENAI_API_KEY",
  "OPENAI_BASE_URL",
  "UNSANDBOX_API_KEY",
  "PUBLIC_FILES_ORIGIN",
  "LINK_SECRETS",
  "UNSANDBOX_PUBLISHABLE_KEY",
  "UNSANDBOX_ALLOWED_ORIGINS",
  "UNSANDBOX_MODE",
  "ADMIN_SECRET",
  "TENANT_KEY_ENCRYPTION_KEYS",
  "UPSTREAM_AUTH_HEADER",
  "UPSTREAM_QUERY",
  "TRACKER_LOCATION_HINT",
  "REQUEST_LOG",
  "USAGE_FLUSH_MS",
]);

/**
 * The names `npm start` passes: the known ones plus every key of .dev.vars.example.
 * @param {Record<string, string>} example the parsed .dev.vars.example
 * @returns {string[]}
 */
export function settingNames(example) {
  return [...new Set([...SETTING_NAMES, ...Object.keys(example)])];
}

/** The bearer key the local simulator accepts (it refuses any other, like the real API). */
export const SIM_API_KEY = "sk-sim-local";

/** Local defaults: fixed, so links issued before a restart still verify after it. */
export const LOCAL_DEFAULTS = {
  UNSANDBOX_API_KEY: "usk_local_0123456789abcdef",
  LINK_SECRETS: "local:unsandbox-local-link-secret-0123456789abcdef",
  UNSANDBOX_PUBLISHABLE_KEY: "pk_local_demo",
};

/**
 * A value copied verbatim from .dev.vars.example (`sk-...`) is a placeholder, not a key.
 * @param {string | undefined} value
 */
function isPlaceholder(value) {
  return value === undefined || value.trim() === "" || /\.\.\.$/.test(value.trim());
}

/**
 * @typedef {object} StartPlan
 * @property {Record<string, string>} vars   every setting passed to unsandbox as `--var KEY:VALUE`
 * @property {boolean} useSim                true when no upstream key is set: run the simulator
 * @property {number} port                   unsandbox's port
 * @property {number} simPort                the simulator's port (used only when `useSim`)
 * @property {string} persistTo              wrangler's `--persist-to` directory (R2, Durable Objects)
 * @property {string[]} defaulted            settings that took a local default (for the banner)
 */

/**
 * Decides what `npm start` runs. The environment wins over `.dev.vars`; `PORT`, `SIM_PORT` and
 * `UNSANDBOX_PERSIST_DIR` move the instance so that tests and benchmarks can run one beside a
 * developer's own.
 * @param {Record<string, string | undefined>} env the process environment
 * @param {Record<string, string>} devVars the parsed .dev.vars (may be empty)
 * @param {readonly string[]} [names] the settings to pass (default: SETTING_NAMES)
 * @returns {StartPlan}
 */
export function planStart(env, devVars, names = SETTING_NAMES) {
  const port = parsePort(env.PORT, 8787, "PORT");
  const simPort = parsePort(env.SIM_PORT, 8788, "SIM_PORT");
  /** @type {Record<string, string>} */
  const vars = {};
  for (const name of names) {
    const value = env[name] ?? devVars[name];
    if (value !== undefined && value !== "") vars[name] = value;
  }
  /** @type {string[]} */
  const defaulted = [];
  const useSim = isPlaceholder(vars.OPENAI_API_KEY);
  if (useSim) {
    vars.OPENAI_API_KEY = SIM_API_KEY;
    vars.OPENAI_BASE_URL = `http://127.0.0.1:${simPort}/v1`;
  }
  const origin = `http://127.0.0.1:${port}`;
  /** @type {Record<string, string>} */
  const defaults = {
    ...LOCAL_DEFAULTS,
    PUBLIC_FILES_ORIGIN: origin,
    UNSANDBOX_ALLOWED_ORIGINS: `${origin},http://localhost:${port}`,
  };
  for (const [name, value] of Object.entries(defaults)) {
    if (vars[name] === undefined) {
      vars[name] = value;
      defaulted.push(name);
    }
  }
  return { vars, useSim, port, simPort, persistTo: env.UNSANDBOX_PERSIST_DIR || ".wrangler/state", defaulted };
}

/**
 * @param {string | undefined} raw
 * @param {number} fallback
 * @param {string} name
 */
function parsePort(raw, fallback, name) {
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 65535)
    throw new Error(`${name} must be a port number, got ${JSON.stringify(raw)}`);
  return n;
}

/**
 * `--var KEY:VALUE` arguments for wrangler dev (wrangler splits at the first colon only, so
 * values such as URLs and `kid:secret` pairs pass intact).
 * @param {Record<string, string>} vars
 * @returns {string[]}
 */
export function varArgs(vars) {
  return Object.entries(vars).flatMap(([k, v]) => ["--var", `${k}:${v}`]);
}
