/**
 * @module routes/responses-socket
 * WebSocket mode of the Responses API (OpenAI API reference, "Responses WebSocket":
 * `GET /v1/responses` with `Upgrade: websocket`; the official SDK derives `wss://…/v1/responses`
 * from its `baseURL`). The client sends `response.create` events (the body of `POST
 * /v1/responses` plus `type` and an optional `stream_id` lane; `stream` is implicit, `background`
 * is not supported); the server answers each with the same events as its SSE stream, in order and
 * with their own `sequence_number`s, each as one JSON text frame, echoing `stream_id`. Requests are
 * answered one after the other. A refused request is an `error` event (`{type, status, error:
 * {type, code, message, param}, stream_id?}`) and the socket stays open. `response.steer` is not
 * modelled: it is refused as an unsupported event.
 */
import { SimError } from "../errors";
import { buildEvents } from "../responses/events";
import { createResponse } from "../responses/engine";

type Send = (event: Record<string, unknown>) => void;

/** The `error` event of the WebSocket protocol for a refused client event. */
function errorEvent(err: SimError, streamId: string | undefined): Record<string, unknown> {
  return { type: "error", status: err.status, error: err.toBody().error, ...(streamId ? { stream_id: streamId } : {}) };
}

/** Answers one client event: the response's events in order, `pace_ms` apart, or an `error` event. */
async function answer(data: unknown, org: string, send: Send): Promise<void> {
  let streamId: string | undefined;
  try {
    if (typeof data !== "string") throw new SimError(400, "Binary messages are not supported; send JSON text events.", { code: "invalid_message" });
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(data) as Record<string, unknown>;
    } catch {
      throw new SimError(400, "We could not parse the JSON of your event.", { code: "invalid_json" });
    }
    if (typeof msg !== "object" || msg === null || Array.isArray(msg)) throw new SimError(400, "An event must be a JSON object.", { code: "invalid_event" });
    const { type, stream_id, ...body } = msg;
    streamId = typeof stream_id === "string" ? stream_id : undefined;
    if (type !== "response.create") throw new SimError(400, `Invalid value: '${String(type)}'. Supported values are: 'response.create'.`, { param: "type", code: "invalid_value" });
    if (body.background === true) throw new SimError(400, "background is not supported over WebSocket.", { param: "background", code: "invalid_value" });
    const text = JSON.stringify(body);
    const r = createResponse({ ...body, stream: true }, text, org);
    const events = buildEvents(r, { include: r.body.include ?? [], quirks: r.quirks, obfuscation: r.body.stream_options?.include_obfuscation ?? true });
    r.streamed = events.map((e) => ({ type: e.type, sequence_number: e.sequence_number }));
    for (const [i, e] of events.entries()) {
      if (r.pace_ms > 0 && i > 0) await new Promise((res) => setTimeout(res, r.pace_ms));
      send(streamId ? { ...e, stream_id: streamId } : e);
    }
  } catch (err) {
    if (!(err instanceof SimError)) throw err;
    send(errorEvent(err, streamId));
  }
}

/** `GET /v1/responses` with `Upgrade: websocket`, for `org` (the caller's key's organisation). */
export function responsesSocket(upgrade: string | undefined, org: string): Response {
  if (upgrade?.toLowerCase() !== "websocket") throw new SimError(404, `Invalid URL (GET /v1/responses)`, { code: null });
  const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
  server.accept();
  const send: Send = (event) => {
    try {
      server.send(JSON.stringify(event));
    } catch {
      // The client went away; the rest of this response is dropped.
    }
  };
  let queue = Promise.resolve();
  server.addEventListener("message", (m) => {
    queue = queue.then(() => answer(m.data, org, send)).catch((err) => console.error("sim: websocket event failed", err));
  });
  server.addEventListener("close", (e) => {
    try {
      server.close(e.code === 1005 ? 1000 : e.code, e.reason);
    } catch {}
  });
  return new Response(null, { status: 101, webSocket: client });
}
