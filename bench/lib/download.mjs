// @ts-check
/**
 * @module bench/lib/download
 * Reads an HTTP body to its end without keeping it: counts the bytes and, when asked, hashes them
 * on the way. Used for the "plain download" leg of the copy ceiling and by the simulator memory test.
 */
import { createHash } from "node:crypto";

/**
 * @typedef {object} Downloaded
 * @property {number} status
 * @property {number} bytes      bytes of the (decoded) body
 * @property {string | null} sha256  hex digest, when `hash` was asked for
 * @property {number} ms         from the request to the last byte
 * @property {Headers} headers
 * @property {string | null} errorBody  the start of the body of a non-2xx answer (for messages)
 */

/**
 * @param {string} url
 * @param {{ headers?: Record<string, string>, hash?: boolean }} [options]
 * @returns {Promise<Downloaded>}
 */
export async function download(url, options = {}) {
  const started = performance.now();
  // `identity`: under wrangler dev the local proxy adds `Accept-Encoding: gzip` to a request
  // that names none (sim/README.md), and the simulator would then gzip the body.
  const res = await fetch(url, { headers: { "accept-encoding": "identity", ...options.headers } });
  if (!res.ok) {
    const errorBody = (await res.text()).slice(0, 500);
    return {
      status: res.status,
      bytes: 0,
      sha256: null,
      ms: performance.now() - started,
      headers: res.headers,
      errorBody,
    };
  }
  const hash = options.hash ? createHash("sha256") : null;
  let bytes = 0;
  if (res.body) {
    for await (const chunk of res.body) {
      bytes += chunk.byteLength;
      hash?.update(chunk);
    }
  }
  return {
    status: res.status,
    bytes,
    sha256: hash ? hash.digest("hex") : null,
    ms: performance.now() - started,
    headers: res.headers,
    errorBody: null,
  };
}
