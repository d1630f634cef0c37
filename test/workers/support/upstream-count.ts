/**
 * Counts the requests one call through the Worker sends upstream. The Worker's upstream client
 * uses the global `fetch`, which every test here shares with it (same isolate); the wrapper
 * counts only calls made inside `counted` (an AsyncLocalStorage scope), so Durable Object alarms
 * of earlier tests that happen to run meanwhile are not counted.
 */
import { AsyncLocalStorage } from "node:async_hooks";

const UPSTREAM = "https://api.openai.com/v1/";
const scope = new AsyncLocalStorage<string[]>();
let installed = false;

function install(): void {
  if (installed) return;
  installed = true;
  const original = globalThis.fetch;
  globalThis.fetch = ((input: RequestInfo | URL, init?: RequestInit) => {
    const seen = scope.getStore();
    const url = input instanceof Request ? input.url : String(input);
    if (seen && url.startsWith(UPSTREAM))
      seen.push(
        `${init?.method ?? (input instanceof Request ? input.method : "GET")} ${url.slice(UPSTREAM.length - 1)}`,
      );
    return original(input, init);
  }) as typeof fetch;
}

/** Runs `fn` and returns its result with the upstream requests it caused (`METHOD /path`). */
export async function counted<T>(fn: () => Promise<T>): Promise<{ result: T; upstream: string[] }> {
  install();
  const upstream: string[] = [];
  const result = await scope.run(upstream, fn);
  return { result, upstream };
}
