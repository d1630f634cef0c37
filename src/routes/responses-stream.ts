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
import { AS_RECEIVED, type StreamEvent, type StreamSession } from "../harvest/pipeline";
import { eventWithoutDomainSecrets } from "../upstream/domain-secrets";
import { keptResponseHeaders } from "../upstream/fetch";
import { SseDecoder, encodeSse, type SseFrame } from "../upstream/sse";

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

function relay(c: Context<AppEnv>, upstream: Response, session: StreamSession, dropThrough: number): Response {
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const writer = writable.getWriter();
  let clientGone = false;

  const send = async (frame: SseFrame) => {
    if (clientGone) return;
    try {
      await writer.write(encodeSse(frame));
    } catch {
      clientGone = true;
    }
  };

  const emit = async (
    events: { type?: string; sequence_number?: number; response?: unknown }[],
    frameName?: string,
  ) => {
    for (const e of events) {
      if (typeof e.sequence_number === "number" && e.sequence_number <= dropThrough) continue;
      await send({ event: frameName ?? e.type, data: JSON.stringify(eventWithoutDomainSecrets(e)) });
    }
  };

  const work = (async () => {
    const reader = upstream.body!.pipeThrough(new SseDecoder()).getReader();
    try {
      for (;;) {
        const { value: frame, done } = await reader.read();
        if (done) break;
        if (clientGone && dropThrough < 0) break;
        let event: StreamEvent;
        try {
          event = JSON.parse(frame.data) as StreamEvent;
        } catch {
          await send(frame); // not JSON: not ours to judge, pass it on as it came
          continue;
        }
        const out = await session.push(event);
        if (out === AS_RECEIVED) await emit([event], frame.event);
        else await emit(out);
      }
      await emit(await session.end());
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
      if (!clientGone) await writer.close().catch(() => {});
      await session.settle();
      if (clientGone) {
        await reader.cancel().catch(() => {});
        await session.handOff();
        await writer.close().catch(() => {});
      }
    }
  })();
  c.executionCtx.waitUntil(work);

  const headers = keptResponseHeaders(upstream.headers);
  headers.set("content-type", "text/event-stream; charset=utf-8");
  headers.set("cache-control", "no-cache");
  return new Response(readable, { status: upstream.status, headers });
}
