/**
 * @module upstream/websocket
 * The upstream leg of WebSocket mode: `GET /responses` with `Upgrade: websocket` to the same base
 * URL, key and extra query as every other upstream call (upstream/fetch.ts). Workers open an
 * outbound WebSocket with `fetch` and the `Upgrade` header; the answer carries the socket
 * (https://developers.cloudflare.com/workers/examples/websockets/#write-a-websocket-client).
 */
import type { Config } from "../config";
import { setUpstreamAuth, targetOf, upstreamUrl } from "./fetch";

/** Request headers of the client's upgrade that upstream should still see. */
const FORWARDED_UPGRADE_HEADERS = ["openai-beta"];

/**
 * Opens the upstream socket (accepted, ready to send), or returns upstream's refusal as it came
 * (a 401 for a bad key, a 404 where the upstream has no WebSocket mode).
 */
export async function openUpstreamSocket(config: Config, clientHeaders: Headers): Promise<WebSocket | Response> {
  const headers = new Headers({ upgrade: "websocket" });
  for (const name of FORWARDED_UPGRADE_HEADERS) {
    const value = clientHeaders.get(name);
    if (value) headers.set(name, value);
  }
  setUpstreamAuth(headers, targetOf(config));
  const res = await fetch(upstreamUrl(config, "/responses"), { headers });
  if (res.status !== 101 || !res.webSocket) return res;
  res.webSocket.accept();
  return res.webSocket;
}
