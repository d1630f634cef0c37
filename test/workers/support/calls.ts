/**
 * Counts calls to a Durable Object class's methods, wherever they come from (the Worker's fetch,
 * another object's alarm), by wrapping the methods on the class's prototype: the objects run in
 * this isolate, from the same modules as the tests. `restore()` puts the methods back.
 */
export interface CallCounter {
  /** Calls per method name since the counter was made or reset. */
  readonly calls: Record<string, number>;
  total(): number;
  reset(): void;
  /** The arguments of every call, in order. */
  readonly log: { method: string; args: unknown[] }[];
  /** Makes `method` throw (`times` calls, or until restored) before it runs, or after it ran (`when: "after"`: a lost answer). */
  fail(method: string, times?: number, when?: "before" | "after", match?: (args: unknown[]) => boolean): void;
  /** Holds every call of `method` until `release()` (an overloaded object that does not answer). */
  hold(method: string): void;
  release(): void;
  restore(): void;
}

export function countCalls(cls: { prototype: object }, methods: string[]): CallCounter {
  const proto = cls.prototype as Record<string, (...args: unknown[]) => unknown>;
  const originals = new Map(methods.map((m) => [m, proto[m]!]));
  const calls: Record<string, number> = {};
  const log: { method: string; args: unknown[] }[] = [];
  const failing = new Map<string, { left: number; when: "before" | "after"; match: (args: unknown[]) => boolean }>();
  const held = new Set<string>();
  let releaseHeld: () => void = () => {};
  let released = Promise.resolve();
  const takeFailure = (m: string, when: "before" | "after", args: unknown[]) => {
    const f = failing.get(m);
    if (!f || f.when !== when || f.left <= 0 || !f.match(args)) return false;
    f.left--;
    return true;
  };
  for (const [m, original] of originals) {
    proto[m] = async function (this: unknown, ...args: unknown[]) {
      calls[m] = (calls[m] ?? 0) + 1;
      log.push({ method: m, args });
      if (held.has(m)) await released;
      if (takeFailure(m, "before", args)) throw new Error(`${m}: injected failure`);
      const result = await original.apply(this, args);
      if (takeFailure(m, "after", args)) throw new Error(`${m}: injected failure after it ran`);
      return result;
    };
  }
  return {
    calls,
    log,
    hold: (m) => {
      if (held.size === 0) released = new Promise<void>((r) => (releaseHeld = r));
      held.add(m);
    },
    release: () => {
      held.clear();
      releaseHeld();
    },
    total: () => Object.values(calls).reduce((a, b) => a + b, 0),
    reset: () => {
      for (const k of Object.keys(calls)) delete calls[k];
      log.length = 0;
    },
    fail: (m, times = Number.POSITIVE_INFINITY, when = "before", match = () => true) =>
      void failing.set(m, { left: times, when, match }),
    restore: () => {
      releaseHeld();
      for (const [m, original] of originals) proto[m] = original;
    },
  };
}
