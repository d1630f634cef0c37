/**
 * @module tracker/types
 * The RPC surface of the tracker Durable Objects: zod schemas for what callers send (parsed on
 * arrival, since RPC crosses an isolate boundary) and the plain types of what they get back.
 */
import { z } from "zod";

/** How a response referred to a file. `listing` = found by sweeping the container, not cited. */
export const CitedSchema = z.enum(["annotation", "link", "item", "figure", "listing"]);
export type Cited = z.infer<typeof CitedSchema>;

/** One reference the proxy found in a response: a file id, a path, or both. */
export const FileRefSchema = z
  .object({
    fileId: z.string().min(1).optional(),
    /** Canonical path (`/mnt/data/…`), as `canonicalPath()` in src/links/refs.ts produces it. */
    path: z.string().min(1).optional(),
    filename: z.string().min(1).optional(),
    cited: CitedSchema,
  })
  .refine((r) => r.fileId || r.path || r.filename, "a ref needs a fileId, a path or a filename");
export type FileRef = z.infer<typeof FileRefSchema>;

export const OpenSchema = z.object({
  tenant: z.string().min(1),
  containerId: z.string().min(1),
  responseId: z.string().min(1),
  /** Unix seconds, as in the response object; defaults to now. */
  responseCreatedAt: z.number().optional(),
  /**
   * Unix seconds after which every link this response issued has expired; `null` = its links
   * never expire (the default). Once all of a tracker's responses have expired links, nothing can
   * reach it any more and it deletes its objects and itself (docs/storage.md, "Retention").
   */
  linksExpireAt: z.number().nullable().optional(),
  /**
   * Pass-through mode: the caller's own upstream key, sealed (`sealForLaterWork`), which this
   * tracker keeps while it may still read the container. Absent: the key `upstreamKeyFor` finds.
   */
  upstreamKeySealed: z.string().min(1).nullable().optional(),
  /**
   * Multi-tenant mode: the tenant's limits and sealed upstream key as the request knew them
   * (`tenantForLaterWork`), so a new tracker need not read them from the directory.
   */
  tenantRecord: z
    .object({ limits: z.record(z.string(), z.unknown()).nullable(), upstreamKeySealed: z.string().nullable() })
    .nullable()
    .optional(),
});
export type OpenInput = z.input<typeof OpenSchema>;

export const TrackSchema = OpenSchema.extend({
  responseCreatedAt: z.number(),
  refs: z.array(FileRefSchema).default([]),
  /** List the container now and keep re-listing for a bounded time (files register late). */
  sweep: z.boolean().default(true),
  /**
   * Optional repair: the model of the response, when it asked for repair. If the sweep window
   * closes with linked paths never written, the alarm asks this model once more (src/tracker/repair.ts).
   */
  repairModel: z.string().min(1).optional(),
});
export type TrackInput = z.input<typeof TrackSchema>;

export const StoreInlineSchema = z.object({
  tenant: z.string().min(1),
  responseId: z.string().min(1),
  filename: z.string().min(1),
  contentType: z.string().min(1),
  bytes: z.custom<Uint8Array>((v) => v instanceof Uint8Array, "bytes must be a Uint8Array"),
  /** The path the link for this figure names; defaults to `/mnt/data/<filename>`. */
  path: z.string().min(1).optional(),
});
export type StoreInlineInput = z.input<typeof StoreInlineSchema>;

/**
 * Why a file (or an unresolved path) is in its state: a closed set of machine codes, stored in
 * `files.reason_code`. The human sentence (the manifest's public `reason`) is made from the code
 * by `reasonText` in ./policy.ts, in one place, so its wording stays what the API documents.
 */
export type ReasonCode =
  | "container_expired"
  | "expired_before_copy"
  | "retries_exhausted"
  | "no_containers_api"
  | "limit_files_per_response"
  | "limit_bytes"
  | "blocked_extension"
  | "junk"
  | "no_content"
  | "never_listed"
  | "deleted_on_request"
  | "deleted_by_retention"
  | "tenant_revoked";

/**
 * File states; `pending` and `copying` are the only non-final ones. `unavailable`: the upstream
 * has no Containers API (a 404 on the route itself), so nothing could be copied.
 */
export const FILE_STATES = [
  "pending",
  "copying",
  "stored",
  "failed",
  "missing",
  "lost",
  "skipped",
  "deleted",
  "unavailable",
] as const;
export type FileState = (typeof FILE_STATES)[number];

export const DeleteFilesSchema = z
  .object({
    tenant: z.string().min(1),
    /** Every file version this response cited or its sweep found. */
    responseId: z.string().min(1).optional(),
    /** Every version of this container file. */
    fileId: z.string().min(1).optional(),
  })
  .refine(
    (d) => (d.responseId === undefined) !== (d.fileId === undefined),
    "name exactly one of responseId and fileId",
  );
export type DeleteFilesInput = z.input<typeof DeleteFilesSchema>;

/**
 * Why a tracker refused a call, for code: `foreign_tenant` (the container, response or file is
 * another tenant's), `wrong_container` (this tracker tracks another container id),
 * `not_opened` (the call needs `open`/`track` first, or for an index, `register`).
 */
export type TrackerRefusal = "foreign_tenant" | "wrong_container" | "not_opened";

/**
 * A refusal thrown by a tracker. Across RPC only the message survives
 * (https://developers.cloudflare.com/workers/runtime-apis/rpc/error-handling/), so it starts with
 * the code; a caller that must branch on a refusal gets a tagged result instead (`deleteFiles`).
 */
export class TrackerError extends Error {
  constructor(
    readonly code: TrackerRefusal,
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = "TrackerError";
  }
}

/** What `deleteFiles` answers: the versions it deleted, or why it refused. */
export type DeleteFilesResult = { kind: "deleted"; files: DeletedFile[] } | { kind: "refused"; code: "foreign_tenant" };

/** One file version a deletion removed from R2 (or found already gone). */
export interface DeletedFile {
  container_id: string;
  file_id: string;
  version: number;
  path: string;
  /** The state before the deletion (`stored`, `pending`…, or `deleted` when it already was). */
  previous_state: FileState;
}

/** One line of a response's manifest. A path that never resolved has `file_id: null` and state `pending` or `missing`. */
export interface ManifestEntry {
  container_id: string;
  file_id: string | null;
  version: number | null;
  path: string;
  filename: string;
  state: FileState;
  bytes: number | null;
  content_type: string | null;
  sha256: string | null;
  cited: Cited[];
  reason: string | null;
}

/** Everything the download route needs to serve one file version. */
export interface FileRecord {
  tenant: string;
  containerId: string;
  fileId: string;
  version: number;
  path: string;
  filename: string;
  state: FileState;
  /** Why the file is in its state, for people (the manifest's `reason`). */
  reason: string | null;
  /** The same, for code (`ReasonCode` above); null on rows older than schema v6. */
  reasonCode: ReasonCode | null;
  /** When the state last changed (ms since epoch). */
  stateAt: number;
  bytes: number | null;
  contentType: string;
  sha256: string | null;
  r2Key: string;
}

/** What a link path means within one response. */
export type PathResolution =
  | { kind: "file"; containerId: string; fileId: string; version: number }
  /** The objects emptied themselves: the file version as the link's pin in R2 keeps it (src/tracker/outlive.ts). */
  | { kind: "pinned"; file: FileRecord }
  /** Still harvesting: the file may yet appear. */
  | { kind: "pending" }
  /** The harvest is over and nothing was written at that path. */
  | { kind: "missing" }
  /** This object has never heard of the response (or it belongs to another tenant). */
  | { kind: "unknown" };

/** A file as the containers routes list it: the record plus where it came from. */
export interface ContainerFileRecord extends FileRecord {
  upstreamCreatedAt: number | null;
  /** The response whose harvest first saw it (its links name the file). */
  firstResponseId: string | null;
  source: string | null;
}
