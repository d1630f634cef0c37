// @ts-check
/**
 * @module bench/lib/context
 * What every case gets: the running processes and small helpers to call them.
 */

/**
 * @typedef {object} BenchContext
 * @property {import("./processes.mjs").Running & { apiKey: string, baseURL: string }} sim
 * @property {import("./processes.mjs").Running & { apiKey: string, baseURL: string }} unsandbox
 * @property {import("./processes.mjs").Running} r2writer
 * @property {import("./processes.mjs").Running} [anchor]  the bare pass-through (when a case needs it)
 * @property {import("./processes.mjs").Running} [copier]  the copy floor: the anchor plus the least work that stores the files (the concurrent case)
 * @property {import("./isolate-heap.mjs").Inspector} inspector  unsandbox's isolate
 * @property {(line: string) => void} log
 * @property {() => Promise<import("./processes.mjs").Running & { apiKey: string, baseURL: string, adminSecret: string }>} startMultiTenant
 *   a second unsandbox in multi-tenant mode, started on first use
 */

/** The model input that selects a simulator scenario (sim/README.md, "Scenarios"). */
export const directive = (/** @type {string} */ text, /** @type {string} */ line) => `${text}\nsim: ${line}`;

/** The code_interpreter tool with an auto container. */
export const TOOLS = [{ type: "code_interpreter", container: { type: "auto" } }];

/**
 * POSTs JSON and returns the status, the parsed body and the time to the whole answer.
 * @param {string} url
 * @param {string} key
 * @param {unknown} body
 * @param {Record<string, string>} [headers]
 * @returns {Promise<{ status: number, json: any, ms: number }>}
 */
export async function postJson(url, key, body, headers = {}) {
  const started = performance.now();
  const res = await fetch(url, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  const ms = performance.now() - started;
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json, ms };
}

/**
 * @param {string} url
 * @param {string} [key]
 * @returns {Promise<any>}
 */
export async function getJson(url, key) {
  const res = await fetch(url, key ? { headers: { authorization: `Bearer ${key}` } } : {});
  if (!res.ok) throw new Error(`GET ${url} answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
  return res.json();
}

/** @param {number} ms */
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The file states that no longer change (src/tracker/types.ts: only pending and copying do). */
export const SETTLED = new Set(["stored", "failed", "missing", "lost", "skipped", "deleted"]);

/**
 * Waits until every file of a response has settled (or `timeoutMs` passes), the way a client
 * should: the manifest route holds its answer (`x-unsandbox-wait-ms`) until the trackers report
 * the files settled, so the copy being measured does not share its workerd thread with a stream
 * of polls, and the moment it settles is seen within a round trip.
 * @param {BenchContext} ctx
 * @param {string} responseId
 * @param {{ everyMs?: number, timeoutMs?: number, expect?: number, baseURL?: string, headers?: Record<string, string> }} [o]
 *   `expect`: how many files must be listed before "all settled" counts (a file may be listed only
 *   once found); `everyMs`: the pause before asking again while fewer are listed; `baseURL` and
 *   `headers`: another unsandbox or caller (default: ctx.unsandbox with its secret key)
 * @returns {Promise<{ files: any[], settledAt: number, timedOut: boolean }>}  settledAt: performance.now()
 */
export async function waitSettled(ctx, responseId, o = {}) {
  const { everyMs = 50, timeoutMs = 300_000, expect = 1, baseURL = ctx.unsandbox.baseURL } = o;
  const headers = o.headers ?? { authorization: `Bearer ${ctx.unsandbox.apiKey}` };
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const waitMs = Math.max(0, Math.min(60_000, Math.round(deadline - performance.now())));
    const res = await fetch(`${baseURL}/responses/${responseId}/files`, {
      headers: { ...headers, "x-unsandbox-wait-ms": String(waitMs) },
    });
    if (!res.ok)
      throw new Error(`GET files of ${responseId} answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
    const files = /** @type {any[]} */ (/** @type {any} */ (await res.json()).data);
    const now = performance.now();
    if (files.length >= expect && files.every((f) => SETTLED.has(f.state)))
      return { files, settledAt: now, timedOut: false };
    if (now > deadline) return { files, settledAt: now, timedOut: true };
    // Everything listed has settled but not everything is listed yet (a sweep finds the rest).
    if (files.every((f) => SETTLED.has(f.state))) await sleep(everyMs);
  }
}
