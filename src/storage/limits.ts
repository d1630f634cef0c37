/**
 * @module storage/limits
 * Limits against runaway answers, and retention. A model can write thousands of files or one of
 * many gigabytes; without limits one answer could fill a tenant's storage. Beyond a limit a file
 * is `skipped` with the reason (never silently dropped). Defaults come from the deployment's
 * settings (README "Limits"), and a tenant record's `limits` (src/tenants/schema.ts) override
 * them per tenant.
 */
import { z } from "zod";

/** The effective limits for one tenant. */
export interface StorageLimits {
  /** Files stored per response; the rest are `skipped`. */
  filesPerResponse: number;
  /** Bytes one file may have. */
  bytesPerFile: number;
  /** Bytes a tenant may have stored in total (as metered, src/metering). */
  bytesPerTenant: number;
  /** How long a stored file is kept before the alarm deletes it from R2. */
  retentionMs: number;
  /** File extensions (lower case, no dot) that are never copied: such files are `skipped`. */
  blockedExtensions: readonly string[];
}

export const DAY_MS = 24 * 3600_000;

/** The defaults when neither the deployment nor the tenant sets a value. */
export const DEFAULT_LIMITS: StorageLimits = {
  filesPerResponse: 1000,
  bytesPerFile: 1024 ** 3,
  bytesPerTenant: 10 * 1024 ** 3,
  retentionMs: 30 * DAY_MS,
  blockedExtensions: [],
};

const positiveInt = z.coerce.number().int().min(1).optional().catch(undefined);

/**
 * The deployment's defaults from optional `[vars]`: `UNSANDBOX_MAX_FILES_PER_RESPONSE`,
 * `UNSANDBOX_MAX_FILE_BYTES`, `UNSANDBOX_MAX_TENANT_BYTES`, `UNSANDBOX_RETENTION_DAYS`, and
 * `UNSANDBOX_BLOCKED_EXTENSIONS` (comma separated, e.g. `exe,dll,scr`). An unparsable value falls
 * back to the built-in default rather than failing copies.
 */
export function deploymentLimits(env: Record<string, unknown>): StorageLimits {
  const n = (name: string) => positiveInt.parse(env[name]);
  const days = n("UNSANDBOX_RETENTION_DAYS");
  return {
    filesPerResponse: n("UNSANDBOX_MAX_FILES_PER_RESPONSE") ?? DEFAULT_LIMITS.filesPerResponse,
    bytesPerFile: n("UNSANDBOX_MAX_FILE_BYTES") ?? DEFAULT_LIMITS.bytesPerFile,
    bytesPerTenant: n("UNSANDBOX_MAX_TENANT_BYTES") ?? DEFAULT_LIMITS.bytesPerTenant,
    retentionMs: days !== undefined ? days * DAY_MS : DEFAULT_LIMITS.retentionMs,
    blockedExtensions: normaliseExtensions(String(env.UNSANDBOX_BLOCKED_EXTENSIONS ?? "").split(",")),
  };
}

/** `[" exe", ".Dll", ""]` → `["exe", "dll"]`. Pure. */
function normaliseExtensions(list: readonly string[]): string[] {
  return list.map((e) => e.trim().replace(/^\./, "").toLowerCase()).filter(Boolean);
}

/** The blocked extension a file name ends with, or null. Pure. */
export function blockedExtension(filename: string, blocked: readonly string[]): string | null {
  const dot = filename.lastIndexOf(".");
  if (dot < 0) return null;
  const ext = filename.slice(dot + 1).toLowerCase();
  return blocked.includes(ext) ? ext : null;
}

/** A tenant record's optional overrides (the `limits` JSON of src/tenants/schema.ts). */
export interface TenantLimitOverrides {
  files_per_response?: number;
  bytes_per_file?: number;
  bytes_per_tenant?: number;
  retention_days?: number;
  blocked_extensions?: string[];
}

/** Tenant overrides on top of the deployment's limits. Pure. */
export function effectiveLimits(base: StorageLimits, t: TenantLimitOverrides | null | undefined): StorageLimits {
  return {
    filesPerResponse: t?.files_per_response ?? base.filesPerResponse,
    bytesPerFile: t?.bytes_per_file ?? base.bytesPerFile,
    bytesPerTenant: t?.bytes_per_tenant ?? base.bytesPerTenant,
    retentionMs: t?.retention_days !== undefined ? t.retention_days * DAY_MS : base.retentionMs,
    // A tenant adds to the operator's list; it cannot take anything off it.
    blockedExtensions: [...new Set([...base.blockedExtensions, ...normaliseExtensions(t?.blocked_extensions ?? [])])],
  };
}
