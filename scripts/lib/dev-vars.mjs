// @ts-check
/**
 * @module scripts/lib/dev-vars
 * Reads `.dev.vars` the way wrangler does (dotenv syntax), so `npm start` can merge it with the
 * process environment itself: wrangler only reads the process environment when told to, and
 * `npm start` wants one rule for every setting: the environment wins over the file.
 */
import { readFileSync } from "node:fs";

/**
 * Parses dotenv text: `KEY=value` lines, `#` comments, optional `export `, single or double
 * quotes (double quotes understand `\n`). Pure.
 * @param {string} text
 * @returns {Record<string, string>}
 */
export function parseDotEnv(text) {
  /** @type {Record<string, string>} */
  const out = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) continue;
    let value = /** @type {string} */ (m[2]);
    const quote = value[0];
    if ((quote === '"' || quote === "'") && value.lastIndexOf(quote) > 0) {
      value = value.slice(1, value.lastIndexOf(quote));
      if (quote === '"') value = value.replace(/\\n/g, "\n");
    } else {
      // An unquoted value ends at ` #` (an inline comment), like dotenv.
      value = value.replace(/\s+#.*$/, "").trim();
    }
    out[/** @type {string} */ (m[1])] = value;
  }
  return out;
}

/**
 * The variables of a dotenv file, or `{}` when it does not exist.
 * @param {string} path
 * @returns {Record<string, string>}
 */
export function readDevVars(path) {
  let text;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    if (/** @type {NodeJS.ErrnoException} */ (err).code === "ENOENT") return {};
    throw err;
  }
  return parseDotEnv(text);
}
