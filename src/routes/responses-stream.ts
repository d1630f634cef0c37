/**
 * @module routes/responses-stream
 * `stream: true`: upstream's events go out one for one, in order, with their own sequence
 * numbers (the SDK's `responses.stream()` throws on unknown event types and checks indices, so
 * nothing is invented, dropped or renumbered). Text deltas pass through the link engine's state
 * machine, which holds back only a possible link prefix and never past the next event.
 *
 * This module is the transport: SSE framing, the client connection and the request's
 * `waitUntil`. What each event means is the response pipeline's (harvest/pipeline.ts
 * `StreamSession`): it opens a container's tracker as soon as a tool call names it, so copies
 * start while the model is still talking, and the terminal event carries what the plain route
 * would return, with the `unsandbox.files` states of that moment. A client that goes away does
 * not stop the harvest: the response and its containers are handed to the trackers, which sweep
 * the listings.
 */
import type { Context } from "hono";
import type { AppEnv } from "../app";
import { errorFields, logEvent } from "../log";
import { AS_RECEIVED, TERMINAL_EVENTS, type StreamEvent, type StreamSession } from "../harvest/pipeline";
import { eventWithoutDomainSecrets } from "../upstream/domain-secrets";
import { keptResponseHeaders } from "../upstream/fetch";
import { SseParser, formatSse, type SseFrame } from "../upstream/sse";

const encoder = new TextEncoder();

export function streamResponse(c: Context<AppEnv>, upstream: Response, session: StreamSession): Response {
  return relay(c, upstream, session, -1);
}

/** A resumed background stream: re-read from the start, rewrite, drop events up to `startingAfter`. */
export function resumeStream(
  c: Context<AppEnv>,
  upstream: Response,
  session: StreamSession,
  startingAfter: number,
): Response {
  return relay(c, upstream, session, Number.isFinite(startingAfter) ? startingAfter : -1);
}

/**
 * Bytes the relay may queue for a slow client before it stops reading upstream (memory stays
 * bounded); reading upstream never waits for the client to take each event, only for room.
 */
const QUEUED_BYTES = 256 * 1024;

type Relayed = { type?: string; sequence_number?: number; response?: unknown };

/**
 * The relay itself. Its own stream work is what a pass-through would do plus one parse per
 * event: upstream's body is read directly and parsed with the SSE parser (no transform stream
 * between), and the client's body is a native `IdentityTransformStream`
 * (https://developers.cloudflare.com/workers/runtime-apis/streams/transformstream/#identitytransformstream),
 * which the runtime sends without a JavaScript hop per chunk.
 */
function relay(c: Context<AppEnv>, upstream: Response, session: StreamSession, dropThrough: number): Response {
  const { readable, writable } = new IdentityTransformStream({ highWaterMark: QUEUED_BYTES });
  const writer = writable.getWriter();
  let clientGone = false;
  const gone = () => {
    clientGone = true;
  };
  let bodyEnded!: () => void;
  c.set("bodyEnded", new Promise<void>((resolve) => (bodyEnded = resolve)));

  /**
   * The events of one upstream read go out in one write, as a pass-through forwards the chunk
   * they came in (one write per event cost the isolate a native stream write each: about 180 per
   * two-file turn). Nothing waits in the batch longer than its own chunk: it is flushed when the
   * chunk is done and before an event that may wait (the terminal one).
   */
  let batch = "";
  const send = (frame: SseFrame) => {
    if (!clientGone) batch += formatSse(frame);
  };
  const flush = async () => {
    if (clientGone || batch === "") return;
    const bytes = encoder.encode(batch);
    batch = "";
    writer.write(bytes).catch(gone);
    if ((writer.desiredSize ?? 1) <= 0) await writer.ready.catch(gone);
  };

  /**
   * Sends events in order. An event that comes back exactly as upstream sent it (the same object,
   * no Response inside to clean) goes out as upstream's own text: no second serialisation.
   */
  const emit = (events: Relayed[], as?: { event: Relayed; frame: SseFrame }) => {
    for (const e of events) {
      if (typeof e.sequence_number === "number" && e.sequence_number <= dropThrough) continue;
      if (as && e === as.event && e.response === undefined)
        send({ event: as.frame.event ?? e.type, data: as.frame.data });
      else send({ event: as?.frame.event ?? e.type, data: JSON.stringify(eventWithoutDomainSecrets(e)) });
    }
  };

  const relayFrame = async (frame: SseFrame) => {
    let event: StreamEvent;
    try {
      event = JSON.parse(frame.data) as StreamEvent;
    } catch {
      send(frame); // not JSON: not ours to judge, pass it on as it came
      return;
    }
    // The terminal event waits for its files: what came before it goes out first.
    if (event.type && TERMINAL_EVENTS.has(event.type)) await flush();
    const out = await session.push(event);
    if (out === AS_RECEIVED) emit([event], { event, frame });
    else emit(out, out.length === 1 && out[0] === event ? { event, frame } : undefined);
  };

  const work = (async () => {
    const reader = upstream.body!.getReader();
    const decoder = new TextDecoder("utf-8");
    const parser = new SseParser();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        const frames = done ? parser.push(decoder.decode()) : parser.push(decoder.decode(value, { stream: true }));
        for (const frame of frames) {
          if (clientGone && dropThrough < 0) break;
          await relayFrame(frame);
        }
        await flush();
        if (done || (clientGone && dropThrough < 0)) break;
      }
      emit(await session.end());
      await flush();
    } catch (err) {
      logEvent("error", "stream_relay_failed", {
        requestId: c.get("requestId"),
        tenant: c.get("tenant"),
        responseId: session.responseId,
        ...errorFields(err),
      });
    } finally {
      // The client has every event: the stream ends now, and the bookkeeping still under way
      // (index and tracker calls, a registration for a later turn's chain) finishes after it.
      if (!clientGone) await flush();
      if (!clientGone) await writer.close().catch(gone);
      if (clientGone) await writer.abort().catch(() => {});
      bodyEnded();
      await session.settle();
      if (clientGone) {
        await reader.cancel().catch(() => {});
        await session.handOff();
      }
    }
  })();
  c.executionCtx.waitUntil(work);

  const headers = keptResponseHeaders(upstream.headers);
  headers.set("content-type", "text/event-stream; charset=utf-8");
  headers.set("cache-control", "no-cache");
  return new Response(readable, { status: upstream.status, headers });
}
