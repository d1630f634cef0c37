/**
 * @module tracker/response-index
 * ResponseIndex: one Durable Object per response id (`getByName(responseId)`).
 *
 * A download URL names a response and a path, never a file id (the link streams out before the
 * id exists). This object turns that pair into a file version: it knows the response's
 * containers and its `previous_response_id`, and it pins the first resolution of each path, so a
 * later turn that writes the same path again never changes what an earlier link serves; the later
 * turn's own link pins the version its tracker made for that turn, even under the same file id
 * (docs/storage.md, "Versions"). A response that ran no tool resolves through the chain of
 * previous responses.
 */
import { DurableObject } from "cloudflare:workers";
import { z } from "zod";
import type { Bindings, Config } from "../config";
import { loadConfig } from "../config";
import { errorFields, logEvent } from "../log";
import {
  deleteAllStorage,
  ensureTable,
  hasTable,
  migrate,
  openMigrated,
  unmigrated,
} from "../durable/sqlite-migrations";
import { readPin, readResponseRecord, writeResponseRecord, type ResponseRecord } from "./outlive";
import { manifestKey } from "../storage/pins";
import { keyForLaterWork } from "../tenants/store";
import { pollResponse, type PolledResponse } from "../upstream/responses";
import { nextPollDelay, BACKGROUND_WATCH_MS, TERMINAL_STATUSES } from "./background";
import { backoffMs } from "./backoff";
import { UnsandboxError } from "../errors";
import {
  RESPONSE_INDEX_BASELINE,
  RESPONSE_INDEX_MIGRATIONS,
  RESPONSE_INDEX_TABLES,
  type ResponseIndexTable,
} from "./schema";
import { trackerFor, responseIndexFor } from "./stubs";
import { Waiters } from "./context";
import { TrackerError, type PathResolution } from "./types";

/** How far up a `previous_response_id` chain a link may be resolved. */
export const MAX_CHAIN = 32;

/** The longest a `resolve` waits for a pending link (the download route asks for 8 s). */
export const MAX_RESOLVE_WAIT_MS = 60_000;

/**
 * How long after a registration its containers' trackers may not have heard of the response yet
 * (the harvest opens or tracks them beside registering it); a `track` not there by then is not
 * coming, and the tracker's `unknown` is the answer.
 */
const TRACK_GRACE_MS = 60_000;

export const RegisterSchema = z.object({
  tenant: z.string().min(1),
  responseId: z.string().min(1),
  previousResponseId: z.string().min(1).nullish(),
  /** Unix seconds, as in the response object. */
  createdAt: z.number(),
  containerIds: z.array(z.string().min(1)).default([]),
});
export type RegisterInput = z.input<typeof RegisterSchema>;

export const LinkRecordSchema = z.array(
  z.object({
    /** Canonical path the link names. */
    path: z.string().min(1),
    /** The text the model wrote (e.g. `sandbox:/mnt/data/a.csv`), for mapping URLs back. */
    original: z.string(),
    /** The unsandbox URL it was rewritten to. */
    url: z.string().min(1),
  }),
);
export type LinkRecord = z.input<typeof LinkRecordSchema>[number];

/** A background response that ended, handed to the harvest with the index to write to. */
export interface EndedBackgroundResponse {
  env: Bindings;
  /** The deployment's config with the key the response was made with. */
  config: Config;
  response: PolledResponse;
  tenant: string;
  previousResponseId: string | null;
  upstreamKeySealed: string | null;
  index: ResponseIndex;
}

/**
 * Who harvests an ended background response. The harvest is a layer above the Durable Objects, so
 * it registers itself here (src/harvest/background.ts, installed by src/index.ts) instead of
 * being imported: the index only knows this signature.
 */
export type BackgroundHarvester = (ended: EndedBackgroundResponse) => Promise<void>;
let backgroundHarvester: BackgroundHarvester | null = null;

export function setBackgroundHarvester(harvester: BackgroundHarvester): void {
  backgroundHarvester = harvester;
}

interface ResponseRow {
  id: string;
  tenant: string;
  previous_response_id: string | null;
  created_at: number;
  /** When this index was registered (ms; 0 for an index registered before the column was read). */
  registered_at: number;
  [k: string]: SqlStorageValue;
}

export class ResponseIndex extends DurableObject<Bindings> {
  readonly #sql: SqlStorage;
  /** `resolve` calls waiting for this response to be registered (instance memory). */
  readonly #waiters = new Waiters();

  constructor(ctx: DurableObjectState, env: Bindings) {
    super(ctx, env);
    // Tables are made by the first write (`#ready`), so an index that emptied itself stays empty
    // when it is only read (./outlive.ts).
    this.#sql = openMigrated(ctx, RESPONSE_INDEX_MIGRATIONS, unmigrated, RESPONSE_INDEX_BASELINE);
  }

  /** Whether this index holds tables (it was written to and has not emptied itself). */
  get #held(): boolean {
    return !unmigrated(this.#sql);
  }

  #ready(): void {
    if (!this.#held) migrate(this.ctx.storage, RESPONSE_INDEX_MIGRATIONS, RESPONSE_INDEX_BASELINE);
  }

  /** Makes a capability's table on its first write (src/tracker/schema.ts, `RESPONSE_INDEX_TABLES`). */
  #table(name: ResponseIndexTable): void {
    ensureTable(this.#sql, name, RESPONSE_INDEX_TABLES[name]);
  }

  /** Whether a capability's table was made (a reader of one that was not finds nothing). */
  #has(name: ResponseIndexTable): boolean {
    return this.#held && hasTable(this.#sql, name);
  }

  /** What this index left in R2 when it emptied itself (src/tracker/outlive.ts), or null. */
  #record(tenant: string): Promise<ResponseRecord | null> {
    const id = this.ctx.id.name;
    return id ? readResponseRecord(this.env.FILES, tenant, id) : Promise.resolve(null);
  }

  /**
   * Records the response (idempotent; container ids accumulate). The first tenant to register a
   * response id owns it.
   * @throws TrackerError `foreign_tenant` when the response is registered to another tenant.
   */
  register(input: RegisterInput): void {
    const p = RegisterSchema.parse(input);
    this.#ready();
    const row = this.#row();
    if (row && (row.tenant !== p.tenant || row.id !== p.responseId))
      throw new TrackerError("foreign_tenant", "this response belongs to another tenant");
    // The response is the `_schema` row's (src/tracker/schema.ts): the row exists once migrated.
    if (!row) {
      this.#sql.exec(
        "UPDATE _schema SET response_id = ?, tenant = ?, previous_response_id = ?, created_at = ?, registered_at = ? WHERE id = 1",
        p.responseId,
        p.tenant,
        p.previousResponseId ?? null,
        p.createdAt,
        Date.now(),
      );
    } else if (p.previousResponseId && !row.previous_response_id) {
      this.#sql.exec("UPDATE _schema SET previous_response_id = ? WHERE id = 1", p.previousResponseId);
    }
    // Containers accumulate in the order they were first registered (one call's by id).
    const known = this.#containers();
    const added = [...new Set(p.containerIds)].filter((c) => !known.includes(c)).sort();
    if (added.length)
      this.#sql.exec("UPDATE _schema SET container_ids = ? WHERE id = 1", JSON.stringify([...known, ...added]));
    this.#waiters.notify();
  }

  /** Remembers the links this response issued (for `lookupOriginals`). Needs `register` first. */
  recordLinks(links: LinkRecord[]): void {
    const row = this.#row();
    if (!row) throw new TrackerError("not_opened", "recordLinks before register");
    const now = Date.now();
    this.#table("links");
    for (const l of LinkRecordSchema.parse(links)) {
      this.#sql.exec(
        "INSERT INTO links (url, tenant, path, original, recorded_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (url) DO NOTHING",
        l.url,
        row.tenant,
        l.path,
        l.original,
        now,
      );
    }
  }

  /** Maps unsandbox URLs this response issued back to the text the model wrote; unknown URLs are left out. */
  async lookupOriginals(urls: string[], tenant?: string): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    if (!this.#held) {
      const links = tenant ? ((await this.#record(tenant))?.links ?? []) : [];
      for (const l of links) if (urls.includes(l.url)) out[l.url] = l.original;
      return out;
    }
    if (!this.#has("links")) return out;
    for (const url of urls) {
      const hit = this.#sql.exec<{ original: string }>("SELECT original FROM links WHERE url = ?", url).toArray()[0];
      if (hit) out[url] = hit.original;
    }
    return out;
  }

  /**
   * The containers and previous response, as registered (null when unknown or another tenant's);
   * `ended` once the index emptied itself and answers from its record in R2.
   */
  async info(tenant: string): Promise<{
    responseId: string;
    previousResponseId: string | null;
    createdAt: number;
    containerIds: string[];
    ended?: boolean;
  } | null> {
    if (!this.#held) {
      const r = await this.#record(tenant);
      return (
        r && {
          responseId: r.id,
          previousResponseId: r.previousResponseId,
          createdAt: r.createdAt,
          containerIds: r.containerIds,
          ended: true,
        }
      );
    }
    const row = this.#row();
    if (!row || row.tenant !== tenant) return null;
    return {
      responseId: row.id,
      previousResponseId: row.previous_response_id,
      createdAt: row.created_at,
      containerIds: this.#containers(),
    };
  }

  /**
   * What a link of this response names: the first resolution is pinned; otherwise each of the
   * response's containers is asked, and a response without a container (no tool call) or without
   * a hit defers to its previous response.
   *
   * `waitMs`: how long to wait while the answer is `pending`, instead of being asked again (the
   * download route, src/harvest/resolve-link.ts). A response not registered yet (a link followed
   * before its answer completed) waits for `register`; a container still harvesting is asked with
   * its tracker's `waitForPath`, which answers when the path resolves, is missing, or the time is
   * up. So one download costs one call here and one or two per container, however long it waits.
   */
  async resolve(input: { tenant: string; path: string; depth?: number; waitMs?: number }): Promise<PathResolution> {
    const deadline = Date.now() + Math.max(0, Math.min(input.waitMs ?? 0, MAX_RESOLVE_WAIT_MS));
    for (;;) {
      const r = await this.#resolveBy(input, deadline);
      if (r.kind !== "pending" || this.#row() || Date.now() >= deadline) return r;
      await this.#waiters.changed(deadline - Date.now());
    }
  }

  async #resolveBy(input: { tenant: string; path: string; depth?: number }, deadline: number): Promise<PathResolution> {
    if (!this.#held) return this.#resolveAfterEnd(input);
    const row = this.#row();
    // Links stream out before the proxy registers the response (it does so when the answer is
    // complete), and a link with a valid signature was issued by us: not registered yet = pending.
    // Up a chain it is the other way round: a response with neither a link nor a container, and
    // no previous response, is never registered (harvest/harvest.ts), so the chain ends there.
    if (!row) return (input.depth ?? 0) > 0 ? { kind: "missing" } : { kind: "pending" };
    if (row.tenant !== input.tenant) return { kind: "unknown" };
    const pinned = this.#has("resolutions")
      ? this.#sql
          .exec<{ container_id: string; file_id: string; version: number }>(
            "SELECT container_id, file_id, version FROM resolutions WHERE path = ?",
            input.path,
          )
          .toArray()[0]
      : undefined;
    if (pinned)
      return { kind: "file", containerId: pinned.container_id, fileId: pinned.file_id, version: pinned.version };

    const ask = { tenant: input.tenant, responseId: row.id, path: input.path };
    const containers = this.#containers();
    const left = () => Math.max(0, deadline - Date.now());
    // Registered moments ago: the harvest's `open`/`track` of each container runs beside the
    // registration and may not have reached the tracker yet, which then waits for it.
    const expected = Date.now() - row.registered_at < TRACK_GRACE_MS;
    // One container (the usual case): asked once, waiting. Several: each asked at once, so a hit
    // in one is not held up by another still harvesting; then the pending ones, waiting, in turn.
    const waitOnOne = containers.length === 1 && left() > 0;
    const pending: string[] = [];
    for (const containerId of containers) {
      const tracker = trackerFor(this.env, containerId);
      const r = await (waitOnOne ? tracker.waitForPath(ask, left(), expected) : tracker.resolvePath(ask));
      if (r.kind === "file") return this.#pin(input.path, r, row.id);
      if (r.kind === "pending" || (!waitOnOne && left() > 0 && expected && r.kind === "unknown"))
        pending.push(containerId);
    }
    if (containers.length > 1) {
      for (const containerId of [...pending]) {
        if (left() === 0) break;
        const r = await trackerFor(this.env, containerId).waitForPath(ask, left(), expected);
        if (r.kind === "file") return this.#pin(input.path, r, row.id);
        if (r.kind !== "pending") pending.splice(pending.indexOf(containerId), 1);
      }
    }
    if (pending.length) return { kind: "pending" };
    const depth = input.depth ?? 0;
    if (row.previous_response_id && depth < MAX_CHAIN) {
      const r = await responseIndexFor(this.env, row.previous_response_id).resolve({
        tenant: input.tenant,
        path: input.path,
        depth: depth + 1,
        waitMs: left(),
      });
      if (r.kind === "file") return this.#pin(input.path, r, row.previous_response_id);
      if (r.kind === "pending" || r.kind === "pinned") return r;
    }
    return { kind: "missing" };
  }

  /**
   * Resolution once this index emptied itself: its own pin (its containers wrote one for every
   * path they resolved), else the previous response's, through the records in R2; a response with
   * no record is not registered yet (`pending`).
   */
  async #resolveAfterEnd(input: { tenant: string; path: string; depth?: number }): Promise<PathResolution> {
    let id = this.ctx.id.name;
    let record = await this.#record(input.tenant);
    if (!id || !record) return { kind: "pending" };
    for (let depth = input.depth ?? 0; depth <= MAX_CHAIN; depth++) {
      const file = await readPin(this.env.FILES, { tenant: input.tenant, responseId: id, path: input.path });
      if (file) return { kind: "pinned", file };
      if (!record?.previousResponseId || depth === MAX_CHAIN) break;
      id = record.previousResponseId;
      record = await readResponseRecord(this.env.FILES, input.tenant, id);
      // A previous response whose index still holds its tables resolves as it always did.
      if (!record) return responseIndexFor(this.env, id).resolve({ ...input, depth: depth + 1 });
    }
    return { kind: "missing" };
  }

  /**
   * A container this response used is over and wrote its manifest and pins to R2. Once every
   * container is (and no background watch runs), the index writes its record next to them and
   * deletes its storage (./outlive.ts).
   */
  async containerEnded(input: { tenant: string; containerId: string }): Promise<void> {
    if (!this.#held) return;
    const row = this.#row();
    if (!row || row.tenant !== input.tenant) return;
    if (this.#watching()) return;
    const containerIds = this.#containers();
    for (const cid of containerIds)
      if (cid !== input.containerId && !(await this.env.FILES.head(manifestKey(row.tenant, row.id, cid)))) return;
    const links = this.#has("links")
      ? this.#sql
          .exec<{ url: string; path: string; original: string }>(
            "SELECT url, path, original FROM links ORDER BY recorded_at, url",
          )
          .toArray()
      : [];
    await writeResponseRecord(this.env.FILES, {
      v: 1,
      id: row.id,
      tenant: row.tenant,
      previousResponseId: row.previous_response_id,
      createdAt: row.created_at,
      containerIds,
      links: links.map((l) => ({ url: l.url, path: l.path, original: l.original })),
    });
    // Only a response's own index empties: an index named by a conversation id keeps its turns.
    if (this.#has("conversation_turns") && this.#sql.exec("SELECT 1 FROM conversation_turns LIMIT 1").toArray().length)
      return;
    await deleteAllStorage(this.ctx.storage);
  }

  // ───────────────────────── conversations ─────────────────────────
  // The index named by a conversation id (`responseIndexFor(env, "conv_…")`) holds no response
  // of its own: it keeps the conversation's turns, so each turn chains to the one before it as
  // with `previous_response_id`, and knows which turn made each item.

  /**
   * Records a turn of this conversation (idempotent) and its output item ids (accumulating);
   * returns the turn before it, or null for the first. A turn of another tenant is refused.
   */
  conversationTurn(input: { tenant: string; responseId: string; itemIds?: string[] }): string | null {
    this.#ready();
    this.#table("conversation_turns");
    this.#table("conversation_items");
    const known = this.#sql
      .exec<{ tenant: string; previous_response_id: string | null }>(
        "SELECT tenant, previous_response_id FROM conversation_turns WHERE response_id = ?",
        input.responseId,
      )
      .toArray()[0];
    if (known && known.tenant !== input.tenant) throw new Error("this conversation turn belongs to another tenant");
    let previous = known ? known.previous_response_id : null;
    if (!known) {
      const last = this.#sql
        .exec<{ response_id: string; seq: number }>(
          "SELECT response_id, seq FROM conversation_turns WHERE tenant = ? ORDER BY seq DESC LIMIT 1",
          input.tenant,
        )
        .toArray()[0];
      previous = last?.response_id ?? null;
      this.#sql.exec(
        "INSERT INTO conversation_turns (response_id, tenant, seq, previous_response_id) VALUES (?, ?, ?, ?)",
        input.responseId,
        input.tenant,
        (last?.seq ?? 0) + 1,
        previous,
      );
    }
    for (const itemId of input.itemIds ?? []) {
      this.#sql.exec(
        "INSERT INTO conversation_items (item_id, tenant, response_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        itemId,
        input.tenant,
        input.responseId,
      );
    }
    return previous;
  }

  /** Which of this tenant's turns made each item (items it does not know are left out), and the latest turn. */
  conversationItems(input: { tenant: string; itemIds: string[] }): {
    owners: Record<string, string>;
    latest: string | null;
  } {
    const owners: Record<string, string> = {};
    if (!this.#has("conversation_turns")) return { owners, latest: null };
    for (const itemId of input.itemIds) {
      const hit = this.#sql
        .exec<{ response_id: string }>(
          "SELECT response_id FROM conversation_items WHERE item_id = ? AND tenant = ?",
          itemId,
          input.tenant,
        )
        .toArray()[0];
      if (hit) owners[itemId] = hit.response_id;
    }
    const latest = this.#sql
      .exec<{ response_id: string }>(
        "SELECT response_id FROM conversation_turns WHERE tenant = ? ORDER BY seq DESC LIMIT 1",
        input.tenant,
      )
      .toArray()[0];
    return { owners, latest: latest?.response_id ?? null };
  }

  // ───────────────────────── background responses ─────────────────────────

  /**
   * Follows a background response: this object's alarm polls upstream until the response ends,
   * then harvests it like the plain route would, so its files are stored even if the client never
   * polls. Idempotent; a response registered to another tenant is refused.
   */
  async watchBackground(input: {
    tenant: string;
    responseId: string;
    previousResponseId?: string | null;
    createdAt: number;
    upstreamKeySealed?: string | null;
  }): Promise<void> {
    this.register({
      tenant: input.tenant,
      responseId: input.responseId,
      previousResponseId: input.previousResponseId ?? null,
      createdAt: input.createdAt,
      containerIds: [],
    });
    const now = Date.now();
    this.#table("background_watch");
    this.#sql.exec(
      `INSERT INTO background_watch (id, tenant, previous_response_id, next_poll_at, until, upstream_key_sealed) VALUES (1, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO NOTHING`,
      input.tenant,
      input.previousResponseId ?? null,
      now + nextPollDelay(0),
      now + BACKGROUND_WATCH_MS,
      input.upstreamKeySealed ?? null,
    );
    await this.#armWatch();
  }

  /** Polls a watched background response once; harvests it when it has ended. */
  override async alarm(): Promise<void> {
    if (!this.#has("background_watch")) return;
    const w = this.#sql
      .exec<{
        tenant: string;
        previous_response_id: string | null;
        polls: number;
        until: number;
        upstream_key_sealed: string | null;
        key_failures: number;
      }>(
        "SELECT tenant, previous_response_id, polls, until, upstream_key_sealed, key_failures FROM background_watch WHERE state = 'watching'",
      )
      .toArray()[0];
    const row = this.#row();
    if (!w || !row) return;
    // The polls and the harvest use the key the response was made with (a pass-through caller's
    // own, a tenant's, or the deployment's): another organisation's key would not find it.
    const deployment = loadConfig(this.env);
    let key: string;
    try {
      key = await keyForLaterWork(this.env, deployment, w.tenant, w.upstream_key_sealed, this);
    } catch (err) {
      return this.#keyFailed(row.id, w, err);
    }
    if (w.key_failures > 0) this.#sql.exec("UPDATE background_watch SET key_failures = 0 WHERE id = 1");
    const config = { ...deployment, OPENAI_API_KEY: key };
    const polled = await pollResponse(config, row.id);
    if (polled.kind === "gone") return this.#endWatch("gone", polled.error);
    if (polled.kind === "failed")
      this.#sql.exec("UPDATE background_watch SET last_error = ? WHERE id = 1", polled.error);
    const status = polled.kind === "response" ? (polled.response.status ?? "") : "";
    if (polled.kind === "response" && TERMINAL_STATUSES.has(status)) {
      if (!backgroundHarvester) {
        logEvent("error", "background_harvest_missing", {
          tenant: w.tenant,
          responseId: row.id,
          reason: "no_harvester",
        });
        return this.#endWatch("abandoned", "no harvester is installed");
      }
      await backgroundHarvester({
        env: this.env,
        config,
        response: polled.response,
        tenant: w.tenant,
        previousResponseId: w.previous_response_id,
        upstreamKeySealed: w.upstream_key_sealed,
        index: this,
      });
      return this.#endWatch("harvested", null);
    }
    const now = Date.now();
    if (now >= w.until) return this.#endWatch("abandoned", `still ${status || "unknown"} after the watch window`);
    this.#sql.exec(
      "UPDATE background_watch SET polls = polls + 1, next_poll_at = ? WHERE id = 1",
      now + nextPollDelay(w.polls + 1),
    );
    await this.#armWatch();
  }

  /**
   * The key could not be had (the directory failed, or the sealed key cannot be opened): the
   * watch backs off with jitter (tracker/backoff.ts), so indexes that failed together do not all
   * come back in the same second, until its window ends. A tenant revoked or gone ends it.
   */
  async #keyFailed(responseId: string, w: { tenant: string; until: number; key_failures: number }, err: unknown) {
    const failures = w.key_failures + 1;
    logEvent("warn", "background_watch_key_failed", {
      tenant: w.tenant,
      responseId,
      attempt: failures,
      ...errorFields(err),
    });
    const message = err instanceof Error ? err.message : String(err);
    if (err instanceof UnsandboxError && err.options.code === "tenant_not_found")
      return this.#endWatch("abandoned", message);
    const now = Date.now();
    if (now >= w.until) return this.#endWatch("abandoned", `no upstream key after ${failures} tries: ${message}`);
    this.#sql.exec(
      "UPDATE background_watch SET key_failures = ?, last_error = ?, next_poll_at = ? WHERE id = 1",
      failures,
      message,
      now + backoffMs(failures),
    );
    await this.#armWatch();
  }

  #endWatch(state: string, error: string | null): void {
    // The watch is over: the caller's key is not kept beyond it (the trackers hold their own).
    this.#sql.exec(
      "UPDATE background_watch SET state = ?, last_error = ?, upstream_key_sealed = NULL WHERE id = 1",
      state,
      error,
    );
  }

  #watching(): boolean {
    return (
      this.#has("background_watch") &&
      this.#sql.exec("SELECT 1 FROM background_watch WHERE state = 'watching'").toArray().length > 0
    );
  }

  async #armWatch(): Promise<void> {
    const next = this.#sql
      .exec<{ next_poll_at: number }>("SELECT next_poll_at FROM background_watch WHERE state = 'watching'")
      .toArray()[0];
    if (next) await this.ctx.storage.setAlarm(next.next_poll_at);
  }

  #pin(path: string, r: Extract<PathResolution, { kind: "file" }>, via: string): PathResolution {
    this.#table("resolutions");
    this.#sql.exec(
      `INSERT INTO resolutions (path, tenant, container_id, file_id, version, via_response_id, resolved_at)
       SELECT ?, tenant, ?, ?, ?, ?, ? FROM _schema WHERE response_id IS NOT NULL ON CONFLICT (path) DO NOTHING`,
      path,
      r.containerId,
      r.fileId,
      r.version,
      via,
      Date.now(),
    );
    return r;
  }

  #row(): ResponseRow | undefined {
    if (!this.#held) return undefined;
    return this.#sql
      .exec<ResponseRow>(
        "SELECT response_id AS id, tenant, previous_response_id, created_at, coalesce(registered_at, 0) AS registered_at FROM _schema WHERE response_id IS NOT NULL",
      )
      .toArray()[0];
  }

  #containers(): string[] {
    if (!this.#held) return [];
    const row = this.#sql
      .exec<{ container_ids: string }>("SELECT container_ids FROM _schema WHERE id = 1")
      .toArray()[0];
    return row ? (JSON.parse(row.container_ids) as string[]) : [];
  }
}
