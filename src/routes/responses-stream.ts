/**
 * @module routes/responses-stream
 * `stream: true`: upstream's events go out one for one, in order, with their own sequence
 * numbers (the SDK's `responses.stream()` throws on unknown event types and checks indices, so
 * nothing is invented, dropped or renumbered). Text deltas pass through the link engine's state
 * machine, which holds back only a possible link prefix and never past the next event.
 *
 * As soon as a tool call names its container, the tracker is told, so copies start while the
 * model is still talking. The terminal event carries what the plain route would return, with the
 * `unsandbox.files` states of that moment. A client that goes away does not stop the harvest:
 * the response and its containers are handed to the trackers, which sweep the listings.
 */
import type { Context } from "hono";
import type { AppEnv } from "../app";
import { harvest, type HarvestOptions } from "../harvest/harvest";
import { linkExpiry, namingFor } from "../harvest/naming";
import type { LinkNaming } from "../links/naming";
import { StreamRewriter } from "../links/stream-rewriter";
import { SseDecoder, encodeSse, type SseFrame } from "../upstream/sse";
import { eventWithoutDomainSecrets } from "../upstream/domain-secrets";
import { responseIndexFor, trackerFor } from "../tracker/stubs";
import { keptResponseHeaders } from "../upstream/fetch";
import { stripOutputs, watchBackground } from "./responses";

const TERMINAL = new Set(["response.completed", "response.incomplete", "response.failed"]);

interface StreamEvent {
  type?: string;
  sequence_number?: number;
  response?: { id: string; created_at?: number; output?: unknown[] } & Record<string, unknown>;
  item?: { type?: string; container_id?: string | null };
}

export function streamResponse(c: Context<AppEnv>, upstream: Response, options: HarvestOptions): Response {
  return relay(c, upstream, options, -1);
}

/** A resumed background stream: re-read from the start, rewrite, drop events up to `startingAfter`. */
export function resumeStream(c: Context<AppEnv>, upstream: Response, options: HarvestOptions, startingAfter: number): Response {
  return relay(c, upstream, options, Number.isFinite(startingAfter) ? startingAfter : -1);
}

function relay(c: Context<AppEnv>, upstream: Response, options: HarvestOptions, dropThrough: number): Response {
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const writer = writable.getWriter();
  const env = c.env;
  const config = c.get("config");
  const caller = c.get("caller");
  let clientGone = false;

  const send = async (frame: SseFrame) => {
    if (clientGone) return;
    try {
      await writer.write(encodeSse(frame));
    } catch {
      clientGone = true;
    }
  };

  const work = (async () => {
    let naming: LinkNaming | undefined;
    let rewriter: StreamRewriter | undefined;
    let responseId: string | undefined;
    let createdAt = Math.floor(Date.now() / 1000);
    let linksExpireAt: number | undefined;
    const containers = new Set<string>();
    /** Index and tracker calls started mid-stream; awaited before the harvest and at the end. */
    const pending: Promise<unknown>[] = [];

    const emit = async (events: StreamEvent[], frameName?: string) => {
      for (const e of events) {
        if (typeof e.sequence_number === "number" && e.sequence_number <= dropThrough) continue;
        await send({ event: frameName ?? e.type, data: JSON.stringify(eventWithoutDomainSecrets(e)) });
      }
    };

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
        if (!rewriter && event.response?.id) {
          responseId = event.response.id;
          createdAt = typeof event.response.created_at === "number" ? event.response.created_at : createdAt;
          linksExpireAt = linkExpiry(caller, createdAt);
          naming = namingFor(config, options.tenant, responseId, linksExpireAt);
          rewriter = new StreamRewriter(naming.name);
          // Registered from the first event on, so a link followed mid-stream already resolves;
          // in the background, so the event itself is not held for it (the terminal event waits).
          const [id, response] = [responseId, event.response];
          const registered = responseIndexFor(env, id).register({
            tenant: options.tenant,
            responseId: id,
            previousResponseId: options.previousResponseId ?? null,
            createdAt,
            containerIds: [],
          });
          // A background response outlives this stream: its index follows it to the end.
          pending.push(response.background === true ? registered.then(() => watchBackground(env, response, options)) : registered);
        }
        const containerId = event.item?.container_id;
        if (responseId && containerId && !containers.has(containerId)) {
          containers.add(containerId);
          // Copies start while the model still talks; the tool-call event is not held for it.
          const id = responseId;
          pending.push(
            Promise.all([
              responseIndexFor(env, id).register({ tenant: options.tenant, responseId: id, createdAt, containerIds: [containerId] }),
              trackerFor(env, containerId).open({ tenant: options.tenant, containerId, responseId: id, responseCreatedAt: createdAt, linksExpireAt: linksExpireAt ?? null, upstreamKeySealed: options.upstreamKeySealed ?? null }),
            ]),
          );
        }
        if (!rewriter) {
          await emit([event], frame.event);
          continue;
        }
        if (event.type && TERMINAL.has(event.type) && event.response) {
          // Harvest the response as upstream sent it, then rewrite it like every other event.
          await settled(pending);
          const raw = structuredClone(event.response);
          const files = await harvest(env, raw, naming!, { ...options, waitMs: 0, linksExpireAt });
          const out = (await rewriter.push(event)) as StreamEvent[];
          for (const e of out) {
            if (e.type === event.type && e.response) {
              if (!options.clientWantsOutputs) stripOutputs(e.response);
              (e.response as Record<string, unknown>).unsandbox = { files };
            }
          }
          await emit(out);
          continue;
        }
        await emit((await rewriter.push(event)) as StreamEvent[]);
      }
      if (rewriter) await emit((await rewriter.end()) as StreamEvent[]);
    } catch (err) {
      console.error(JSON.stringify({ level: "error", msg: "stream relay failed", responseId, error: String(err) }));
    } finally {
      await settled(pending);
      if (clientGone) {
        // Hand the rest to the trackers: they sweep each container's listing for a bounded time.
        await reader.cancel().catch(() => {});
        if (responseId) {
          for (const containerId of containers) {
            await trackerFor(env, containerId)
              .track({ tenant: options.tenant, containerId, responseId, responseCreatedAt: createdAt, refs: [], sweep: true, linksExpireAt: linksExpireAt ?? null, upstreamKeySealed: options.upstreamKeySealed ?? null })
              .catch((err: unknown) => console.error(JSON.stringify({ level: "error", msg: "hand-off failed", responseId, error: String(err) })));
          }
        }
      }
      await writer.close().catch(() => {});
    }
  })();
  c.executionCtx.waitUntil(work);

  const headers = keptResponseHeaders(upstream.headers);
  headers.set("content-type", "text/event-stream; charset=utf-8");
  headers.set("cache-control", "no-cache");
  return new Response(readable, { status: upstream.status, headers });
}

/** Waits for the calls started so far; a failed one is logged, never thrown into the stream. */
async function settled(pending: Promise<unknown>[]): Promise<void> {
  for (const r of await Promise.allSettled(pending.splice(0))) {
    if (r.status === "rejected") console.error(JSON.stringify({ level: "error", msg: "index or tracker call failed", error: String(r.reason) }));
  }
}
