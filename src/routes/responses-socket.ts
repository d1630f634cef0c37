/**
 * @module routes/responses-socket
 * WebSocket mode of the Responses API: `GET /v1/responses` with `Upgrade: websocket`, where the
 * official SDK connects when an app uses Responses over a WebSocket (it derives
 * `wss://…/v1/responses` from `baseURL`; OpenAI API reference, "Responses WebSocket"). The client
 * sends `response.create` events (a `POST /v1/responses` body plus `type` and an optional
 * `stream_id` lane) and `response.steer`; the server answers with the events of the SSE stream,
 * one JSON text frame each, several responses one after the other on one socket.
 *
 * unsandbox accepts the client's socket, opens one to upstream (upstream/websocket.ts) and gives
 * each event the service of the HTTP route:
 * - each `response.create` passes the same checks as `POST /v1/responses` (the guard's body checks:
 *   widget policy and ownership, `checkResponsesCreate`; the body schema; the create limits), and
 *   goes upstream as the pipeline's `requestToForward` makes it (history restored, outputs
 *   requested, managed containers); a `response.steer` is checked for ownership and restored;
 * - upstream's events are fed, per lane and in order, to one pipeline `StreamSession` per response
 *   (trackers opened at the tool call, links rewritten, the terminal event harvested with
 *   `unsandbox.files`), and go out one for one with their own sequence numbers;
 * - owners of the ids the pipeline decoded are recorded before the event that reveals them goes
 *   out (the guard's `ownerRecorder` as the request's `onDecoded`);
 * - each response upstream runs is metered as one model request, like an accepted POST;
 * - a refused event is answered with the protocol's `error` event (`{type: "error", status, error:
 *   {type, code, message, param}, stream_id?}`) and the socket stays open, as upstream does.
 * A client that goes away hands the containers of its running responses to their trackers.
 */
import { Hono } from "hono";
import type { AppEnv } from "../app";
import { getCaller, type Caller } from "../auth/caller";
import { checkResponsesCreate, ownerRecorder } from "../auth/guard";
import { MAX_RESPONSES_BODY } from "../auth/install";
import { enforceCreateLimits, enforceLimits } from "../auth/limits";
import { badRequest, UnsandboxError } from "../errors";
import { featureOn } from "../harvest/features";
import {
  AS_RECEIVED,
  clientWantsOutputs,
  pipelineFor,
  requestToForward,
  TERMINAL_EVENTS,
  type StreamEvent,
  type StreamSession,
} from "../harvest/pipeline";
import { restoreInput } from "../harvest/restore";
import { parseCreateResponseBody } from "../schemas/create-response";
import { eventWithoutDomainSecrets } from "../upstream/domain-secrets";
import { keptResponseHeaders } from "../upstream/fetch";
import { meter } from "../metering/record";
import { openUpstreamSocket } from "../upstream/websocket";
import type { Context } from "hono";

export const responsesSocket = new Hono<AppEnv>();

type Obj = Record<string, unknown>;
type PipelineOptions = Parameters<typeof pipelineFor>[1];
type SocketEvent = StreamEvent & { stream_id?: unknown; error?: unknown };

/** A lane (`stream_id`, or none): the responses asked for in order, and the one streaming now. */
interface Lane {
  queue: { session: StreamSession; options: PipelineOptions }[];
  current?: StreamSession;
  /** The last response's options and id: an automatic successor (after a steer) continues it. */
  last?: { options: PipelineOptions; responseId?: string };
}

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** The protocol's `error` event for a refused client event (anything unexpected is a 500, never echoed). */
function errorEvent(err: unknown, streamId: string | undefined): Obj {
  let e: UnsandboxError;
  if (err instanceof UnsandboxError) e = err;
  else {
    console.error(JSON.stringify({ level: "error", msg: "websocket event failed", error: String(err) }));
    e = new UnsandboxError(500, "unsandbox hit an internal error handling this event", { type: "server_error" });
  }
  return { type: "error", status: e.status, error: e.toBody().error, ...(streamId ? { stream_id: streamId } : {}) };
}

/** Close codes a peer may send (1005, 1006 and 1015 are reserved for reporting). */
const closeCode = (code: number) =>
  code === 1000 || (code >= 3000 && code <= 4999) || (code >= 1001 && code <= 1014 && code !== 1005 && code !== 1006)
    ? code
    : 1000;

responsesSocket.get("/v1/responses", async (c, next) => {
  // Without an upgrade this is not WebSocket mode: the pass-through answers it as upstream does.
  if (c.req.header("upgrade")?.toLowerCase() !== "websocket") return next();
  const caller = getCaller(c);
  const upstream = await openUpstreamSocket(c.get("config"), c.req.raw.headers);
  if (upstream instanceof Response)
    return new Response(upstream.body, { status: upstream.status, headers: keptResponseHeaders(upstream.headers) });
  const recorder = ownerRecorder(c, caller);
  if (recorder) c.set("onDecoded", recorder);

  const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
  server.accept();
  const relay = new SocketRelay(c, caller, server, upstream);
  server.addEventListener("message", (m) => relay.fromClient(m.data));
  upstream.addEventListener("message", (m) => relay.fromUpstream(m.data));
  server.addEventListener("close", (e) => relay.closed("client", e.code, e.reason));
  upstream.addEventListener("close", (e) => relay.closed("upstream", e.code, e.reason));
  server.addEventListener("error", () => relay.closed("client", 1011, ""));
  upstream.addEventListener("error", () => relay.closed("upstream", 1011, ""));
  return new Response(null, { status: 101, webSocket: client });
});

class SocketRelay {
  readonly #lanes = new Map<string, Lane>();
  /** Client events are checked and sent in order; upstream events are relayed in order. */
  #fromClient: Promise<unknown> = Promise.resolve();
  #fromUpstream: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(
    readonly c: Context<AppEnv>,
    readonly caller: Caller,
    readonly client: WebSocket,
    readonly upstream: WebSocket,
  ) {}

  fromClient(data: unknown): void {
    this.#fromClient = this.#fromClient.then(() => this.#clientEvent(data));
    this.c.executionCtx.waitUntil(this.#fromClient);
  }

  fromUpstream(data: unknown): void {
    this.#fromUpstream = this.#fromUpstream
      .then(() => this.#upstreamEvent(data))
      .catch((err: unknown) =>
        console.error(JSON.stringify({ level: "error", msg: "websocket relay failed", error: String(err) })),
      );
    this.c.executionCtx.waitUntil(this.#fromUpstream);
  }

  /**
   * One side closed: close the other. When upstream closes, the client first gets every event
   * upstream sent before it; when the client goes away, its running responses' containers go to
   * their trackers.
   */
  closed(side: "client" | "upstream", code: number, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    const close = (socket: WebSocket) => {
      try {
        socket.close(closeCode(code), reason.slice(0, 120));
      } catch {}
    };
    if (side === "upstream") {
      this.c.executionCtx.waitUntil(this.#fromUpstream.then(() => close(this.client)));
      return;
    }
    close(this.upstream);
    const running = [...this.#lanes.values()].flatMap((lane) => (lane.current ? [lane.current] : []));
    this.c.executionCtx.waitUntil(
      this.#fromUpstream.then(() => Promise.all(running.map((s) => s.settle().then(() => s.handOff())))),
    );
  }

  #lane(key: string): Lane {
    let lane = this.#lanes.get(key);
    if (!lane) this.#lanes.set(key, (lane = { queue: [] }));
    return lane;
  }

  #send(events: unknown[]): void {
    for (const e of events) {
      try {
        this.client.send(JSON.stringify(isObj(e) ? eventWithoutDomainSecrets(e) : e));
      } catch {
        // The client is gone; `closed` hands the responses over.
      }
    }
  }

  async #clientEvent(data: unknown): Promise<void> {
    let streamId: string | undefined;
    try {
      if (typeof data !== "string")
        throw badRequest(
          "Binary messages are not supported; send each event as one JSON text message.",
          null,
          "invalid_message",
        );
      if (data.length > MAX_RESPONSES_BODY)
        throw new UnsandboxError(413, `The event is larger than ${MAX_RESPONSES_BODY} bytes.`, {
          code: "request_too_large",
        });
      let msg: unknown;
      try {
        msg = JSON.parse(data);
      } catch {
        throw badRequest(
          "We could not parse the JSON of your event. Each message must be one JSON object.",
          null,
          "invalid_json",
        );
      }
      if (!isObj(msg)) throw badRequest("An event must be a JSON object.", null, "invalid_type");
      streamId = typeof msg.stream_id === "string" ? msg.stream_id : undefined;
      if (msg.type === "response.create") await this.#create(msg, streamId);
      else if (msg.type === "response.steer") await this.#steer(msg);
      else
        throw badRequest(
          `Invalid value for 'type': '${String(msg.type).slice(0, 64)}'. Supported values are: 'response.create' and 'response.steer'.`,
          "type",
          "invalid_value",
        );
    } catch (err) {
      this.#send([errorEvent(err, streamId)]);
    }
  }

  /** A `response.create`: the checks of `POST /v1/responses`, then upstream with a session waiting for its events. */
  async #create(msg: Obj, streamId: string | undefined): Promise<void> {
    const { type, stream_id, ...raw } = msg;
    const { c, caller } = this;
    const checked = await checkResponsesCreate(c, caller, raw);
    const body = parseCreateResponseBody(checked);
    const ip = c.req.header("cf-connecting-ip") ?? "unknown";
    // Each create counts like a POST: the per-request limits, then a publishable key's daily ones.
    await enforceLimits(c.env, caller, ip, "create");
    await enforceCreateLimits(c.env, caller, ip);
    const forwarded = await requestToForward(c, checked as Obj, body);
    const options: PipelineOptions = {
      clientWantsOutputs: clientWantsOutputs(body.include),
      previousResponseId: body.previous_response_id ?? undefined,
      waitMs: 0,
      repair: featureOn(c, "repair"),
    };
    const pipeline = await pipelineFor(c, options);
    this.#lane(streamId ?? "").queue.push({ session: pipeline.stream(), options });
    this.upstream.send(JSON.stringify({ type, ...(stream_id !== undefined ? { stream_id } : {}), ...forwarded }));
  }

  /** A `response.steer`: its target and input ids must be the caller's; earlier unsandbox output in the input is restored. */
  async #steer(msg: Obj): Promise<void> {
    const { type, ...raw } = msg;
    await checkResponsesCreate(this.c, this.caller, raw);
    const restored = await restoreInput(this.c.env, this.c.get("config"), this.c.get("tenant"), raw);
    this.upstream.send(JSON.stringify({ type, ...restored }));
  }

  async #upstreamEvent(data: unknown): Promise<void> {
    if (typeof data !== "string") return;
    let event: SocketEvent;
    try {
      event = JSON.parse(data) as SocketEvent;
    } catch {
      this.client.send(data); // not JSON: not ours to judge
      return;
    }
    if (typeof event !== "object" || event === null || Array.isArray(event)) return this.#send([event]);
    const lane = this.#lanes.get(typeof event.stream_id === "string" ? event.stream_id : "");
    if (!lane) return this.#send([event]);
    if (!lane.current) {
      // An error before any response: upstream refused the oldest waiting create of this lane.
      if (event.type === "error") {
        lane.queue.shift();
        return this.#send([event]);
      }
      const next =
        lane.queue.shift() ?? (event.response?.id && lane.last ? await this.#successor(lane.last) : undefined);
      if (!next) return this.#send([event]);
      lane.current = next.session;
      lane.last = { options: next.options };
      // A response upstream runs counts like an accepted POST /v1/responses (metering/usage.ts).
      const done = meter(this.c.env, this.c.get("tenant"), { model_requests: 1 });
      if (done) this.c.executionCtx.waitUntil(done);
    }
    const session = lane.current;
    if (event.type === "error" && !session.responseId) {
      lane.current = undefined;
      return this.#send([event]);
    }
    const out = await session.push(event);
    this.#send(out === AS_RECEIVED ? [event] : out);
    if (event.type && TERMINAL_EVENTS.has(event.type)) {
      this.#send(await session.end());
      await session.settle();
      lane.last = { options: lane.last!.options, responseId: session.responseId };
      lane.current = undefined;
    }
  }

  /** A response upstream started on its own after a steer: it continues the lane's last one. */
  async #successor(last: NonNullable<Lane["last"]>): Promise<{ session: StreamSession; options: PipelineOptions }> {
    const options = { ...last.options, previousResponseId: last.responseId ?? last.options.previousResponseId };
    return { session: (await pipelineFor(this.c, options)).stream(), options };
  }
}
