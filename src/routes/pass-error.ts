/**
 * @module routes/pass-error
 * An upstream error answer goes to the client as upstream sent it: status, body and the headers
 * worth keeping (upstream/fetch.ts), so SDKs see OpenAI's own error shape and request id.
 */
import { keptResponseHeaders } from "../upstream/fetch";

/** The upstream's own error answer, passed through as it is (status, body and useful headers). */
export function passError(upstream: Response): Response {
  const headers = keptResponseHeaders(upstream.headers);
  return new Response(upstream.body, { status: upstream.status, headers });
}
