// @ts-check
/**
 * @module bench/lib/holdback
 * How much text a rewriting proxy held back, counted from the outside. Pure.
 *
 * The proxy relays upstream's events one for one with their sequence numbers, so after the event
 * numbered `s` a client of the proxy has seen the text of every delta up to `s`, rewritten; a
 * client of upstream has seen the same deltas unrewritten. Links differ on purpose
 * (`sandbox:/mnt/data/x` becomes a download URL), so both texts have each *complete* link
 * destination replaced by the same placeholder first. What upstream had sent beyond the common
 * prefix of the two is what the proxy was holding at that moment, in characters (code points).
 */

/**
 * @typedef {{ sequence_number: number, item_id: string, content_index: number, delta: string }} Delta
 */

const PLACEHOLDER = "\u0000";

/**
 * Upstream's text with every complete markdown link destination to the sandbox replaced.
 * @param {string} text
 */
export function normalizeUpstream(text) {
  return text.replace(/\]\(sandbox:[^)\s]*\)/g, `](${PLACEHOLDER})`);
}

/**
 * The proxy's text with every complete link destination under `filesOrigin` replaced.
 * @param {string} text
 * @param {string} filesOrigin
 */
export function normalizeProxied(text, filesOrigin) {
  const origin = filesOrigin.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return text.replace(new RegExp(`\\]\\(${origin}/files/[^)\\s]*\\)`, "g"), `](${PLACEHOLDER})`);
}

/** @param {string} a @param {string} b */
function commonPrefix(a, b) {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

/** @param {string} s */
const codePoints = (s) => Array.from(s).length;

/**
 * The length in upstream's own characters of a normalized tail of `raw`: each placeholder in the
 * tail stands for one of the last destinations of `raw`, in order.
 * @param {string} tail
 * @param {string} raw
 */
function rawLength(tail, raw) {
  const k = tail.split(PLACEHOLDER).length - 1;
  const destinations = [...raw.matchAll(/\]\((sandbox:[^)\s]*)\)/g)].map((m) => /** @type {string} */ (m[1]));
  const replaced = destinations.slice(destinations.length - k).reduce((n, d) => n + codePoints(d), 0);
  return codePoints(tail) - k + (k > 0 ? replaced : 0);
}

/**
 * The largest number of upstream characters not yet passed on, over every delta event, and how
 * many delta events held anything.
 * @param {Delta[]} upstream the deltas upstream sent
 * @param {Delta[]} proxied  the deltas the proxy sent
 * @param {string} filesOrigin where the proxy's download URLs start
 * @returns {{ maxChars: number, eventsHolding: number, deltaEvents: number }}
 */
export function measureHoldback(upstream, proxied, filesOrigin) {
  const key = (/** @type {Delta} */ d) => `${d.item_id}\u0001${d.content_index}`;
  const seqs = [...new Set([...upstream, ...proxied].map((d) => d.sequence_number))].sort((a, b) => a - b);
  const parts = new Set(upstream.map(key));
  let maxChars = 0;
  let eventsHolding = 0;
  for (const s of seqs) {
    let held = 0;
    for (const part of parts) {
      const u = upstream
        .filter((d) => key(d) === part && d.sequence_number <= s)
        .map((d) => d.delta)
        .join("");
      const p = proxied
        .filter((d) => key(d) === part && d.sequence_number <= s)
        .map((d) => d.delta)
        .join("");
      const nu = normalizeUpstream(u);
      const np = normalizeProxied(p, filesOrigin);
      held += rawLength(nu.slice(commonPrefix(nu, np)), u);
    }
    if (held > 0) eventsHolding++;
    maxChars = Math.max(maxChars, held);
  }
  return { maxChars, eventsHolding, deltaEvents: seqs.length };
}
