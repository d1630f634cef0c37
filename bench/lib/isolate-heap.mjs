// @ts-check
/**
 * @module bench/lib/isolate-heap
 * The Worker isolate's own memory, read through `wrangler dev`'s devtools inspector (Chrome
 * DevTools Protocol, `Runtime.getHeapUsage`): the V8 heap plus `backingStorageSize`, the
 * ArrayBuffer backing stores where byte buffers (such as a copy's part buffers) live.
 *
 * Why besides the process RSS: under `wrangler dev` the workerd process also runs local R2
 * (objects are written through it to disk), so its RSS grows with a put whatever the Worker
 * does; the isolate's figure is the part the Worker's 128 MB limit is about. Durable Objects of
 * the same script run in the same isolate locally, so a copy driven by a tracker's alarm shows here.
 */

/**
 * @typedef {object} HeapSample
 * @property {number} used     V8 heap in use (bytes)
 * @property {number} backing  ArrayBuffer backing stores (bytes)
 */

/**
 * @typedef {object} Inspector
 * @property {() => Promise<HeapSample>} sample
 * @property {(method: string, params?: object) => Promise<any>} send  a CDP command; resolves with its `result`
 * @property {(method: string, listener: (params: any) => void) => () => void} on  CDP events; returns "off"
 * @property {() => void} close
 */

/**
 * Connects to the inspector of a `wrangler dev` (one connection per process: wrangler's proxy
 * serves one devtools client, so every user of the isolate's inspector shares this one).
 * @param {number} inspectorPort
 * @returns {Promise<Inspector>}
 */
export async function connectInspector(inspectorPort) {
  const targets = /** @type {{ webSocketDebuggerUrl: string }[]} */ (
    await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json()
  );
  const url = targets[0]?.webSocketDebuggerUrl;
  if (!url) throw new Error(`no inspector target on port ${inspectorPort}`);
  // wrangler's inspector proxy only accepts the devtools origin (or none, from a browser tab).
  const ws = new WebSocket(
    url,
    /** @type {any} */ ({ headers: { origin: "https://devtools.devprod.cloudflare.dev" } }),
  );
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  let id = 0;
  /** @type {Map<number, (m: any) => void>} */
  const pending = new Map();
  /** @type {Map<string, Set<(params: any) => void>>} */
  const listeners = new Map();
  ws.onmessage = (e) => {
    const m = JSON.parse(String(e.data));
    if (m.id === undefined) {
      for (const l of listeners.get(m.method) ?? []) l(m.params);
      return;
    }
    pending.get(m.id)?.(m);
    pending.delete(m.id);
  };
  /** @type {Inspector["send"]} */
  const send = (method, params = {}) =>
    new Promise((resolve, reject) => {
      const i = ++id;
      pending.set(i, (m) => (m.error ? reject(new Error(`${method}: ${m.error.message}`)) : resolve(m.result)));
      ws.send(JSON.stringify({ id: i, method, params }));
    });
  return {
    async sample() {
      const r = await send("Runtime.getHeapUsage");
      return { used: r?.usedSize ?? NaN, backing: r?.backingStorageSize ?? 0 };
    },
    send,
    on(method, listener) {
      const set = listeners.get(method) ?? new Set();
      listeners.set(method, set);
      set.add(listener);
      return () => set.delete(listener);
    },
    close: () => ws.close(),
  };
}

/**
 * Samples `used + backing` every `everyMs` until `stop()`.
 * @param {{ sample(): Promise<HeapSample> }} inspector
 * @param {number} [everyMs]
 */
export async function watchHeap(inspector, everyMs = 50) {
  const first = await inspector.sample();
  const before = first.used + first.backing;
  let peak = before;
  let samples = 1;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      await new Promise((r) => setTimeout(r, everyMs));
      const s = await inspector.sample();
      peak = Math.max(peak, s.used + s.backing);
      samples++;
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return { before, peak, growth: peak - before, samples };
    },
  };
}
