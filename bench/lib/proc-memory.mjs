// @ts-check
/**
 * @module bench/lib/proc-memory
 * Resident memory of the workerd process behind a `wrangler dev`, read from `/proc` (Linux only).
 *
 * Why the child and not the wrangler pid: wrangler is a Node process that starts workerd as a
 * descendant (shared/reference/cloudflare-platform.md, "Stopping wrangler dev"); the Worker's
 * isolates, its streams and local R2's I/O buffers all live in workerd, so that is the process
 * whose growth says whether a copy buffered.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";

/**
 * The parent pid and command name of every process, from `/proc/<pid>/stat`.
 * @returns {Map<number, { ppid: number, comm: string }>}
 */
function processTable() {
  /** @type {Map<number, { ppid: number, comm: string }>} */
  const table = new Map();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      // `pid (comm) state ppid …`; comm may itself contain spaces or parentheses.
      const open = stat.indexOf("(");
      const close = stat.lastIndexOf(")");
      const rest = stat.slice(close + 2).split(" ");
      table.set(Number(name), { comm: stat.slice(open + 1, close), ppid: Number(rest[1]) });
    } catch {
      // The process ended while the table was read.
    }
  }
  return table;
}

/**
 * The pid of the `workerd` process that runs the Worker under a `wrangler dev` (a descendant of
 * `ancestorPid`), or null while there is none yet.
 *
 * `wrangler dev` runs two workerd processes: one for its own proxy, which owns the public port
 * (`--socket-addr=entry=127.0.0.1:<port>`) and forwards each request, and one for the Worker
 * itself, which listens on a port of its own and is the one started with `--inspector-addr`.
 * The Worker's is the one measured.
 * @param {number} ancestorPid
 * @returns {number | null}
 */
export function findWorkerdPid(ancestorPid) {
  const table = processTable();
  /** @type {number[]} */
  const found = [];
  for (const [pid, { comm }] of table) {
    if (comm !== "workerd") continue;
    for (let p = table.get(pid)?.ppid, hops = 0; p && hops < 20; p = table.get(p)?.ppid, hops++) {
      if (p === ancestorPid) {
        found.push(pid);
        break;
      }
    }
  }
  const withInspector = found.filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, "utf8")
        .split("\0")
        .some((arg) => arg.startsWith("--inspector-addr"));
    } catch {
      return false;
    }
  });
  return withInspector.length === 1 ? /** @type {number} */ (withInspector[0]) : null;
}

/**
 * A `kB` line of `/proc/<pid>/status` (`VmRSS`, `VmHWM`), in bytes.
 * @param {number} pid
 * @param {"VmRSS" | "VmHWM"} field
 * @returns {number}
 */
export function statusBytes(pid, field) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status);
  if (!m) throw new Error(`/proc/${pid}/status has no ${field}`);
  return Number(m[1]) * 1024;
}

/**
 * Resets the kernel's peak-RSS mark (`VmHWM`) of a process we own (`echo 5 > clear_refs`,
 * proc(5)), so the next `VmHWM` read is the peak since now. Returns false where that is refused.
 * @param {number} pid
 * @returns {boolean}
 */
export function resetPeak(pid) {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}

/**
 * @typedef {object} MemoryWindow
 * @property {number} before   VmRSS when the window opened (bytes)
 * @property {number} peak     the highest resident size seen until it closed (bytes)
 * @property {number} growth   peak − before (bytes)
 * @property {number} samples  how many VmRSS samples were taken
 * @property {boolean} kernelPeak  whether `peak` includes the kernel's own mark (VmHWM after a reset)
 */

/**
 * Watches a process's resident memory from now until `stop()`: samples VmRSS every `everyMs`
 * and, where the kernel lets us reset it, also reads VmHWM at the end, which catches a peak that
 * fell between two samples.
 * @param {number} pid
 * @param {number} [everyMs]
 * @returns {{ stop(): MemoryWindow }}
 */
export function watchMemory(pid, everyMs = 20) {
  const before = statusBytes(pid, "VmRSS");
  const kernelPeak = resetPeak(pid);
  let peak = before;
  let samples = 1;
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, statusBytes(pid, "VmRSS"));
      samples++;
    } catch {
      // The process is gone; the window closes with what was seen.
    }
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      try {
        peak = Math.max(peak, statusBytes(pid, "VmRSS"));
        if (kernelPeak) peak = Math.max(peak, statusBytes(pid, "VmHWM"));
      } catch {}
      return { before, peak, growth: peak - before, samples, kernelPeak };
    },
  };
}

/** Bytes as MiB with one decimal. @param {number} bytes */
export const mib = (bytes) => Math.round((bytes / 1048576) * 10) / 10;

/**
 * CPU time (user + system) a process has used so far, in seconds, from `/proc/<pid>/stat`
 * (fields 14 and 15, in clock ticks of 1/100 s on Linux). The difference over a window says how
 * busy the process was: near the window's length means one core was saturated.
 * @param {number} pid
 * @returns {number}
 */
export function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // rest[0] is field 3 (state), so field n is rest[n - 3].
  return (Number(rest[11]) + Number(rest[12])) / 100;
}

/**
 * CPU seconds used so far by `rootPid` and every live descendant (a whole `wrangler dev`: its
 * Node process, which also receives every console line of the Worker through the inspector, the
 * proxy workerd and the Worker's workerd).
 * @param {number} rootPid
 * @returns {number}
 */
export function treeCpuSeconds(rootPid) {
  const table = processTable();
  let sum = 0;
  for (const pid of table.keys()) {
    let p = /** @type {number | undefined} */ (pid);
    for (let hops = 0; p && hops < 20 && p !== rootPid; hops++) p = table.get(p)?.ppid;
    if (p !== rootPid) continue;
    try {
      sum += cpuSeconds(pid);
    } catch {
      // It ended meanwhile.
    }
  }
  return sum;
}
