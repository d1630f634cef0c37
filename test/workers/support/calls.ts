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
  /** Makes `method` throw (`times` calls, or until restored) before it runs. */
  fail(method: string, times?: number): void;
  restore(): void;
}

export function countCalls(cls: { prototype: object }, methods: string[]): CallCounter {
  const proto = cls.prototype as Record<string, (...args: unknown[]) => unknown>;
  const originals = new Map(methods.map((m) => [m, proto[m]!]));
  const calls: Record<string, number> = {};
  const failing = new Map<string, number>();
  for (const [m, original] of originals) {
    proto[m] = function (this: unknown, ...args: unknown[]) {
      calls[m] = (calls[m] ?? 0) + 1;
      const left = failing.get(m) ?? 0;
      if (left > 0) {
        failing.set(m, left - 1);
        throw new Error(`${m}: injected failure`);
      }
      return original.apply(this, args);
    };
  }
  return {
    calls,
    total: () => Object.values(calls).reduce((a, b) => a + b, 0),
    reset: () => {
      for (const k of Object.keys(calls)) delete calls[k];
    },
    fail: (m, times = Number.POSITIVE_INFINITY) => void failing.set(m, times),
    restore: () => {
      for (const [m, original] of originals) proto[m] = original;
    },
  };
}
