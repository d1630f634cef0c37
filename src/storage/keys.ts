/**
 * @module storage/keys
 * The R2 key layout, tenant first so that a tenant's data can be listed, exported or deleted by
 * prefix (and a lifecycle rule can target it). Written down in docs/storage.md.
 *
 *   t/<tenant>/c/<container id>/f/<file id>/v<version>    a copied container file
 *   t/<tenant>/r/<response id>/i/<sha256>                 an inline figure from a tool output
 */

/** Tenants are ids of our own, but are encoded anyway so a `/` could never shift the layout. */
const seg = (s: string) => encodeURIComponent(s);

/** The object key of one version of a container file. */
export function fileObjectKey(p: { tenant: string; containerId: string; fileId: string; version: number }): string {
  return `t/${seg(p.tenant)}/c/${seg(p.containerId)}/f/${seg(p.fileId)}/v${p.version}`;
}

/** The object key of an inline figure (content-addressed, so the same image is stored once). */
export function inlineObjectKey(p: { tenant: string; responseId: string; sha256: string }): string {
  return `t/${seg(p.tenant)}/r/${seg(p.responseId)}/i/${p.sha256}`;
}

/** The prefix of everything a tenant owns. */
export function tenantPrefix(tenant: string): string {
  return `t/${seg(tenant)}/`;
}
