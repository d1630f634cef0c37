/**
 * @module harvest/pipeline
 * The one response pipeline. Every answer about a Response is shaped here the same way, whether
 * it goes out as plain JSON (`POST /v1/responses`), as upstream's events one for one (`stream:
 * true`, or a background stream re-read), or is read back (`GET /v1/responses/{id}`): sandbox
 * links become download URLs (src/links/), `code_interpreter_call.outputs` are removed again when
 * the client did not ask for them, and `unsandbox.files` lists the files as the trackers know them.
 *
 * It is also the only code on the response path that talks to the Durable Objects: it builds the
 * response index's inputs (`register`, `watchBackground`, `info`) and the container trackers'
 * (`open`, `track`; harvest.ts builds the rest), so the routes only decode the request, call the
 * step their transport needs, and relay what comes back:
 * - plain: {@link ResponsePipeline.answer};
 * - stream: {@link ResponsePipeline.stream}, a {@link StreamSession} fed one parsed event at a time
 *   (the route keeps the SSE framing, the client connection and the request's `waitUntil`);
 * - read-back: {@link ResponsePipeline.readBack}, {@link responseManifest}, {@link rewriteInputItems}.
 *
 * What the pipeline decoded (the response id, and the containers and output items the answer
 * names) goes to the request's `onDecoded` (app.ts) as it is decoded, so owners are recorded from
 * this one parse beside the relay and the harvest; only the answer's end (the plain answer, a
 * stream's terminal event) waits for them (decoded.ts, docs/architecture.md).
 */
import type { Context } from "hono";
import type { AppEnv, DecodedIds } from "../app";
import type { Caller } from "../auth/caller";
import { loadConfig, type Bindings, type Config } from "../config";
import type { LinkNaming } from "../links/naming";
import { rewriteItems, rewriteResponseObject } from "../links/response";
import { StreamRewriter, type StreamEvent as RewrittenEvent } from "../links/stream-rewriter";
import { eventWithUrlCitations, responseWithUrlCitations } from "../links/url-citations";
import { OUTPUTS_INCLUDE, type CreateResponseBody } from "../schemas/create-response";
import { sealForLaterWork, tenantForLaterWork, type TenantHandOff } from "../tenants/store";
import { containerOfItem } from "../schemas/output-item";
import { TERMINAL_STATUSES } from "../tracker/background";
import { responseIndexFor, trackerFor } from "../tracker/stubs";
import { featureOn } from "./features";
import { withoutDomainSecrets } from "../upstream/domain-secrets";
import { withFileInstructions } from "./file-instructions";
import { errorFields, logEvent } from "../log";
import { notFound } from "../errors";
import { harvest, manifestOf, type AnswerFile, type HarvestOptions } from "./harvest";
import { applyManagedContainer } from "./managed";
import { linkExpiry, namingFor } from "./naming";
import { ConversationTurns, conversationIdOf } from "./conversation";
import { restoreInput } from "./restore";
import { DecodedReporter } from "./decoded";
import { existsUnindexed } from "./unindexed";
import { noteNamed } from "./pin-hint";

/** A Response object as upstream sent it; only what unsandbox reads is typed. */
export type UpstreamResponse = {
  id: string;
  output?: unknown[];
  status?: string;
  background?: boolean | null;
  previous_response_id?: string | null;
  created_at?: unknown;
} & Record<string, unknown>;

/** A Response as unsandbox answers it: upstream's, rewritten, with the `unsandbox` object. */
export type Answer = UpstreamResponse & { unsandbox: { files: AnswerFile[] } };

/**
 * The stream events after which a response changes no more: its terminal statuses
 * (tracker/background.ts) that have a stream event (a cancelled response has none).
 */
export const TERMINAL_EVENTS: ReadonlySet<string> = new Set([
  "response.completed",
  "response.incomplete",
  "response.failed",
]);

/** Everything the pipeline needs to know about the request, decoded by the route. */
export interface PipelineRequest {
  env: Bindings;
  config: Config;
  /** Who called (auth/caller.ts); widget callers' links expire (`linkExpiry`). */
  caller: Caller | undefined;
  tenant: string;
  /** The request's id (app.ts), for log lines; absent for work after the request (a background harvest). */
  requestId?: string;
  /** The client asked for `code_interpreter_call.outputs` itself (unsandbox always asks upstream). */
  clientWantsOutputs: boolean;
  /** The request's `previous_response_id` (a read-back takes it from the response instead). */
  previousResponseId?: string;
  /**
   * The request's conversation id (`conversation`, an id or `{id}`). A turn of a conversation
   * chains to the conversation's turn before it, as with `previous_response_id`, so a link to a
   * file an earlier turn wrote resolves (conversation.ts).
   */
  conversationId?: string;
  /** How long the plain answer waits for copies (a streamed or read-back answer never waits). */
  waitMs: number;
  /** The repair feature is on for this request (harvest/features.ts). */
  repair: boolean;
  /** File citations go out as `url_citation`s (harvest/features.ts, links/url-citations.ts). */
  urlCitations?: boolean;
  /** Pass-through mode: the caller's key, sealed, for the trackers' work after the request. */
  upstreamKeySealed: string | null;
  /** Multi-tenant mode: the tenant's limits and sealed key, handed to new trackers (`tenantForLaterWork`). */
  tenantRecord: TenantHandOff | null;
  /** Receives the ids each answer reveals as they are decoded; the answer's end waits for it (app.ts `onDecoded`). */
  onDecoded?: (ids: DecodedIds) => Promise<unknown>;
  /** Starts work the answer does not wait for once the answer is out (the request's `waitUntil`); absent: awaited. */
  later?: (start: () => Promise<unknown>) => void;
}

/** Whether the client's own `include` asks for the code interpreter's outputs. */
export function clientWantsOutputs(include: readonly string[] | null | undefined): boolean {
  return (include ?? []).includes(OUTPUTS_INCLUDE);
}

/**
 * The body that goes upstream for a `POST /v1/responses`: the client's, with the outputs always
 * requested (shown figures live there), earlier unsandbox output sent back as input restored to
 * upstream's original (restore.ts), and the opt-in features applied (managed containers, file
 * instructions). Runs before the upstream call, so a refused request does not run the model.
 */
export async function requestToForward(
  c: Context<AppEnv>,
  raw: Record<string, unknown>,
  body: CreateResponseBody,
): Promise<Record<string, unknown>> {
  const include = clientWantsOutputs(body.include) ? body.include : [...(body.include ?? []), OUTPUTS_INCLUDE];
  const forwarded = await applyManagedContainer(c, {
    ...(await restoreInput(c.env, c.get("config"), c.get("tenant"), raw)),
    include,
  });
  return featureOn(c, "file_instructions") ? withFileInstructions(forwarded) : forwarded;
}

/** The pipeline of one request, from what the middleware decoded (caller, tenant, config). */
export async function pipelineFor(
  c: Context<AppEnv>,
  request: Pick<PipelineRequest, "clientWantsOutputs" | "previousResponseId" | "conversationId" | "waitMs" | "repair">,
): Promise<ResponsePipeline> {
  return new ResponsePipeline({
    ...request,
    env: c.env,
    config: c.get("config"),
    caller: c.get("caller"),
    tenant: c.get("tenant"),
    requestId: c.get("requestId"),
    urlCitations: featureOn(c, "url_citations"),
    upstreamKeySealed: await sealForLaterWork(loadConfig(c.env), c.get("caller")),
    tenantRecord: await tenantForLaterWork(loadConfig(c.env), c.get("caller")),
    ...(c.get("onDecoded") ? { onDecoded: c.get("onDecoded") } : {}),
    later: laterFor(c),
  });
}

/**
 * Work started a timer turn later, once the plain answer has gone out, inside the request's
 * `waitUntil`, with a failure logged instead of left unhandled.
 */
function laterFor(c: Context<AppEnv>): (start: () => Promise<unknown>) => void {
  return (start) => {
    const logged = afterTurn(start).catch((err: unknown) =>
      logEvent("error", "later_work_failed", {
        requestId: c.get("requestId"),
        tenant: c.get("tenant"),
        ...errorFields(err),
      }),
    );
    try {
      c.executionCtx.waitUntil(logged);
    } catch {
      // No execution context (app.request() in a unit test): the promise still runs.
    }
  };
}

/** Starts `start` a timer turn from now: whatever was written by then goes out first. */
function afterTurn(start: () => Promise<unknown>): Promise<unknown> {
  return new Promise<void>((resolve) => setTimeout(resolve, 0)).then(start);
}

export class ResponsePipeline {
  readonly #conversation: ConversationTurns | undefined;

  constructor(readonly request: PipelineRequest) {
    const { env, tenant, conversationId, previousResponseId } = request;
    this.#conversation =
      conversationId && !previousResponseId ? new ConversationTurns(env, tenant, conversationId) : undefined;
  }

  /** The response before this one: the request's `previous_response_id`, or the conversation's turn before it. */
  previousOf(responseId: string): Promise<string | undefined> {
    return this.#conversation
      ? this.#conversation.previousOf(responseId)
      : Promise.resolve(this.request.previousResponseId);
  }

  /** Records which turn of the conversation made the response's output items (no-op outside a conversation). */
  async noteItems(response: { id: string; output?: unknown }): Promise<void> {
    await this.#conversation?.noteItems(response.id, idsOfResponse(response as UpstreamResponse).itemIds);
  }

  /**
   * The plain answer: harvests a finished Response (waiting up to `waitMs` for copies) and
   * shapes it. A background response that is still running is handed to its index, whose alarm
   * polls upstream until it ends and harvests it then, whether or not the client ever polls. A
   * harvest problem never turns a successful upstream answer into an error: the files are
   * reported with the states the trackers have, and links keep their URLs.
   */
  async answer(response: UpstreamResponse): Promise<Answer> {
    // Owners are recorded beside the harvest; the answer waits for both.
    const decoded = new DecodedReporter(this.request.onDecoded);
    decoded.report(idsOfResponse(response), true);
    const { naming, linksExpireAt } = this.naming(response.id, response.created_at);
    let files: AnswerFile[] = [];
    const previousResponseId = await this.previousOf(response.id);
    await this.noteItems(response);
    if (response.background === true && !TERMINAL_STATUSES.has(response.status ?? "")) {
      await this.watchBackground(response, previousResponseId);
    } else {
      files = await harvest(this.request.env, response, naming, {
        ...this.harvestOptions(previousResponseId),
        linksExpireAt,
        ...(this.request.later ? { later: this.request.later } : {}),
      });
    }
    // Outputs the client did not ask for are dropped before the rewrite copies the Response.
    this.stripUnrequested(response);
    const answer = { ...(await this.rewrite(response, naming)), unsandbox: { files } };
    await decoded.settled();
    return answer;
  }

  /**
   * A Response read back from upstream. One seen finished here before anything registered it (a
   * background response nobody watched) is harvested once; after that a read only reports,
   * because every container listing may refresh the container's `last_active_at` (and its bill).
   */
  async readBack(responseId: string, response: UpstreamResponse): Promise<Answer> {
    const { env, tenant } = this.request;
    const { naming, linksExpireAt } = this.naming(responseId, response.created_at);
    const index = responseIndexFor(env, responseId);
    // The upstream answer exists: an index or tracker that cannot answer (overloaded) costs the
    // file list of this reading, never the answer (a later read reports them).
    let failed = false;
    const degraded = (err: unknown) => {
      failed = true;
      logEvent("warn", "read_back_without_files", {
        requestId: this.request.requestId,
        tenant,
        responseId,
        ...errorFields(err),
      });
      return null;
    };
    let info = await index.info(tenant).catch(degraded);
    if (!info && !failed && TERMINAL_STATUSES.has(response.status ?? "")) {
      // A turn of a conversation read back before anything registered it joins the conversation's turns now.
      const conversationId = response.previous_response_id ? undefined : conversationIdOf(response.conversation);
      const turns = conversationId ? new ConversationTurns(env, tenant, conversationId) : undefined;
      const previousResponseId = response.previous_response_id ?? (await turns?.previousOf(responseId));
      await turns?.noteItems(responseId, idsOfResponse(response).itemIds);
      await harvest(env, response, naming, { ...this.harvestOptions(previousResponseId ?? undefined), linksExpireAt });
      info = await index.info(tenant).catch(degraded);
    }
    // Rewritten first: the manifest gives each file the URL its link got in this text. Outputs the
    // client did not ask for are dropped before the rewrite copies the Response.
    this.stripUnrequested(response);
    const rewritten = await this.rewrite(response, naming);
    const files = info ? ((await manifestOf(env, info, naming).catch(degraded)) ?? []) : [];
    return { ...rewritten, unsandbox: { files } };
  }

  /** A streamed answer: feed it upstream's parsed events in order ({@link StreamSession}). */
  stream(): StreamSession {
    return new StreamSession(this);
  }

  /** The link naming of a response; links count their expiry from the response's creation. */
  naming(responseId: string, createdAt: unknown): { naming: LinkNaming; linksExpireAt: number | undefined } {
    const linksExpireAt = linkExpiry(this.request.caller, createdAt);
    return { naming: namingFor(this.request.config, this.request.tenant, responseId, linksExpireAt), linksExpireAt };
  }

  /** The Response with its links rewritten and its outputs removed unless the client asked for them. */
  async rewrite(response: UpstreamResponse, naming: LinkNaming): Promise<UpstreamResponse> {
    const rewritten = await rewriteResponseObject(response, naming.name);
    this.stripUnrequested(rewritten);
    // Upstream may echo a request's network_policy domain secrets: they never reach a client.
    return this.citationStyle(withoutDomainSecrets(rewritten));
  }

  /**
   * The one place the URL-citation style applies (links/url-citations.ts): to a rewritten
   * Response (plain and read-back answers) or to a rewritten stream event. Off: the input itself.
   */
  citationStyle<T>(value: T, kind: "response" | "event" = "response"): T {
    if (!this.request.urlCitations) return value;
    return kind === "event" ? eventWithUrlCitations(value) : responseWithUrlCitations(value);
  }

  /** Removes tool outputs the client did not ask for (unsandbox always asks, for the figures). */
  stripUnrequested(response: { output?: unknown }): void {
    if (this.request.clientWantsOutputs || !Array.isArray(response.output)) return;
    for (const item of response.output as { type?: string; outputs?: unknown }[]) {
      if (item?.type === "code_interpreter_call") item.outputs = null;
    }
  }

  /** What harvest.ts needs from the request (a stream's harvest overrides `waitMs` with 0). */
  harvestOptions(previousResponseId = this.request.previousResponseId): HarvestOptions {
    const r = this.request;
    return {
      tenant: r.tenant,
      requestId: r.requestId,
      previousResponseId,
      clientWantsOutputs: r.clientWantsOutputs,
      waitMs: r.waitMs,
      repair: r.repair,
      upstreamKeySealed: r.upstreamKeySealed,
      tenantRecord: r.tenantRecord,
    };
  }

  /** Starts the index's own polling of a background response (never fails the request). */
  async watchBackground(
    response: { id: string; created_at?: unknown },
    previousResponseId = this.request.previousResponseId,
  ): Promise<void> {
    const r = this.request;
    try {
      await responseIndexFor(r.env, response.id).watchBackground({
        tenant: r.tenant,
        responseId: response.id,
        previousResponseId: previousResponseId ?? null,
        createdAt: typeof response.created_at === "number" ? response.created_at : Math.floor(Date.now() / 1000),
        upstreamKeySealed: r.upstreamKeySealed,
      });
    } catch (err) {
      logEvent("error", "background_watch_failed", {
        requestId: r.requestId,
        tenant: r.tenant,
        responseId: response.id,
        ...errorFields(err),
      });
    }
  }
}

/** A parsed upstream stream event; only the fields the pipeline reads are typed. */
export interface StreamEvent {
  type?: string;
  sequence_number?: number;
  response?: UpstreamResponse & { created_at?: number };
  item?: { type?: string; id?: string; container_id?: string | null; environment?: unknown };
}

/** What {@link StreamSession.push} returns before the response id is known: send the event as it came. */
export const AS_RECEIVED = Symbol("as received");

/**
 * One streamed answer. The route feeds it every parsed event in order and sends what it returns.
 * From the first event that names the response, links are rewritten as they stream
 * (links/stream-rewriter.ts, which holds back only a possible link prefix). No event waits for
 * the Durable Objects but the terminal one, and only for what it carries (its files):
 * - as soon as a tool call names its container, its tracker is opened (copies start while the
 *   model is still talking) and the response is registered with its index, once, beside the
 *   stream (a link followed mid-stream then waits on the tracker);
 * - a response with neither a container nor a link is never registered (harvest.ts), so a
 *   plain streamed answer makes no Durable Object call;
 * - a background response is handed to its index at its first event (it outlives the stream).
 * The terminal event is harvested and carries what the plain route would return, with the file
 * states of that moment.
 */
export class StreamSession {
  readonly #pipeline: ResponsePipeline;
  #naming: LinkNaming | undefined;
  #rewriter: StreamRewriter | undefined;
  #responseId: string | undefined;
  #createdAt = Math.floor(Date.now() / 1000);
  #linksExpireAt: number | undefined;
  /** The response before this one (a conversation's turn before it is known once the id is). */
  #previous: Promise<string | undefined> | undefined;
  readonly #containers = new Set<string>();
  /** Ids handed to `onDecoded` as they are decoded, each once per stream; the terminal event waits for them. */
  readonly #decoded: DecodedReporter;
  /** The containers the index was told of (set once the response is registered, mid-stream). */
  #registered: Set<string> | undefined;
  /** A mid-stream registration failed: the terminal harvest registers everything again. */
  #registerFailed = false;
  /** Index and tracker calls started mid-stream; awaited before the harvest and at the end. */
  readonly #pending: Promise<unknown>[] = [];
  /** Work nothing in the stream needs, started by {@link settle} once the stream's events are out. */
  readonly #afterEnd: (() => Promise<unknown>)[] = [];

  constructor(pipeline: ResponsePipeline) {
    this.#pipeline = pipeline;
    this.#decoded = new DecodedReporter(pipeline.request.onDecoded);
  }

  /** The response id, once an event named it. */
  get responseId(): string | undefined {
    return this.#responseId;
  }

  /** Takes the next upstream event; returns the events to send now, in order. */
  async push(event: StreamEvent): Promise<RewrittenEvent[] | typeof AS_RECEIVED> {
    const { env } = this.#pipeline.request;
    this.#decoded.report({
      responseId: event.response?.id,
      containerIds: [containerOfItem(event.item)],
      itemIds: [event.item?.id],
    });
    if (!this.#rewriter && event.response?.id) this.#start(event.response);
    const containerId = containerOfItem(event.item);
    if (this.#responseId && containerId && !this.#containers.has(containerId)) this.#openContainer(containerId);
    if (!this.#rewriter) return AS_RECEIVED;
    if (event.type && TERMINAL_EVENTS.has(event.type) && event.response) {
      // Harvested as upstream sent it (the rewriter copies, never mutates), then rewritten like
      // every other event; what the client did not ask for is dropped before the copy. The
      // stream's owners are recorded beside it (its items start now); the event waits for both.
      const recorded = this.#decoded.settled();
      await this.settle();
      const raw = event.response;
      await this.#pipeline.noteItems(raw);
      const files = await harvest(env, raw, this.#naming!, {
        ...this.#pipeline.harvestOptions(await this.#previous),
        waitMs: 0,
        linksExpireAt: this.#linksExpireAt,
        ...(this.#registered && !this.#registerFailed ? { registered: this.#registered } : {}),
        later: (start) => this.#afterEnd.push(start),
      });
      this.#pipeline.stripUnrequested(raw);
      const out = await this.#rewriter.push(event);
      for (const e of out) {
        if (e.type === event.type && e.response) (e.response as Record<string, unknown>).unsandbox = { files };
      }
      await recorded;
      return this.#styled(out);
    }
    return this.#styled(await this.#rewriter.push(event));
  }

  /** The first event that names the response: its naming, and (background) its index's watch. */
  #start(response: UpstreamResponse & { created_at?: number }): void {
    const id = response.id;
    this.#responseId = id;
    if (typeof response.created_at === "number") this.#createdAt = response.created_at;
    const { naming, linksExpireAt } = this.#pipeline.naming(id, this.#createdAt);
    this.#naming = naming;
    this.#linksExpireAt = linksExpireAt;
    this.#rewriter = new StreamRewriter(naming.name);
    const previous = (this.#previous = this.#pipeline.previousOf(id));
    // A background response outlives this stream: its index follows it to the end (and so is
    // registered now). Beside the stream: no event is held for it.
    if (response.background === true) {
      this.#pending.push(previous.then((p) => this.#pipeline.watchBackground(response, p)));
    }
  }

  /** A tool call named a container: its tracker opens now and the index learns of it, beside the stream. */
  #openContainer(containerId: string): void {
    const { env, tenant, upstreamKeySealed, tenantRecord } = this.#pipeline.request;
    this.#containers.add(containerId);
    const id = this.#responseId!;
    const first = !this.#registered;
    const registered = (this.#registered ??= new Set());
    registered.add(containerId);
    noteNamed(tenant, id);
    this.#pending.push(
      Promise.all([
        this.#previous!.then((previousResponseId) =>
          responseIndexFor(env, id).register({
            tenant,
            responseId: id,
            // The first registration carries the chain; a later one adds its container.
            previousResponseId: first ? (previousResponseId ?? null) : null,
            createdAt: this.#createdAt,
            containerIds: [containerId],
          }),
        ).catch((err: unknown) => {
          this.#registerFailed = true;
          throw err;
        }),
        trackerFor(env, containerId).open({
          tenant,
          containerId,
          responseId: id,
          responseCreatedAt: this.#createdAt,
          linksExpireAt: this.#linksExpireAt ?? null,
          upstreamKeySealed,
          tenantRecord,
        }),
      ]),
    );
  }

  /** Upstream's stream ended: the events still held back (a possible link's tail), once the stream's owners are recorded. */
  async end(): Promise<RewrittenEvent[]> {
    await this.#decoded.settled();
    return this.#rewriter ? this.#styled(await this.#rewriter.end()) : [];
  }

  /** The events in the request's citation style ({@link ResponsePipeline.citationStyle}). */
  #styled(events: RewrittenEvent[]): RewrittenEvent[] {
    return events.map((e) => this.#pipeline.citationStyle(e, "event"));
  }

  /**
   * Waits for the calls (and owner records) started so far; a failed one is logged, never thrown
   * into the stream. Called after the last event was written, it first starts the work that
   * waited for the end (a timer turn later, so the last event is flushed before).
   */
  async settle(): Promise<void> {
    const { requestId, tenant } = this.#pipeline.request;
    const deferred = this.#afterEnd.splice(0);
    if (deferred.length) this.#pending.push(...deferred.map(afterTurn));
    for (const r of await Promise.allSettled([...this.#pending.splice(0), this.#decoded.settled()])) {
      if (r.status === "rejected") {
        logEvent("error", "stream_tracker_call_failed", {
          requestId,
          tenant,
          responseId: this.#responseId,
          ...errorFields(r.reason),
        });
      }
    }
  }

  /**
   * The client went away: the containers seen so far are handed to their trackers, which sweep
   * each listing for a bounded time and store what the container holds.
   */
  async handOff(): Promise<void> {
    const responseId = this.#responseId;
    if (!responseId) return;
    const { env, tenant, upstreamKeySealed, tenantRecord, requestId } = this.#pipeline.request;
    for (const containerId of this.#containers) {
      await trackerFor(env, containerId)
        .track({
          tenant,
          containerId,
          responseId,
          responseCreatedAt: this.#createdAt,
          refs: [],
          sweep: true,
          linksExpireAt: this.#linksExpireAt ?? null,
          upstreamKeySealed,
          tenantRecord,
        })
        .catch((err: unknown) =>
          logEvent("error", "stream_hand_off_failed", {
            requestId,
            tenant,
            responseId,
            containerId,
            ...errorFields(err),
          }),
        );
    }
  }
}

/**
 * The files of a response, as its trackers know them (`GET /v1/responses/{id}/files`), after at
 * most `waitMs`. A response with neither a link nor a container has no index and no files: it is
 * told from an id that does not exist by unindexed.ts.
 */
export async function responseManifest(c: Context<AppEnv>, responseId: string, waitMs: number): Promise<AnswerFile[]> {
  const info = await responseIndexFor(c.env, responseId).info(c.get("tenant"));
  if (!info) {
    if (await existsUnindexed(c, responseId)) return [];
    throw notFound(`No response found with id '${responseId}'.`, "response_not_found");
  }
  const naming = namingFor(c.get("config"), c.get("tenant"), responseId, linkExpiry(c.get("caller"), info.createdAt));
  return manifestOf(c.env, info, naming, waitMs);
}

/** The link naming of a response read back: its links expire as they did when it was answered. */
async function namingOfResponse(c: Context<AppEnv>, responseId: string): Promise<LinkNaming> {
  const info = await responseIndexFor(c.env, responseId).info(c.get("tenant"));
  return namingFor(c.get("config"), c.get("tenant"), responseId, linkExpiry(c.get("caller"), info?.createdAt));
}

/** A response's input items read back (`GET /v1/responses/{id}/input_items`), links rewritten. */
export async function rewriteInputItems(c: Context<AppEnv>, responseId: string, items: unknown[]): Promise<unknown[]> {
  return rewriteItems(items, (await namingOfResponse(c, responseId)).name);
}

/**
 * A conversation's items read back (`GET /v1/conversations/{id}/items`, one item, or the items an
 * add answers with): each is rewritten with the naming of the turn that made it, so its links are
 * the ones that turn's answer had; an item no turn here made (added by the app, or made before
 * unsandbox saw the conversation) is named as of the latest turn, whose links resolve through the
 * earlier turns. A conversation no turn of which came through unsandbox is left as upstream has it.
 */
export async function rewriteConversationItems(
  c: Context<AppEnv>,
  conversationId: string,
  items: unknown[],
): Promise<unknown[]> {
  const ids = items.flatMap((i) => (typeof (i as { id?: unknown })?.id === "string" ? [(i as { id: string }).id] : []));
  const { owners, latest } = await new ConversationTurns(c.env, c.get("tenant"), conversationId).owners(ids);
  const namings = new Map<string, Promise<LinkNaming>>();
  const out: unknown[] = [];
  for (const item of items) {
    const id = (item as { id?: unknown })?.id;
    const owner = (typeof id === "string" ? owners[id] : undefined) ?? latest;
    if (!owner) {
      out.push(item);
      continue;
    }
    if (!namings.has(owner)) namings.set(owner, namingOfResponse(c, owner));
    out.push((await rewriteItems([item], (await namings.get(owner)!).name))[0]);
  }
  return out;
}

/** The ids a plain answer reveals: the response, the containers its tool calls ran in, its output items. */
function idsOfResponse(response: UpstreamResponse): DecodedIds {
  const items = (Array.isArray(response.output) ? response.output : []) as { id?: unknown }[];
  return {
    responseId: response.id,
    containerIds: [...new Set(items.flatMap((i) => containerOfItem(i) ?? []))],
    itemIds: items.flatMap((i) => (typeof i?.id === "string" ? [i.id] : [])),
  };
}
