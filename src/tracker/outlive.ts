/**
 * @module tracker/outlive
 * Durable Object state lives while it is worked on. Once a container is over (`containerIsOver`
 * in ./policy.ts: no more reads, every file settled, no job, sweep or repair left, usage sent), its
 * tracker moves what links and manifests still need into R2 next to the bytes (src/storage/pins.ts):
 * each response's manifest, and a pin per path the response linked or cited with the file version
 * it resolves to. It tells each response's index (which empties itself once all its containers
 * are over), then deletes its own storage (`deleteAll`:
 * https://developers.cloudflare.com/durable-objects/api/storage-api/#deleteall) and keeps only
 * the R2 deletions it still owes (`ended` rows: bytes at `retain_until`, pins and manifests when
 * every link that could reach them expired), each with the one alarm. When the last is done it
 * deletes those too and holds nothing.
 *
 * The records' shapes live here (zod, since R2 is read back across deployments); the key layout
 * and the JSON I/O are src/storage/pins.ts.
 */
import { z } from "zod";
import { deleteAllStorage, migrate } from "../durable/sqlite-migrations";
import { fileObjectKey } from "../storage/keys";
import {
  deletePrefix,
  manifestKey,
  pinKey,
  readRecord,
  responseRecordKey,
  responseStatePrefixes,
  writeRecord,
} from "../storage/pins";
import type { Capability, TrackerContext } from "./context";
import type { Copies } from "./copies";
import { computedExpiry, deletionsAfterEnd, isLive, pinnedState, reasonText, settleAt, unreachableAt } from "./policy";
import { fileRecord, type FileRow } from "./rows";
import type { EndedRefs, EndedRow } from "./ended-store";
import { TRACKER_BASELINE, TRACKER_MIGRATIONS } from "./schema";
import { responseIndexFor } from "./stubs";
import {
  TrackerError,
  type DeletedFile,
  type FileRecord,
  FILE_STATES,
  type ManifestEntry,
  type PathResolution,
} from "./types";

const STATES = FILE_STATES;

const FileRecordSchema = z.object({
  tenant: z.string(),
  containerId: z.string(),
  fileId: z.string(),
  version: z.number(),
  path: z.string(),
  filename: z.string(),
  state: z.enum(STATES),
  reason: z.string().nullable(),
  reasonCode: z.string().nullable(),
  stateAt: z.number(),
  bytes: z.number().nullable(),
  contentType: z.string(),
  sha256: z.string().nullable(),
  r2Key: z.string(),
});

/** A link pin: the file version (tenant, response, path) resolves to. */
const PinSchema = z.object({ v: z.literal(1), file: FileRecordSchema, retainUntil: z.number().nullable() });
type Pin = z.infer<typeof PinSchema>;

const ManifestEntrySchema = z.object({
  container_id: z.string(),
  file_id: z.string().nullable(),
  version: z.number().nullable(),
  path: z.string(),
  filename: z.string(),
  state: z.enum(STATES),
  bytes: z.number().nullable(),
  content_type: z.string().nullable(),
  sha256: z.string().nullable(),
  cited: z.array(z.enum(["annotation", "link", "item", "figure", "listing"])),
  reason: z.string().nullable(),
});

/** A response's manifest in one container, and where each of its versions' bytes are (for deletion and retention). */
const ManifestRecordSchema = z.object({
  v: z.literal(1),
  entries: z.array(ManifestEntrySchema),
  objects: z.array(
    z.object({ file_id: z.string(), version: z.number(), r2_key: z.string(), retain_until: z.number().nullable() }),
  ),
});
type ManifestRecord = z.infer<typeof ManifestRecordSchema>;

/** What an emptied response index leaves: what `info` and `lookupOriginals` answered. */
export const ResponseRecordSchema = z.object({
  v: z.literal(1),
  id: z.string(),
  tenant: z.string(),
  previousResponseId: z.string().nullable(),
  createdAt: z.number(),
  containerIds: z.array(z.string()),
  links: z.array(z.object({ url: z.string(), path: z.string(), original: z.string() })),
});
export type ResponseRecord = z.infer<typeof ResponseRecordSchema>;

// ───────────────────────────── reading what outlived ─────────────────────────────

/** A pin as of `now` (a stored copy past retention reads as deleted by retention). */
function fileOfPin(pin: Pin, now: number): FileRecord {
  const file = pin.file as FileRecord;
  const after = pinnedState({ ...file, retainUntil: pin.retainUntil }, now);
  return after ? { ...file, ...after } : file;
}

/** The file version a link resolves to once its objects emptied, or null (no pin). One R2 `get`. */
export async function readPin(
  bucket: R2Bucket,
  link: { tenant: string; responseId: string; path: string },
  now = Date.now(),
): Promise<FileRecord | null> {
  const parsed = PinSchema.safeParse(await readRecord(bucket, await pinKey(link)));
  if (!parsed.success || parsed.data.file.tenant !== link.tenant) return null;
  return fileOfPin(parsed.data, now);
}

async function manifestRecord(
  bucket: R2Bucket,
  tenant: string,
  responseId: string,
  containerId: string,
): Promise<ManifestRecord | null> {
  const parsed = ManifestRecordSchema.safeParse(await readRecord(bucket, manifestKey(tenant, responseId, containerId)));
  return parsed.success ? parsed.data : null;
}

/** A response's manifest in a container whose tracker emptied itself, as of `now`; null when none was written. */
export async function readManifest(
  bucket: R2Bucket,
  tenant: string,
  responseId: string,
  containerId: string,
  now = Date.now(),
): Promise<ManifestEntry[] | null> {
  const m = await manifestRecord(bucket, tenant, responseId, containerId);
  if (!m) return null;
  return m.entries.map((e) => {
    const o = m.objects.find((x) => x.file_id === e.file_id && x.version === e.version);
    const after = o ? pinnedState({ ...e, stateAt: 0, retainUntil: o.retain_until }, now) : null;
    return after ? { ...e, state: after.state, reason: after.reason } : e;
  });
}

/** The record an emptied response index left, or null. */
export async function readResponseRecord(
  bucket: R2Bucket,
  tenant: string,
  responseId: string,
): Promise<ResponseRecord | null> {
  const parsed = ResponseRecordSchema.safeParse(await readRecord(bucket, responseRecordKey(tenant, responseId)));
  return parsed.success && parsed.data.tenant === tenant && parsed.data.id === responseId ? parsed.data : null;
}

export function writeResponseRecord(bucket: R2Bucket, record: ResponseRecord): Promise<void> {
  return writeRecord(bucket, responseRecordKey(record.tenant, record.id), record, true);
}

type Reasoned = { code: "deleted_on_request" | "deleted_by_retention"; at: number };
const versionOf = (e: { file_id: string | null; version: number | null }) => `${e.file_id}/${e.version}`;

/** Rewrites a manifest's entries of `versions` (`<file id>/<version>`) as deleted; returns those entries as they were. */
async function markManifestDeleted(
  bucket: R2Bucket,
  key: string,
  versions: ReadonlySet<string>,
  reason: Reasoned,
): Promise<ManifestEntry[]> {
  const parsed = ManifestRecordSchema.safeParse(await readRecord(bucket, key));
  if (!parsed.success) return [];
  const hit = parsed.data.entries.filter((e) => e.file_id !== null && versions.has(versionOf(e)));
  if (hit.length === 0) return [];
  const entries = parsed.data.entries.map((e) =>
    e.file_id === null || !versions.has(versionOf(e)) || e.state === "deleted"
      ? e
      : { ...e, state: "deleted" as const, reason: reasonText(reason) },
  );
  await writeRecord(bucket, key, { ...parsed.data, entries }, false);
  return hit;
}

/** Rewrites a link pin as deleted (its link answers 410 with the reason). */
async function markPinDeleted(bucket: R2Bucket, key: string, reason: Reasoned): Promise<void> {
  const parsed = PinSchema.safeParse(await readRecord(bucket, key));
  if (!parsed.success || parsed.data.file.state === "deleted") return;
  const file = {
    ...parsed.data.file,
    state: "deleted" as const,
    reason: reasonText(reason),
    reasonCode: reason.code,
    stateAt: reason.at,
  };
  await writeRecord(bucket, key, { ...parsed.data, file }, false);
}

/**
 * Deletion by request once a response's objects emptied: the bytes of every version its manifests
 * list go from R2, and its manifests and pins are rewritten as `deleted` (so its links answer
 * 410 "deleted on request"). The record is the response's (`readResponseRecord`).
 */
export async function deleteAfterEnd(bucket: R2Bucket, record: ResponseRecord, now: number): Promise<DeletedFile[]> {
  const deleted: DeletedFile[] = [];
  const reason = { code: "deleted_on_request" as const, at: now };
  for (const containerId of record.containerIds) {
    const key = manifestKey(record.tenant, record.id, containerId);
    const m = await manifestRecord(bucket, record.tenant, record.id, containerId);
    if (!m) continue;
    for (const o of m.objects) await bucket.delete(o.r2_key);
    const hit = await markManifestDeleted(bucket, key, new Set(m.objects.map(versionOf)), reason);
    for (const e of hit) {
      deleted.push({
        container_id: containerId,
        file_id: e.file_id!,
        version: e.version!,
        path: e.path,
        previous_state: e.state,
      });
      await markPinDeleted(
        bucket,
        await pinKey({ tenant: record.tenant, responseId: record.id, path: e.path }),
        reason,
      );
    }
  }
  return deleted;
}

// ───────────────────────────── the tracker's end ─────────────────────────────

/** What the tracker answers about its responses, read while it still holds them. */
export interface TrackerReads {
  manifest(responseId: string): ManifestEntry[];
  resolvePath(input: { tenant: string; responseId: string; path: string }): PathResolution;
}

/** One row per key: the earliest time, and what the later end knows over what an earlier one kept. */
function mergeDue(rows: readonly EndedRow[]): EndedRow[] {
  const byKey = new Map<string, EndedRow>();
  for (const r of rows) {
    const was = byKey.get(r.key);
    byKey.set(
      r.key,
      was ? { ...r, at: Math.min(was.at, r.at), file: r.file ?? was.file, refs: r.refs ?? was.refs } : r,
    );
  }
  return [...byKey.values()];
}

const pinOf = (row: FileRow): Pin => ({ v: 1, file: fileRecord(row), retainUntil: row.retain_until });

export class Outlive implements Capability {
  constructor(
    private readonly ctx: TrackerContext,
    private readonly state: DurableObjectState,
    private readonly copies: Copies,
    private readonly reads: TrackerReads,
  ) {}

  /** Whether the tracker holds no tables: never written to, or emptied (keeping only the deletions it owes). */
  get ended(): boolean {
    return this.ctx.store.ended.isEmptied();
  }

  /** When the tracker may empty itself (`settleAt`), or null while work is left (`usageSent`: as if its usage were sent). */
  #settleAt(now: number, usageSent?: boolean): number | null {
    const c = this.ctx.store.container();
    if (!c) return null;
    const clock = {
      openedAt: c.opened_at,
      clientActiveAt: c.client_active_at,
      expiresAfterMinutes: c.expires_after_minutes,
    };
    const live = isLive({ status: c.status, finalSweptAt: c.final_swept_at });
    const expired = now >= computedExpiry(clock);
    // A live container is never over (`containerIsOver`): the work left is not read on every
    // alarm of its life, only once it may end.
    if (live && !expired) return null;
    const work = {
      live,
      expired,
      ...this.ctx.store.ended.workLeft(),
      unmetered: usageSent === undefined ? this.ctx.usage.nextWake(now) !== null : !usageSent,
      copying: this.copies.busy,
    };
    return settleAt(work, c.client_active_at ?? c.opened_at, now);
  }

  /** When the container is over and quiet (the alarm then moves it to R2); an emptied tracker's next deletion. */
  nextWake(now: number): number | null {
    if (this.ended) return this.ctx.store.ended.earliest();
    return this.#settleAt(now);
  }

  /**
   * Once the container is over: writes each response's manifest and pins, tells each response's
   * index, empties the tracker and keeps the deletions it owes. A failure leaves everything as it
   * was (the writes are idempotent) for the next alarm.
   * @returns true when the tracker emptied itself.
   */
  async settleIfOver(now: number): Promise<boolean> {
    if (this.ended) return false;
    // Usage a timer of this instance would send shortly (`flushDue` left it to it) goes now when
    // it is all that holds the end back: nothing is left to batch it with.
    const quiet = this.#settleAt(now, true);
    if (quiet !== null && quiet <= now && this.ctx.usage.nextWake(now) !== null) await this.ctx.usage.flush();
    const settleDue = this.#settleAt(now);
    if (settleDue === null || settleDue > now) return false;
    const store = this.ctx.store;
    const c = store.container()!;
    const bucket = this.ctx.env.FILES;
    store.ended.settleClaims();
    const responses = store.ended.responses();
    // Which records name each stored object, so the deletion that ends it can say so in them.
    const refs = new Map<string, EndedRefs>();
    const unreachable = unreachableAt(store.linkReach());
    const refsOf = (key: string, retainUntil: number | null) =>
      refs.get(key) ??
      refs
        .set(key, {
          pins: [],
          manifests: [],
          retention: retainUntil !== null && (unreachable === null || retainUntil <= unreachable),
        })
        .get(key)!;
    for (const r of responses) {
      const objects = store
        .responseFiles(r.response_id)
        .filter((f) => f.state === "stored" || f.state === "deleted")
        .map((f) => ({ file_id: f.file_id, version: f.version, r2_key: f.r2_key, retain_until: f.retain_until }));
      const record: ManifestRecord = { v: 1, entries: this.reads.manifest(r.response_id), objects };
      const mKey = manifestKey(r.tenant, r.response_id, c.id);
      await writeRecord(bucket, mKey, record, true);
      for (const o of objects) refsOf(o.r2_key, o.retain_until).manifests.push(mKey);
      for (const path of store.ended.responsePaths(r.response_id)) {
        const hit = this.reads.resolvePath({ tenant: r.tenant, responseId: r.response_id, path });
        const row = hit.kind === "file" ? store.file(hit.fileId, hit.version) : undefined;
        if (!row) continue;
        const key = await pinKey({ tenant: r.tenant, responseId: r.response_id, path });
        await writeRecord(bucket, key, pinOf(row), true);
        refsOf(row.r2_key, row.retain_until).pins.push(key);
      }
    }
    for (const r of responses)
      await responseIndexFor(this.ctx.env, r.response_id).containerEnded({ tenant: r.tenant, containerId: c.id });
    const stored = store.storedFiles();
    const files = new Map(stored.map((f) => [f.r2_key, f]));
    const due = mergeDue([
      ...store.ended.due(Number.MAX_SAFE_INTEGER), // owed by an earlier end of this tracker (it was reopened)
      ...deletionsAfterEnd(
        stored.map((f) => ({ key: f.r2_key, retainUntil: f.retain_until })),
        unreachable,
        responses.flatMap((r) => responseStatePrefixes(r.tenant, r.response_id)),
      ).map((d) => ({ ...d, file: files.get(d.key) ?? null, refs: refs.get(d.key) ?? null })),
    ]);
    await deleteAllStorage(this.state.storage); // the alarm too
    if (due.length) store.ended.write(c.tenant, c.id, due);
    this.ctx.tenant.clear();
    this.ctx.waiters.notify();
    const at = store.ended.earliest();
    if (at !== null) await this.state.storage.setAlarm(at);
    return true;
  }

  /** An emptied tracker's alarm: the deletions due; once none is left, nothing at all is kept. */
  async runEnded(now: number): Promise<void> {
    const store = this.ctx.store;
    const bucket = this.ctx.env.FILES;
    const due = store.ended.due(now);
    // Bytes past retention: their pins and manifests say so (each record rewritten once per run).
    const reason = { code: "deleted_by_retention" as const, at: now };
    const pins = new Set<string>();
    const manifests = new Map<string, Set<string>>();
    for (const d of due) {
      if (d.prefix || !d.file || !d.refs?.retention) continue;
      for (const p of d.refs.pins) pins.add(p);
      for (const m of d.refs.manifests) manifests.set(m, (manifests.get(m) ?? new Set()).add(versionOf(d.file)));
    }
    for (const d of due) if (!d.prefix) await bucket.delete(d.key);
    for (const p of pins) await markPinDeleted(bucket, p, reason);
    for (const [m, versions] of manifests) await markManifestDeleted(bucket, m, versions, reason);
    for (const d of due) if (d.prefix) await deletePrefix(bucket, d.key);
    for (const d of due) store.ended.drop(d.key);
    const at = store.ended.earliest();
    if (at === null) await deleteAllStorage(this.state.storage);
    else await this.state.storage.setAlarm(at);
  }

  /**
   * Before a call that records work: the tables are made on the first write (a tracker that is only
   * read stays empty). On an emptied tracker (a later turn naming the container) they come back
   * with the container already over (no listing, no copy: its versions were numbered before, and
   * a new copy could not reuse their keys), and the deletions it owes stay.
   */
  ready(tenant: string, containerId: string, now: number): void {
    if (!this.ended) return;
    const owner = this.ctx.store.ended.owner();
    if (owner && owner.container_id !== containerId)
      throw new TrackerError("wrong_container", `this tracker tracks ${owner.container_id}, not ${containerId}`);
    if (owner && owner.tenant !== tenant)
      throw new TrackerError("foreign_tenant", "this container belongs to another tenant");
    migrate(this.state.storage, TRACKER_MIGRATIONS, TRACKER_BASELINE);
    if (!owner) return; // a tracker never written to (or that keeps nothing any more) starts fresh
    this.ctx.store.insertContainer(containerId, tenant, now, null);
    this.ctx.store.endContainer("final_sweep", now);
    this.ctx.store.ended.restoreFiles();
  }

  /**
   * Deletion of one container file (all versions) by request on an emptied tracker: its objects
   * are found by their key prefix. Pins naming them keep their state; their links answer 410 once
   * the bytes are gone (the download route's "no longer exists").
   */
  async deleteVersionsAfterEnd(tenant: string, fileId: string): Promise<DeletedFile[]> {
    const owner = this.ctx.store.ended.owner();
    if (!owner || owner.tenant !== tenant) return [];
    const prefix = fileObjectKey({ tenant, containerId: owner.container_id, fileId, version: 0 }).replace(/v0$/, "");
    const page = await this.ctx.env.FILES.list({ prefix, include: ["customMetadata"], limit: 1000 });
    const deleted = page.objects.map((o) => ({
      container_id: owner.container_id,
      file_id: fileId,
      version: Number(o.customMetadata?.version ?? o.key.slice(prefix.length + 1)),
      path: o.customMetadata?.path ?? "",
      previous_state: "stored" as const,
    }));
    if (page.objects.length) await this.ctx.env.FILES.delete(page.objects.map((o) => o.key));
    return deleted;
  }

  /**
   * A response's manifest from R2, for an emptied tracker (the container is the object's name; the
   * tenant the caller's, else the one its `ended` rows name).
   */
  async manifestAfterEnd(responseId: string, tenant?: string): Promise<ManifestEntry[]> {
    const owner = this.ctx.store.ended.owner();
    const containerId = owner?.container_id ?? this.state.id.name;
    const who = tenant ?? owner?.tenant;
    if (!who || !containerId || (owner && tenant && owner.tenant !== tenant)) return [];
    return (await readManifest(this.ctx.env.FILES, who, responseId, containerId)) ?? [];
  }
}
