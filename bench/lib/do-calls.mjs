// @ts-check
/**
 * @module bench/lib/do-calls
 * Counts Durable Object calls inside a running `wrangler dev`, from outside and without a line of
 * production code: through the isolate's devtools inspector, a conditional breakpoint at the start
 * of every method of every Durable Object class in unsandbox's bundle. The condition bumps a
 * counter in the isolate's global scope (per `Class.method`, and per `Class` and object name) and
 * answers false, so nothing ever pauses. The Worker and its Durable Objects run in one isolate
 * under `wrangler dev` (bench/lib/isolate-heap.mjs), so one set of breakpoints sees every call,
 * from a request or from another object's alarm. The tests count the same thing by wrapping the
 * classes' prototypes (test/workers/budgets/counting.ts); here that is out of reach, the classes
 * being module-scoped inside the bundle.
 *
 * What counts: each entry into a method of the class body (RPC methods, `alarm`, `fetch`), the
 * constructor and `#private` methods left out. A method an object calls on itself (`this.x()`)
 * would count too: `selfCalls` names every method some method of its class calls on `this`, so a
 * report can say whether any figure includes such calls.
 *
 * Cost: a breakpoint's condition runs only when its method runs, so an isolate that makes no
 * Durable Object call pays nothing; each call pays one condition evaluation (tens of µs). Cases
 * that measure latency install no breakpoints.
 */

/**
 * @typedef {object} MethodSite
 * @property {string} cls
 * @property {string} method
 * @property {number} line    0-based, in the bundle
 * @property {number} column  0-based: just inside the method's `{`
 */

/**
 * The methods of every `class extends DurableObject…` in an esbuild bundle (esbuild prints class
 * members at two spaces of indentation, one per line, and ends the class with `};` at column 0).
 * Pure.
 * @param {string} source
 * @returns {{ sites: MethodSite[], selfCalls: string[] }}
 */
export function durableObjectMethods(source) {
  const lines = source.split("\n");
  /** @type {MethodSite[]} */
  const sites = [];
  /** @type {string[]} */
  const selfCalls = [];
  for (let i = 0; i < lines.length; i++) {
    const head = /^var (\w+) = class extends DurableObject\d* \{$/.exec(/** @type {string} */ (lines[i]));
    if (!head) continue;
    const cls = /** @type {string} */ (head[1]);
    /** @type {string[]} */
    const methods = [];
    let j = i + 1;
    for (; j < lines.length && lines[j] !== "};"; j++) {
      const line = /** @type {string} */ (lines[j]);
      const m = /^ {2}(?:static )?(?:async )?\*?([A-Za-z_$][\w$]*)\(.*\{$/.exec(line);
      if (!m || m[1] === "constructor") continue;
      methods.push(/** @type {string} */ (m[1]));
      sites.push({ cls, method: /** @type {string} */ (m[1]), line: j, column: line.length });
    }
    const body = lines.slice(i + 1, j).join("\n");
    for (const method of methods)
      if (new RegExp(`this\\.${method.replace(/\$/g, "\\$")}\\(`).test(body)) selfCalls.push(`${cls}.${method}`);
    i = j;
  }
  return { sites, selfCalls };
}

/** What the breakpoints log, and how the bench recognises it among other console output. */
const MARK = "__bench_do_call";

/**
 * The condition of one breakpoint: logs the call (class, method, the object's name or hex id, and
 * whether the method was entered from outside the object: nothing but native frames below it),
 * then answers false, so nothing pauses. workerd gives the inspector no execution context between
 * requests, so counts cannot be read back with `Runtime.evaluate`; the log messages arrive as
 * `Runtime.consoleAPICalled` events instead, as a devtools logpoint's do.
 * @param {string} cls
 * @param {string} method
 */
const condition = (cls, method) =>
  `(() => { try { let n = "?"; try { n = this.ctx.id.name ?? this.ctx.id.toString(); } catch {} ` +
  `const st = String(new Error().stack).split("\\n"); ` +
  `const i = st.findIndex((l) => l.includes(${JSON.stringify(`.${method} (`)})); ` +
  `const entry = i >= 0 && !st.slice(i + 1).some((l) => /^\\s+at /.test(l)); ` +
  `console.debug(${JSON.stringify(MARK)}, ${JSON.stringify(cls)}, ${JSON.stringify(method)}, String(n), entry); } catch {} return false; })()`;

/**
 * @typedef {object} Tally
 * @property {Record<string, number>} methods  calls per `Class.method` (entries from outside the object)
 * @property {Record<string, number>} objects  the same per `Class:name` (the object's name, or its hex id)
 * @property {Record<string, number>} internal calls per `Class.method` an object made on itself
 */

/**
 * @typedef {object} CallCounter
 * @property {() => Promise<Tally>} read  the counts since the breakpoints were set (after the
 *   log messages in flight have arrived)
 * @property {string[]} selfCalls  `Class.method`s some method of the same class calls on `this`
 * @property {number} sites  how many methods carry a breakpoint
 * @property {() => Promise<void>} stop  removes the breakpoints and detaches the debugger
 */

/**
 * Sets the counting breakpoints in the unsandbox isolate behind `inspector`.
 * @param {import("./isolate-heap.mjs").Inspector} inspector
 * @returns {Promise<CallCounter>}
 */
export async function countDurableObjectCalls(inspector) {
  /** @type {{ scriptId: string, url: string }[]} */
  const scripts = [];
  const offScripts = inspector.on("Debugger.scriptParsed", (p) => scripts.push({ scriptId: p.scriptId, url: p.url }));
  await inspector.send("Debugger.enable");
  offScripts();
  /** @type {{ scriptId: string, sites: MethodSite[], selfCalls: string[] } | undefined} */
  let found;
  for (const s of scripts) {
    if (!s.url || s.url.startsWith("node:") || s.url.startsWith("cloudflare:")) continue;
    const { scriptSource } = await inspector.send("Debugger.getScriptSource", { scriptId: s.scriptId });
    if (!String(scriptSource).includes("extends DurableObject")) continue;
    const parsed = durableObjectMethods(String(scriptSource));
    if (parsed.sites.length && (!found || parsed.sites.length > found.sites.length))
      found = { scriptId: s.scriptId, ...parsed };
  }
  if (!found) {
    await inspector.send("Debugger.disable");
    throw new Error(`no Durable Object class found in the isolate's ${scripts.length} scripts`);
  }
  /** @type {Tally} */
  const tally = { methods: {}, objects: {}, internal: {} };
  let lastAt = performance.now();
  const bump = (/** @type {Record<string, number>} */ m, /** @type {string} */ k) => (m[k] = (m[k] ?? 0) + 1);
  const offLog = inspector.on("Runtime.consoleAPICalled", (p) => {
    const [mark, cls, method, name, entry] = (p.args ?? []).map((/** @type {any} */ a) => a.value);
    if (mark !== MARK) return;
    lastAt = performance.now();
    if (!entry) return void bump(tally.internal, `${cls}.${method}`);
    bump(tally.methods, `${cls}.${method}`);
    bump(tally.objects, `${cls}:${name}`);
  });
  await inspector.send("Runtime.enable");
  /** @type {string[]} */
  const ids = [];
  for (const site of found.sites) {
    const r = await inspector.send("Debugger.setBreakpoint", {
      location: { scriptId: found.scriptId, lineNumber: site.line, columnNumber: site.column },
      condition: condition(site.cls, site.method),
    });
    ids.push(r.breakpointId);
  }
  return {
    selfCalls: found.selfCalls,
    sites: found.sites.length,
    async read() {
      // Messages trail the calls by the inspector's round trip: wait until none came for 300 ms.
      while (performance.now() - lastAt < 300) await new Promise((r) => setTimeout(r, 100));
      return structuredClone(tally);
    },
    async stop() {
      for (const breakpointId of ids) await inspector.send("Debugger.removeBreakpoint", { breakpointId });
      await inspector.send("Debugger.disable");
      await inspector.send("Runtime.disable");
      offLog();
    },
  };
}

/**
 * `b − a` per key, zeros left out. Pure.
 * @param {Tally} b
 * @param {Tally} a
 * @returns {Tally}
 */
export function tallyMinus(b, a) {
  /** @param {Record<string, number>} x @param {Record<string, number>} y */
  const diff = (x, y) =>
    Object.fromEntries(
      Object.entries(x)
        .map(([k, v]) => /** @type {[string, number]} */ ([k, v - (y[k] ?? 0)]))
        .filter(([, v]) => v !== 0),
    );
  return {
    methods: diff(b.methods, a.methods),
    objects: diff(b.objects, a.objects),
    internal: diff(b.internal, a.internal),
  };
}

/**
 * Calls per class (summed over methods). Pure.
 * @param {Tally} t
 * @returns {Record<string, number>}
 */
export function perClass(t) {
  /** @type {Record<string, number>} */
  const out = {};
  for (const [k, v] of Object.entries(t.methods)) {
    const cls = /** @type {string} */ (k.split(".")[0]);
    out[cls] = (out[cls] ?? 0) + v;
  }
  return out;
}
