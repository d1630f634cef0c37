// @ts-check
/**
 * @module bench/lib/ports
 * Ports for the bench's processes. By default the OS picks free ones; `--ports=9700-9799` (or
 * `BENCH_PORTS`) keeps every process inside a range, for a machine shared with other runs that
 * each own a range: ports are handed out in order from the range, skipping any that is in use.
 */
import { freePorts, portInUse } from "../../scripts/lib/wrangler-dev.mjs";

const spec =
  process.argv.find((a) => a.startsWith("--ports="))?.slice("--ports=".length) ?? process.env.BENCH_PORTS ?? "";
const range = /^(\d+)-(\d+)$/.exec(spec);
let next = range ? Number(range[1]) : 0;
const last = range ? Number(range[2]) : 0;

/**
 * `count` ports that are free now.
 * @param {number} count
 * @returns {Promise<number[]>}
 */
export async function takePorts(count) {
  if (!range) return freePorts(count);
  /** @type {number[]} */
  const ports = [];
  while (ports.length < count) {
    if (next > last) throw new Error(`no free port left in ${spec}`);
    const port = next++;
    if (!(await portInUse(port))) ports.push(port);
  }
  return ports;
}
