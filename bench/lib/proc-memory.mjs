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
 * The pid of the `workerd` process descended from `ancestorPid`, or null while there is none yet.
 * @param {number} ancestorPid
 * @returns {number | null}
 */
export function findWorkerdPid(ancestorPid) {
  const table = processTable();
  for (const [pid, { comm }] of table) {
    if (comm !== "workerd") continue;
    for (let p = table.get(pid)?.ppid, hops = 0; p && hops < 20; p = table.get(p)?.ppid, hops++) {
      if (p === ancestorPid) return pid;
    }
  }
  return null;
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
