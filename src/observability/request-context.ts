/**
 * @module observability/request-context
 * What one request did, gathered while it runs: upstream calls and their latency, and the files
 * its harvest found. The code that knows these facts (upstream/fetch.ts, harvest/harvest.ts) sits
 * far below the route, so it reports into a per-request store instead of threading a context
 * object through every signature.
 *
 * The store is an `AsyncLocalStorage` (compatibility flag `nodejs_als`, see wrangler.toml;
 * https://developers.cloudflare.com/workers/runtime-apis/nodejs/asynclocalstorage/). Outside a
 * request (a Durable Object alarm, a test calling a helper directly) there is no store and every
 * `note…` call is a no-op.
 */
import { AsyncLocalStorage } from "node:async_hooks";

/** Counters of one request; all start at zero. */
export interface RequestMetrics {
  /** Calls made to the upstream. */
  upstreamCalls: number;
  /** Sum of the time until each upstream call answered (headers), in ms. */
  upstreamMs: number;
  /** Files the harvest reported (every manifest entry). */
  filesFound: number;
  /** Of those, already `stored` when the answer left. */
  filesStored: number;
  /** Of those, in a final state other than `stored` (failed, missing, lost, skipped, deleted). */
  filesFailed: number;
  /** Bytes of the stored files. */
  bytesCopied: number;
  /** Containers the answer's code interpreter calls ran in (the harvest tracks each). */
  containers: number;
  /** Download links the answer issued. */
  links: number;
}

const storage = new AsyncLocalStorage<RequestMetrics>();

/** A fresh, zeroed metrics record. */
export function newMetrics(): RequestMetrics {
  return {
    upstreamCalls: 0,
    upstreamMs: 0,
    filesFound: 0,
    filesStored: 0,
    filesFailed: 0,
    bytesCopied: 0,
    containers: 0,
    links: 0,
  };
}

/** Runs `fn` with `metrics` as the current request's store. */
export function withMetrics<T>(metrics: RequestMetrics, fn: () => T): T {
  return storage.run(metrics, fn);
}

/** Records one upstream call that answered after `ms`. */
export function noteUpstream(ms: number): void {
  const m = storage.getStore();
  if (!m) return;
  m.upstreamCalls += 1;
  m.upstreamMs += Math.max(0, Math.round(ms));
}

/**
 * Records the containers and issued links an answer's harvest found (before any copy waits). As
 * with files, the last report wins.
 */
export function noteHarvest(found: { containers: number; links: number }): void {
  const m = storage.getStore();
  if (!m) return;
  m.containers = found.containers;
  m.links = found.links;
}

/** The fields of a manifest entry the counters read. */
export interface NotedFile {
  state: string;
  bytes: number | null;
}

/**
 * Records the files an answer reports. The last report wins (a stream reports once at its end,
 * a plain answer once after its bounded wait), so re-reporting never double counts.
 */
export function noteFiles(files: readonly NotedFile[]): void {
  const m = storage.getStore();
  if (!m) return;
  Object.assign(m, countFiles(files));
}

/** Pure: found / stored / failed / bytes of a manifest. */
export function countFiles(
  files: readonly NotedFile[],
): Pick<RequestMetrics, "filesFound" | "filesStored" | "filesFailed" | "bytesCopied"> {
  let filesStored = 0;
  let filesFailed = 0;
  let bytesCopied = 0;
  for (const f of files) {
    if (f.state === "stored") {
      filesStored += 1;
      bytesCopied += f.bytes ?? 0;
    } else if (f.state !== "pending" && f.state !== "copying") {
      filesFailed += 1;
    }
  }
  return { filesFound: files.length, filesStored, filesFailed, bytesCopied };
}
