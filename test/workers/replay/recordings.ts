/**
 * The shape of the recorded real traffic the global setup loads (test/real-traffic.ts, in Node)
 * and provides to the workerd tests (`inject("realTraffic")`).
 */
export interface Recording {
  /** `<folder>/<file>` and, for files holding several exchanges, `#<n>`. */
  name: string;
  /** A plain answer: the Response body as served. */
  response?: Record<string, unknown>;
  /** A streamed answer: its events in order. */
  events?: Record<string, unknown>[];
}

export type RealTraffic = { recordings: Recording[] } | { absent: string };

declare module "vitest" {
  export interface ProvidedContext {
    realTraffic: RealTraffic;
  }
}
