/**
 * @module upstream/fetch
 * The one place that talks to the upstream (OpenAI, a compatible gateway, or the simulator).
 *
 * A proxy forwards bytes and headers, so this is plain `fetch` rather than the openai SDK: the
 * SDK would parse and re-serialize bodies, and it retries on its own, which for
 * `POST /v1/responses` would run the model again and create a second container.
 */
import type { Config } from "../config";

/** Request headers a client may send that the upstream should still see. */
const FORWARDED_REQUEST_HEADERS = ["content-type", "accept", "openai-beta", "idempotency-key", "x-stainless-helper-method"];

/** Upstream response headers kept on the way back (the SDK and apps read them). */
export function keptResponseHeaders(upstream: Headers): Headers {
  const out = new Headers();
  for (const [name, value] of upstream) {
    if (name === "x-request-id" || name.startsWith("x-ratelimit-") || name === "openai-processing-ms" || name === "retry-after" || name === "retry-after-ms" || name === "content-type") {
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

export function upstreamUrl(config: Config, path: string): string {
  return `${config.OPENAI_BASE_URL}${path}`;
}

export async function upstreamFetch(config: Config, req: UpstreamRequest): Promise<Response> {
  const headers = new Headers();
  for (const name of FORWARDED_REQUEST_HEADERS) {
    const value = req.headers?.get(name);
    if (value) headers.set(name, value);
  }
  headers.set("authorization", `Bearer ${config.OPENAI_API_KEY}`);
  return fetch(upstreamUrl(config, req.path), {
    method: req.method,
    headers,
    body: req.body ?? null,
    signal: req.signal,
  });
}

