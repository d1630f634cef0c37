/**
 * @module tracker/rows
 * The ContainerTracker's SQLite rows as TypeScript sees them (tables in ./schema.ts, documented in
 * docs/storage.md, "ContainerTracker"), and the one conversion of a `files` row to the RPC shape.
 * The statements that read and write them are ./store.ts (files, responses, claims) and
 * ./job-store.ts (copy jobs and their parts).
 */
import type { Cited, FileRecord, FileState, ReasonCode } from "./types";

export interface FileRow {
  file_id: string;
  version: number;
  tenant: string;
  container_id: string;
  path: string;
  filename: string;
  source: string | null;
  upstream_created_at: number | null;
  bytes: number | null;
  content_type: string;
  sha256: string | null;
  etag: string | null;
  state: FileState;
  reason: string | null;
  reason_code: ReasonCode | null;
  state_at: number;
  r2_key: string;
  first_response_id: string | null;
  retain_until: number | null;
  [k: string]: SqlStorageValue;
}

export interface ContainerRow {
  id: string;
  tenant: string;
  status: string | null;
  expires_after_minutes: number | null;
  opened_at: number;
  client_active_at: number | null;
  final_sweep_at: number | null;
  final_swept_at: number | null;
  upstream_key_sealed: string | null;
  /** When the tenant's record was last read from the directory (multi-tenant mode; ./tenant-view.ts). */
  tenant_checked_at: number | null;
  [k: string]: SqlStorageValue;
}

export interface JobRow {
  file_id: string;
  version: number;
  tenant: string;
  next_attempt_at: number;
  attempts: number;
  upload_id: string | null;
  part_size: number;
  /** The tracker instance running a step of this job right now (null between steps). */
  runner: string | null;
  [k: string]: SqlStorageValue;
}

export interface ResponseRow {
  response_id: string;
  tenant: string;
  created_at: number | null;
  sweep_next_at: number | null;
  sweep_until: number | null;
  sweep_attempts: number;
  /** Listings that failed in a row (the backoff's attempt number); 0 after one that worked. */
  sweep_failures: number;
  links_expire: number;
  links_until: number | null;
  repair_attempted_at: number | null;
  repair_model: string | null;
  repair_due_at: number | null;
  repair_response_id: string | null;
  [k: string]: SqlStorageValue;
}

export interface ClaimRow {
  path: string;
  cited: Cited;
  state: "pending" | "resolved" | "missing" | "unavailable";
  file_id: string | null;
  version: number | null;
  [k: string]: SqlStorageValue;
}

/** A file version's key in the tables. */
export type VersionKey = readonly [fileId: string, version: number];

/** A `files` row as the RPC surface returns it. */
export function fileRecord(f: FileRow): FileRecord {
  return {
    tenant: f.tenant,
    containerId: f.container_id,
    fileId: f.file_id,
    version: f.version,
    path: f.path,
    filename: f.filename,
    state: f.state,
    reason: f.reason,
    reasonCode: f.reason_code,
    stateAt: f.state_at,
    bytes: f.bytes,
    contentType: f.content_type,
    sha256: f.sha256,
    r2Key: f.r2_key,
  };
}
