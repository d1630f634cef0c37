/**
 * @module harvest/harvest
 * Hands what a Response says about files to the Durable Objects and collects the manifest: the
 * response index learns the response's containers and the links it issued; each container's
 * tracker learns the cited files and linked paths, sweeps the listing for the rest, and copies
 * everything to R2 from its alarm. The caller may then wait a bounded time for the copies.
 */
import { responseIndexFor, trackerFor } from "../tracker/stubs";
import type { FileRecord, FileRef, ManifestEntry, PathResolution } from "../tracker/types";
import { readManifest, writeResponseRecord } from "../tracker/outlive";
import type { LinkRecord, RegisterInput } from "../tracker/response-index";
import type { Bindings } from "../config";
import { errorFields, logEvent } from "../log";
import { decodeDataUrl, discover, type Discovery } from "./discover";
import { refOfPath, type LinkNaming } from "../links/naming";
import { citedPath } from "../links/response";
import { urlOfPath } from "./naming";
import { noteFiles, noteHarvest } from "../observability/request-context";
import { linkTombstone, objectTombstone, type TombstoneRecord } from "../storage/tombstones";
import type { TenantHandOff } from "../tenants/store";
import { noteNamed } from "./pin-hint";
import { chainIsEmpty } from "./empty-chains";

export interface HarvestOptions {
  tenant: string;
  /** The request's id (app.ts), for log lines; absent for a background harvest. */
  requestId?: string;
  previousResponseId?: string;
  clientWantsOutputs: boolean;
  /** How long to wait for copies before answering; files still copying are reported as such. */
  waitMs: number;
  /** When the links this response issued stop working (unix s; widget links), so trackers know when no link can reach them any more. */
  linksExpireAt?: number;
  /** Optional repair (src/harvest/repair.ts): the trackers may ask the model once more for linked files never written. */
  repair?: boolean;
  /** Pass-through mode: the caller's key, sealed, for the trackers' work after the request (`sealForLaterWork`). */
  upstreamKeySealed?: string | null;
  /** Multi-tenant mode: the tenant's limits and sealed key for new trackers (`tenantForLaterWork`). */
  tenantRecord?: TenantHandOff | null;
  /**
   * The containers the response's index already holds (a stream registers the response when a
   * tool call first names a container): when every container found is among them, the harvest
   * does not register the response again. Absent: nothing is registered yet.
   */
  registered?: ReadonlySet<string>;
  /**
   * Where a registration that nothing in this answer needs goes (see {@link harvest}): started
   * once the answer is out (the request's `waitUntil`), so it never holds the answer, not even for
   * the call's own start (locally, the first call to a new Durable Object sets up its storage on
   * the request's thread). Absent: it is awaited.
   */
  later?: (start: () => Promise<unknown>) => void;
}

/** The fields of a Response object the harvest reads. */
export interface ResponseLike {
  id: string;
  status?: unknown;
  model?: unknown;
  created_at?: unknown;
  output?: unknown;
}

/** What the harvest writes to a response index (its stub, or the object itself). */
export interface IndexWriter {
  register(input: RegisterInput): unknown;
  recordLinks(links: LinkRecord[]): unknown;
  resolve(input: { tenant: string; path: string }): Promise<PathResolution> | PathResolution;
}

/** The `unsandbox.files` entries of an answer: the tracker's manifest plus each file's URL. */
export interface AnswerFile {
  file_id: string | null;
  container_id: string;
  path: string;
  filename: string;
  url: string;
  /** The tracker's state, or `taken_down` when an admin took the link or its bytes down (the URL answers 410). */
  state: ManifestEntry["state"] | "taken_down";
  bytes: number | null;
  content_type: string | null;
  sha256: string | null;
  cited: ManifestEntry["cited"];
  reason: string | null;
}

/**
 * Registers the response and its files, waits up to `options.waitMs` for the copies, and returns
 * the files. A harvest problem is logged and never turns the upstream's answer into an error.
 *
 * The response's index is written only when something will read it (docs/architecture.md, "A
 * response's index, lazily"): the answer has containers (downloads resolve through them) or
 * issued links (the index maps each URL back to its text). A response with neither and no
 * `previous_response_id` makes no Durable Object call at all; one with a previous response has
 * its record written to R2 after the answer (`options.later`), only so that a later turn's links
 * resolve through it to the turns before it, unless this isolate knows those turns had nothing
 * either (./empty-chains.ts). The index writes run beside the trackers' work.
 */
export async function harvest(
  env: Bindings,
  response: ResponseLike,
  naming: LinkNaming,
  options: HarvestOptions,
  /** The response's index; the index itself passes `this` when it harvests from its alarm. */
  index: IndexWriter = responseIndexFor(env, response.id),
): Promise<AnswerFile[]> {
  const found = discover(response as { output?: unknown[] });
  const createdAt = typeof response.created_at === "number" ? response.created_at : Math.floor(Date.now() / 1000);
  try {
    // Name every link before the index hears of it, so it can map each URL back to its text; a
    // shown figure's citation gets a URL of its own (links/response.ts), recorded the same way.
    const figures = found.citations.flatMap((c) => {
      const path = c.figure ? citedPath({ filename: c.filename }) : null;
      return path ? [refOfPath(path)] : [];
    });
    await naming.name([...found.refs, ...figures]);
    const registration: RegisterInput = {
      tenant: options.tenant,
      responseId: response.id,
      previousResponseId: options.previousResponseId ?? null,
      createdAt,
      containerIds: found.containerIds,
    };
    const links = [...naming.issued];
    noteHarvest({ containers: found.containerIds.length, links: links.length }); // the request's log line
    const known = options.registered;
    const fresh = !known || found.containerIds.some((c) => !known.has(c));
    const needed = found.containerIds.length > 0 || links.length > 0;
    // A turn with nothing of its own after turns with nothing (known in this isolate) has nothing
    // behind it for a later turn's links to reach: no record (./empty-chains.ts). Only on the
    // create paths (`later`), where the record would be written.
    const emptyChain =
      !needed &&
      !!options.later &&
      chainIsEmpty(options.tenant, response.id, registration.previousResponseId ?? null, response.status);
    // Registered only for a later turn's chain: off the answer's path when the caller allows.
    const forChain = fresh && !needed && !!registration.previousResponseId && !emptyChain;
    // From a request, the chain goes where an emptied index leaves it: the response's record in
    // R2 (tracker/outlive.ts), which `ResponseIndex.resolve` reads for an index without tables. No
    // Durable Object is made for it (one would hold its tables for good: it has no container to end).
    if (forChain && options.later)
      options.later(() =>
        writeResponseRecord(env.FILES, {
          v: 1,
          id: response.id,
          tenant: options.tenant,
          previousResponseId: registration.previousResponseId ?? null,
          createdAt,
          containerIds: [],
          links: [],
        }),
      );
    const indexed = (async () => {
      if ((fresh && needed) || (forChain && !options.later)) await index.register(registration);
      if (links.length) await index.recordLinks(links);
    })();

    const [, manifests] = await Promise.all([
      indexed,
      Promise.all(
        found.containerIds.map(async (containerId) => {
          const tracker = trackerFor(env, containerId);
          noteNamed(options.tenant, response.id);
          await tracker.track({
            tenant: options.tenant,
            containerId,
            responseId: response.id,
            responseCreatedAt: createdAt,
            refs: refsFor(found, containerId),
            sweep: true,
            linksExpireAt: options.linksExpireAt ?? null,
            upstreamKeySealed: options.upstreamKeySealed ?? null,
            tenantRecord: options.tenantRecord ?? null,
            ...(options.repair && typeof response.model === "string" ? { repairModel: response.model } : {}),
          });
          for (const image of found.images.filter((i) => i.containerId === containerId)) {
            const decoded = decodeDataUrl(image.dataUrl);
            if (!decoded) continue;
            const ext = decoded.contentType.slice("image/".length).replace(/[^a-z0-9]/g, "") || "png";
            await tracker.storeInline({
              tenant: options.tenant,
              responseId: response.id,
              filename: `${image.callId || "figure"}_${image.outputIndex}.${ext}`,
              contentType: decoded.contentType,
              bytes: decoded.bytes,
            });
          }
          return tracker.waitForStored(response.id, options.waitMs);
        }),
      ),
    ]);
    const chained =
      found.containerIds.length === 0 && found.links.length > 0 && options.previousResponseId
        ? await citeFromChain(
            env,
            index,
            response.id,
            createdAt,
            found.links.map((l) => l.path),
            options,
          )
        : [];
    const files = await withUrls(env, [...manifests.flat(), ...chained], naming);
    noteFiles(files); // for the request's log line (observability/request-context.ts)
    return files;
  } catch (err) {
    logEvent("error", "harvest_failed", {
      requestId: options.requestId,
      tenant: options.tenant,
      responseId: response.id,
      ...errorFields(err),
    });
    return [];
  }
}

/**
 * A turn without a tool call (no container of its own) that links files of an earlier turn: each
 * link is resolved through the chain, as its download would be, and the containers holding the
 * files list them in this response's manifest too.
 */
async function citeFromChain(
  env: Bindings,
  index: IndexWriter,
  responseId: string,
  createdAt: number,
  paths: string[],
  options: HarvestOptions,
): Promise<ManifestEntry[]> {
  const byContainer = new Map<string, { fileId: string; version: number }[]>();
  // Files of an earlier turn whose objects emptied themselves: listed from their pins (no tracker).
  const pinned: ManifestEntry[] = [];
  for (const path of new Set(paths)) {
    const r = await index.resolve({ tenant: options.tenant, path });
    if (r.kind === "pinned") pinned.push(pinnedEntry(r.file));
    if (r.kind !== "file") continue;
    byContainer.set(r.containerId, [
      ...(byContainer.get(r.containerId) ?? []),
      { fileId: r.fileId, version: r.version },
    ]);
  }
  if (byContainer.size === 0) return pinned;
  await index.register({
    tenant: options.tenant,
    responseId,
    previousResponseId: options.previousResponseId ?? null,
    createdAt,
    containerIds: [...byContainer.keys()],
  });
  const manifests = await Promise.all(
    [...byContainer].map(([containerId, files]) =>
      trackerFor(env, containerId).citeFromChain({
        tenant: options.tenant,
        responseId,
        responseCreatedAt: createdAt,
        linksExpireAt: options.linksExpireAt ?? null,
        files,
      }),
    ),
  );
  return [...manifests.flat(), ...pinned];
}

/** A manifest entry for a file an earlier turn's pin keeps. */
function pinnedEntry(f: FileRecord): ManifestEntry {
  return {
    container_id: f.containerId,
    file_id: f.fileId,
    version: f.version,
    path: f.path,
    filename: f.filename,
    state: f.state,
    bytes: f.bytes,
    content_type: f.contentType,
    sha256: f.sha256,
    cited: ["link"],
    reason: f.reason,
  };
}

/**
 * The references one container's tracker gets: the citations that name it, and every linked path
 * (a link names no container; a path the container does not hold simply never resolves there).
 */
function refsFor(found: Discovery, containerId: string): FileRef[] {
  const refs: FileRef[] = found.citations
    .filter((c) => c.containerId === containerId)
    .map((c) => ({
      fileId: c.fileId,
      ...(c.filename ? { filename: c.filename } : {}),
      cited: c.figure ? "figure" : "annotation",
    }));
  for (const l of found.links) refs.push({ path: l.path, cited: "link" });
  return refs;
}

/**
 * Adds the download URL to each manifest entry: the same URL its link got, or a fresh one. With
 * several containers every linked path is asked of each, so a path that one container resolved
 * is not also reported unresolved by the others. A taken-down link or stored object is reported
 * as `taken_down` with the takedown's reason (storage/tombstones.ts; its URL answers 410), read
 * from the tenant's tombstone listing: one R2 `list` per answer at most, none while the location
 * holds it.
 */
async function withUrls(env: Bindings, entries: ManifestEntry[], naming: LinkNaming): Promise<AnswerFile[]> {
  const resolved = new Set(entries.filter((e) => e.file_id !== null).map((e) => e.path));
  const seenClaims = new Set<string>();
  const kept = entries.filter((e) => {
    if (e.file_id !== null) return true;
    if (resolved.has(e.path) || seenClaims.has(e.path)) return false;
    seenClaims.add(e.path);
    return true;
  });
  return Promise.all(
    kept.map(async (e) => {
      const stone = await takedownOf(env, naming, e);
      return {
        file_id: e.file_id,
        container_id: e.container_id,
        path: e.path,
        filename: e.filename,
        url: await urlOfPath(naming, e.path),
        state: stone ? ("taken_down" as const) : e.state,
        bytes: e.bytes,
        content_type: e.content_type,
        sha256: e.sha256,
        cited: e.cited,
        reason: stone ? `taken down: ${stone.reason}` : e.reason,
      };
    }),
  );
}

/** The takedown covering a manifest entry: its link's, or (once stored) its bytes'. */
async function takedownOf(env: Bindings, naming: LinkNaming, e: ManifestEntry): Promise<TombstoneRecord | null> {
  const link = { tenant: naming.tenant, responseId: naming.responseId, path: e.path };
  const [byLink, byBytes] = await Promise.all([
    linkTombstone(env.FILES, link),
    e.sha256 ? objectTombstone(env.FILES, { tenant: naming.tenant, r2Key: null, sha256: e.sha256 }) : null,
  ]);
  return byLink ?? byBytes;
}

/**
 * The files of a response as the trackers know them (no upstream reads): now, or once every listed
 * file has settled when `waitMs` is given (at most that long).
 */
export async function manifestOf(
  env: Bindings,
  info: { responseId: string; containerIds: string[]; ended?: boolean },
  naming: LinkNaming,
  waitMs = 0,
): Promise<AnswerFile[]> {
  // Waiting is the trackers' own: each answers when its files settle (no polling) or time is up.
  // Once the response's objects emptied themselves, the manifests are in R2 (tracker/outlive.ts).
  const manifests = await Promise.all(
    info.containerIds.map(async (id) =>
      info.ended
        ? ((await readManifest(env.FILES, naming.tenant, info.responseId, id)) ?? [])
        : waitMs > 0
          ? trackerFor(env, id).waitForStored(info.responseId, waitMs, naming.tenant)
          : trackerFor(env, id).manifest(info.responseId, naming.tenant),
    ),
  );
  return withUrls(env, manifests.flat(), naming);
}
