/**
 * @module tenants/directory
 * TenantDirectory: the tenant store, one Durable Object instance named "directory".
 *
 * It is strongly consistent (a revoked key is refused by the directory at once; isolates cache
 * lookups for at most KEY_CACHE_MS, see tenants/store.ts) and it can list what it holds, which KV
 * could not do consistently. The set of tenants and keys is small and lookups are cached, so one
 * object is not a bottleneck. Keys are stored as SHA-256 hashes; upstream keys arrive sealed
 * (tenants/sealed-key.ts) and are never unsealed here.
 *
 * Tables (also in docs/storage.md):
 *   tenants(id PK, name, status, limits JSON, upstream_key_sealed, created_at, revoked_at, features JSON)
 *   keys(id PK, tenant, kind, hash UNIQUE, prefix, status, limits JSON, widget JSON, created_at, revoked_at)
 *   origins(origin, key_id, PK (origin, key_id)): the allowed origins of every active publishable
 *     key of an active tenant, kept by every change that adds, rotates or revokes one, so a CORS
 *     preflight is one index lookup (not a scan of every widget's settings).
 */
import { DurableObject } from "cloudflare:workers";
import type { Bindings } from "../config";
import { openMigrated } from "../durable/sqlite-migrations";
import type { Features, KeyKind, KeyRecord, Limits, TenantRecord, TenantView, WidgetSettings } from "./schema";

const MIGRATIONS = [
  `
  CREATE TABLE tenants (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, status TEXT NOT NULL, limits TEXT NOT NULL,
    upstream_key_sealed TEXT, created_at INTEGER NOT NULL, revoked_at INTEGER
  );
  CREATE TABLE keys (
    id TEXT PRIMARY KEY, tenant TEXT NOT NULL, kind TEXT NOT NULL, hash TEXT NOT NULL UNIQUE,
    prefix TEXT NOT NULL, status TEXT NOT NULL, limits TEXT NOT NULL, widget TEXT,
    created_at INTEGER NOT NULL, revoked_at INTEGER
  );
  CREATE INDEX keys_by_tenant ON keys (tenant)
  `,
  // v2: a tenant's defaults for the opt-in request features (schema.ts, Features).
  `ALTER TABLE tenants ADD COLUMN features TEXT NOT NULL DEFAULT '{}'`,
  // v3: the origin index (filled from the keys that exist).
  `
  CREATE TABLE origins (origin TEXT NOT NULL, key_id TEXT NOT NULL, PRIMARY KEY (origin, key_id)) WITHOUT ROWID;
  CREATE INDEX origins_by_key ON origins (key_id);
  INSERT OR IGNORE INTO origins (origin, key_id)
    SELECT j.value, k.id FROM keys k JOIN tenants t ON t.id = k.tenant, json_each(k.widget, '$.allowed_origins') j
    WHERE k.kind = 'publishable' AND k.status = 'active' AND t.status = 'active'
  `,
];

/** What a key lookup returns: the key and its tenant, both active, or null. */
export interface KeyLookup {
  key: KeyRecord;
  tenant: TenantRecord;
}

/** The outcome of a change; `not_found` lets the admin route answer 404 without a second call. */
export type DirectoryResult<T> = { ok: true; value: T } | { ok: false; reason: "not_found" | "conflict" | "revoked" };

type Row = Record<string, SqlStorageValue>;

export class TenantDirectory extends DurableObject<Bindings> {
  readonly #sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Bindings) {
    super(ctx, env);
    this.#sql = openMigrated(ctx, MIGRATIONS);
  }

  /** Creates a tenant; `conflict` when the id is taken. */
  createTenant(input: {
    id: string;
    name: string;
    limits: Limits;
    features?: Features;
    upstreamKeySealed: string | null;
  }): DirectoryResult<TenantView> {
    if (this.#tenant(input.id)) return { ok: false, reason: "conflict" };
    this.#sql.exec(
      "INSERT INTO tenants (id, name, status, limits, upstream_key_sealed, created_at, features) VALUES (?, ?, 'active', ?, ?, ?, ?)",
      input.id,
      input.name,
      JSON.stringify(input.limits),
      input.upstreamKeySealed,
      Date.now(),
      JSON.stringify(input.features ?? {}),
    );
    return { ok: true, value: this.#view(this.#tenant(input.id)!) };
  }

  /** Updates name, limits, features or upstream key (`undefined` keeps, `null` clears to the deployment's). */
  updateTenant(
    id: string,
    patch: { name?: string; limits?: Limits; features?: Features; upstreamKeySealed?: string | null },
  ): DirectoryResult<TenantView> {
    const t = this.#tenant(id);
    if (!t) return { ok: false, reason: "not_found" };
    if (t.status === "revoked") return { ok: false, reason: "revoked" };
    this.#sql.exec(
      "UPDATE tenants SET name = ?, limits = ?, features = ?, upstream_key_sealed = ? WHERE id = ?",
      patch.name ?? t.name,
      JSON.stringify(patch.limits ?? t.limits),
      JSON.stringify(patch.features ?? t.features),
      patch.upstreamKeySealed === undefined ? t.upstream_key_sealed : patch.upstreamKeySealed,
      id,
    );
    return { ok: true, value: this.#view(this.#tenant(id)!) };
  }

  /** Revokes a tenant and every key it has. Idempotent. */
  revokeTenant(id: string): DirectoryResult<TenantView> {
    const t = this.#tenant(id);
    if (!t) return { ok: false, reason: "not_found" };
    const now = Date.now();
    this.#sql.exec("UPDATE tenants SET status = 'revoked', revoked_at = COALESCE(revoked_at, ?) WHERE id = ?", now, id);
    this.#sql.exec(
      "UPDATE keys SET status = 'revoked', revoked_at = COALESCE(revoked_at, ?) WHERE tenant = ?",
      now,
      id,
    );
    this.#sql.exec("DELETE FROM origins WHERE key_id IN (SELECT id FROM keys WHERE tenant = ?)", id);
    return { ok: true, value: this.#view(this.#tenant(id)!) };
  }

  /** One tenant with its keys. */
  getTenant(id: string): DirectoryResult<TenantView> {
    const t = this.#tenant(id);
    return t ? { ok: true, value: this.#view(t) } : { ok: false, reason: "not_found" };
  }

  /** Every tenant with its keys, oldest first. */
  listTenants(): TenantView[] {
    return this.#sql
      .exec<Row>("SELECT * FROM tenants ORDER BY created_at, id")
      .toArray()
      .map((r) => this.#view(toTenant(r)));
  }

  /** Stores a new key (already hashed by the caller, which alone sees the key itself). */
  addKey(input: {
    id: string;
    tenant: string;
    kind: KeyKind;
    hash: string;
    prefix: string;
    limits: Limits;
    widget: WidgetSettings | null;
  }): DirectoryResult<KeyRecord> {
    const t = this.#tenant(input.tenant);
    if (!t) return { ok: false, reason: "not_found" };
    if (t.status === "revoked") return { ok: false, reason: "revoked" };
    this.#sql.exec(
      "INSERT INTO keys (id, tenant, kind, hash, prefix, status, limits, widget, created_at) VALUES (?, ?, ?, ?, ?, 'active', ?, ?, ?)",
      input.id,
      input.tenant,
      input.kind,
      input.hash,
      input.prefix,
      JSON.stringify(input.limits),
      input.widget ? JSON.stringify(input.widget) : null,
      Date.now(),
    );
    for (const origin of input.widget?.allowed_origins ?? []) {
      this.#sql.exec("INSERT OR IGNORE INTO origins (origin, key_id) VALUES (?, ?)", origin, input.id);
    }
    return { ok: true, value: this.#key(input.id)! };
  }

  /**
   * Replaces a key: the new one gets the old one's kind, limits and widget settings, and the old
   * one is revoked in the same transaction (no await in between), so there is never a moment with
   * both or neither.
   */
  rotateKey(
    tenant: string,
    oldId: string,
    replacement: { id: string; hash: string; prefix: string },
  ): DirectoryResult<KeyRecord> {
    const old = this.#key(oldId);
    if (!old || old.tenant !== tenant) return { ok: false, reason: "not_found" };
    if (old.status === "revoked") return { ok: false, reason: "revoked" };
    this.#sql.exec("UPDATE keys SET status = 'revoked', revoked_at = ? WHERE id = ?", Date.now(), oldId);
    this.#sql.exec("DELETE FROM origins WHERE key_id = ?", oldId);
    return this.addKey({ ...replacement, tenant, kind: old.kind, limits: old.limits, widget: old.widget });
  }

  /** Revokes one key. Idempotent. */
  revokeKey(tenant: string, id: string): DirectoryResult<KeyRecord> {
    const k = this.#key(id);
    if (!k || k.tenant !== tenant) return { ok: false, reason: "not_found" };
    this.#sql.exec(
      "UPDATE keys SET status = 'revoked', revoked_at = COALESCE(revoked_at, ?) WHERE id = ?",
      Date.now(),
      id,
    );
    this.#sql.exec("DELETE FROM origins WHERE key_id = ?", id);
    return { ok: true, value: this.#key(id)! };
  }

  /** The active key with this hash and its active tenant, or null. */
  lookupKey(hash: string): KeyLookup | null {
    const row = this.#sql.exec<Row>("SELECT * FROM keys WHERE hash = ?", hash).toArray()[0];
    if (!row) return null;
    const key = toKey(row);
    const tenant = this.#tenant(key.tenant);
    if (key.status !== "active" || !tenant || tenant.status !== "active") return null;
    return { key, tenant };
  }

  /** The tenant record (with its sealed upstream key) for work that runs after a request. */
  tenantRecord(id: string): TenantRecord | null {
    return this.#tenant(id);
  }

  /**
   * Whether any active publishable key allows `origin`. A CORS preflight carries no
   * Authorization header, so it can only be answered per origin; the real request is then checked
   * against its own key's list. One lookup in the origin index, however many keys exist.
   */
  originAllowed(origin: string): boolean {
    return this.#sql.exec("SELECT 1 FROM origins WHERE origin = ? LIMIT 1", origin).toArray().length > 0;
  }

  #tenant(id: string): TenantRecord | null {
    const row = this.#sql.exec<Row>("SELECT * FROM tenants WHERE id = ?", id).toArray()[0];
    return row ? toTenant(row) : null;
  }

  #key(id: string): KeyRecord | null {
    const row = this.#sql.exec<Row>("SELECT * FROM keys WHERE id = ?", id).toArray()[0];
    return row ? toKey(row) : null;
  }

  #view(t: TenantRecord): TenantView {
    const { upstream_key_sealed, ...rest } = t;
    const keys = this.#sql
      .exec<Row>("SELECT * FROM keys WHERE tenant = ? ORDER BY created_at, id", t.id)
      .toArray()
      .map(toKey);
    return { ...rest, upstream_key: upstream_key_sealed ? "own" : "deployment", keys };
  }
}

function toTenant(r: Row): TenantRecord {
  return {
    id: String(r.id),
    name: String(r.name),
    status: r.status === "revoked" ? "revoked" : "active",
    limits: JSON.parse(String(r.limits)) as Limits,
    features: JSON.parse(String(r.features ?? "{}")) as Features,
    upstream_key_sealed: r.upstream_key_sealed === null ? null : String(r.upstream_key_sealed),
    created_at: Number(r.created_at),
    revoked_at: r.revoked_at === null ? null : Number(r.revoked_at),
  };
}

function toKey(r: Row): KeyRecord {
  return {
    id: String(r.id),
    tenant: String(r.tenant),
    kind: r.kind === "publishable" ? "publishable" : "secret",
    prefix: String(r.prefix),
    status: r.status === "revoked" ? "revoked" : "active",
    limits: JSON.parse(String(r.limits)) as Limits,
    widget: r.widget === null ? null : (JSON.parse(String(r.widget)) as WidgetSettings),
    created_at: Number(r.created_at),
    revoked_at: r.revoked_at === null ? null : Number(r.revoked_at),
  };
}
