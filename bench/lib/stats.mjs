// @ts-check
/**
 * @module bench/lib/stats
 * Order statistics for the bench tables. Pure.
 */

/**
 * The p-th percentile (0–100) by linear interpolation between closest ranks; NaN for no samples.
 * @param {number[]} values
 * @param {number} p
 */
export function percentile(values, p) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  const low = /** @type {number} */ (sorted[lo]);
  const high = /** @type {number} */ (sorted[hi]);
  return low + (high - low) * (rank - lo);
}

/** @param {number[]} values */
export const median = (values) => percentile(values, 50);

/**
 * Rounds for the JSON and the table (figures, not measurements of 15 significant digits).
 * @param {number} x
 * @param {number} [digits]
 */
export const round = (x, digits = 1) => (Number.isFinite(x) ? Math.round(x * 10 ** digits) / 10 ** digits : x);

/** Bytes per millisecond as MiB/s. @param {number} bytes @param {number} ms */
export const mibPerSec = (bytes, ms) => bytes / 1048576 / (ms / 1000);
