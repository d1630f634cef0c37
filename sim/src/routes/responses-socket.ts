/**
 * @module routes/responses-socket
 * WebSocket mode of the Responses API (OpenAI API reference, "Responses WebSocket":
 * `GET /v1/responses` with `Upgrade: websocket`; the official SDK derives `wss://…/v1/responses`
 * from its `baseURL`). The client sends `response.create` events (the body of `POST
 * /v1/responses` plus `type` and an optional `stream_id` lane; `stream` is implicit, `background`
 * is not supported); the server answers each with the same events as its SSE stream, in order and
 * with their own `sequence_number`s, each as one JSON text frame, echoing `stream_id`. Requests are
 * answered one after the other. A refused request is an `error` event (`{type, status, error:
 * {type, code, message, param}, stream_id?}`) and the socket stays open. `response.steer` is
 * modelled simply (SimSocket): accepted for the response streaming now, run by an automatic
 * successor when it completes (a real response may instead end early, `incomplete` with reason
 * `steered`).
 */
import { SimError } from "../errors";
import { buildEvents } from "../responses/events";
import { createResponse } from "../responses/engine";
import type { StoredResponse } from "../responses/store";
import { itemId } from "../ids";
import { state } from "../state";

type Send = (event: Record<string, unknown>) => void;

/** The `error` event of the WebSocket protocol for a refused client event. */
function errorEvent(err: SimError, streamId: string | undefined): Record<string, unknown> {
  return { type: "error", status: err.status, error: err.toBody().error, ...(streamId ? { stream_id: streamId } : {}) };
}

type Msg = Record<string, unknown>;

/** The JSON object of a client message. */
function parseEvent(data: unknown): Msg {
  if (typeof data !== "string")
    throw new SimError(400, "Binary messages are not supported; send JSON text events.", { code: "invalid_message" });
  let msg: unknown;
  try {
    msg = JSON.parse(data);
  } catch {
    throw new SimError(400, "We could not parse the JSON of your event.", { code: "invalid_json" });
  }
  if (typeof msg !== "object" || msg === null || Array.isArray(msg))
    throw new SimError(400, "An event must be a JSON object.", { code: "invalid_event" });
  return msg as Msg;
}

/** Steering input as input items (a string is one user message). */
const asItems = (input: unknown): unknown[] =>
  typeof input === "string" ? [{ role: "user", content: input }] : Array.isArray(input) ? input : [];

/** The response streaming now, its numbering, and the steering input accepted for it. */
interface Active {
  r: StoredResponse;
  steers: unknown[];
  emit(event: Msg): void;
}

/**
 * One client socket. `response.create` events are answered one after the other; a
 * `response.steer` is handled at once: input for the response streaming now is accepted
 * (`response.steer.accepted`, numbered in that stream) and, when that response completes, an
 * automatic successor runs it (`previous_response_id` = the steered response, its settings
 * inherited), streamed on the same lane; steering anything else is `response.steer.failed`.
 */
class SimSocket {
  #queue: Promise<void> = Promise.resolve();
  #active: Active | null = null;

  constructor(
    readonly org: string,
    readonly send: Send,
  ) {}

  message(data: unknown): void {
    let msg: Msg;
    try {
      msg = parseEvent(data);
    } catch (err) {
      if (!(err instanceof SimError)) throw err;
      return this.send(errorEvent(err, undefined));
    }
    if (msg.type === "response.steer") return this.#steer(msg);
    this.#queue = this.#queue
      .then(() => this.#create(msg))
      .catch((err) => console.error("sim: websocket event failed", err));
  }

  #steer(msg: Msg): void {
    const target = String(msg.previous_response_id ?? "");
    const active = this.#active;
    if (!active || active.r.id !== target) {
      const known = state.responses.has(target);
      this.send({
        type: "response.steer.failed",
        sequence_number: 0,
        error: {
          type: "invalid_request_error",
          code: known ? "response_already_completed" : "response_not_found",
          message: known
            ? "The response completed and is no longer accepting steering input."
            : "The target response is not available on this connection.",
        },
        steer: { previous_response_id: target, input: msg.input ?? null },
      });
      return;
    }
    active.steers.push(...asItems(msg.input));
    active.emit({
      type: "response.steer.accepted",
      steer: { id: itemId("msg").replace(/^msg_/, "steer_"), previous_response_id: target },
    });
  }

  async #create(msg: Msg): Promise<void> {
    const { type, stream_id, ...body } = msg;
    const streamId = typeof stream_id === "string" ? stream_id : undefined;
    try {
      if (type !== "response.create")
        throw new SimError(
          400,
          `Invalid value: '${String(type)}'. Supported values are: 'response.create' and 'response.steer'.`,
          { param: "type", code: "invalid_value" },
        );
      if (body.background === true)
        throw new SimError(400, "background is not supported over WebSocket.", {
          param: "background",
          code: "invalid_value",
        });
      await this.#stream(createResponse({ ...body, stream: true }, JSON.stringify(body), this.org), streamId);
    } catch (err) {
      if (!(err instanceof SimError)) throw err;
      this.send(errorEvent(err, streamId));
    }
  }

  /** Streams a response's events `pace_ms` apart, numbered as sent; then its successor, if it was steered. */
  async #stream(r: StoredResponse, streamId: string | undefined): Promise<void> {
    const events = buildEvents(r, {
      include: r.body.include ?? [],
      quirks: r.quirks,
      obfuscation: r.body.stream_options?.include_obfuscation ?? true,
    });
    const streamed: { type: string; sequence_number: number }[] = (r.streamed = []);
    const active: Active = {
      r,
      steers: [],
      emit: (e) => {
        const numbered = { ...e, type: String(e.type), sequence_number: streamed.length };
        streamed.push({ type: numbered.type, sequence_number: numbered.sequence_number });
        this.send(streamId ? { ...numbered, stream_id: streamId } : numbered);
      },
    };
    this.#active = active;
    for (const [i, e] of events.entries()) {
      if (r.pace_ms > 0 && i > 0) await new Promise((res) => setTimeout(res, r.pace_ms));
      active.emit(e);
    }
    this.#active = null;
    if (active.steers.length === 0) return;
    const { conversation: _, ...settings } = r.body;
    const body = { ...settings, stream: true, previous_response_id: r.id, input: active.steers };
    await this.#stream(createResponse(body, JSON.stringify(body), this.org), streamId);
  }
}

/** `GET /v1/responses` with `Upgrade: websocket`, for `org` (the caller's key's organisation). */
export function responsesSocket(upgrade: string | undefined, org: string): Response {
  if (upgrade?.toLowerCase() !== "websocket")
    throw new SimError(404, `Invalid URL (GET /v1/responses)`, { code: null });
  const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
  server.accept();
  const socket = new SimSocket(org, (event) => {
    try {
      server.send(JSON.stringify(event));
    } catch {
      // The client went away; the rest of this response is dropped.
    }
  });
  server.addEventListener("message", (m) => socket.message(m.data));
  server.addEventListener("close", (e) => {
    try {
      server.close(e.code === 1005 ? 1000 : e.code, e.reason);
    } catch {}
  });
  return new Response(null, { status: 101, webSocket: client });
}
