/**
 * @module upstream/fetch
 * The one place that talks to the upstream (OpenAI, a compatible gateway, or the simulator).
 *
 * A proxy forwards bytes and headers, so this is plain `fetch` rather than the openai SDK: the
 * SDK would parse and re-serialize bodies, and it retries on its own, which for
 * `POST /v1/responses` would run the model again and create a second container.
 */
import type { Config } from "../config";
import { noteUpstream } from "../observability/request-context";

/** Request headers a client may send that the upstream should still see. */
const FORWARDED_REQUEST_HEADERS = [
  "content-type",
  "accept",
  "openai-beta",
  "idempotency-key",
  "x-stainless-helper-method",
];

/** Upstream response headers kept on the way back (the SDK and apps read them). */
export function keptResponseHeaders(upstream: Headers): Headers {
  const out = new Headers();
  for (const [name, value] of upstream) {
    if (
      name === "x-request-id" ||
      name.startsWith("x-ratelimit-") ||
      name === "openai-processing-ms" ||
      name === "retry-after" ||
      name === "retry-after-ms" ||
      name === "content-type"
    ) {
      out.set(name, value);
    }
  }
  return out;
}

export interface UpstreamRequest {
  method: string;
  /** Path below the base URL, starting with `/` (e.g. `/responses`), with its query string. */
  path: string;
  headers?: Headers;
  body?: BodyInit | null;
  signal?: AbortSignal;
}

/**
 * Where and how to reach the upstream. Every upstream call (the proxy's and the tracker's) goes
 * through `upstreamUrl` and `setUpstreamAuth`, so a gateway option applies to all of them.
 */
export interface UpstreamTarget {
  baseUrl: string;
  apiKey: string;
  /** `authorization` (Bearer, the default) or `api-key` (Azure-style gateways). */
  authHeader?: "authorization" | "api-key";
  /** Extra query parameters for every call (e.g. `api-version`). */
  query?: [string, string][];
}

/** The upstream target of a configuration (per caller: `authenticate` swaps in the caller's key). */
export function targetOf(
  config: Pick<Config, "OPENAI_BASE_URL" | "OPENAI_API_KEY" | "UPSTREAM_AUTH_HEADER" | "UPSTREAM_QUERY">,
): UpstreamTarget {
  return {
    baseUrl: config.OPENAI_BASE_URL,
    apiKey: config.OPENAI_API_KEY,
    authHeader: config.UPSTREAM_AUTH_HEADER,
    query: config.UPSTREAM_QUERY,
  };
}

/** `path` (below the base URL, with its own query) plus the configured extra query parameters. */
export function upstreamUrl(target: Config | UpstreamTarget, path: string): string {
  const t = "baseUrl" in target ? target : targetOf(target);
  const url = `${t.baseUrl}${path}`;
  if (!t.query?.length) return url;
  const parsed = new URL(url);
  // The caller's own value wins: a client that asks for another api-version gets it.
  for (const [k, v] of t.query) if (!parsed.searchParams.has(k)) parsed.searchParams.append(k, v);
  return parsed.href;
}

/** Sets the upstream credential in the configured header (and nothing else). */
export function setUpstreamAuth(headers: Headers, target: UpstreamTarget): Headers {
  if (target.authHeader === "api-key") headers.set("api-key", target.apiKey);
  else headers.set("authorization", `Bearer ${target.apiKey}`);
  return headers;
}

export async function upstreamFetch(config: Config, req: UpstreamRequest): Promise<Response> {
  const headers = new Headers();
  for (const name of FORWARDED_REQUEST_HEADERS) {
    const value = req.headers?.get(name);
    if (value) headers.set(name, value);
  }
  setUpstreamAuth(headers, targetOf(config));
  const started = Date.now();
  const res = await fetch(upstreamUrl(config, req.path), {
    method: req.method,
    headers,
    body: req.body ?? null,
    signal: req.signal,
  });
  noteUpstream(Date.now() - started);
  return res;
}
