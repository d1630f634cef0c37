// @ts-check
/**
 * What `npm start` prints of its children's output (wrangler dev's request lines, the Worker's
 * own log lines) with every credential replaced: a download path's token (`/files/<token>/…`,
 * the token alone grants the download), a visitor session (`vs1.<claims>.<mac>`), and API keys
 * (`usk_…`, `pk_…` minted by unsandbox; `sk-…` OpenAI's). wrangler dev logs each request's method
 * and URL at level `info`; `--log-level warn` would hide them, but also the Worker's own
 * `console.log` lines, so the lines are kept and redacted instead. Pure.
 */

/** @type {[RegExp, string][]} */
const RULES = [
  // The name segment after the token stays: it is what the developer asked for.
  [/\/files\/[A-Za-z0-9_%-]+/g, "/files/[token]"],
  [/\bvs1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/g, "vs1.[session]"],
  [/\busk_[A-Za-z0-9_-]+/g, "usk_[redacted]"],
  [/\bpk_[A-Za-z0-9_-]+/g, "pk_[redacted]"],
  [/\bsk-[A-Za-z0-9_-]+/g, "sk-[redacted]"],
];

/**
 * One line of child output with every credential replaced.
 * @param {string} line
 * @returns {string}
 */
export function redactLine(line) {
  let out = line;
  for (const [pattern, replacement] of RULES) out = out.replace(pattern, replacement);
  return out;
}
