/**
 * @module widget/format
 * Display helpers for file cards. Pure.
 */

/** `1536` → `"1.5 KB"` (binary multiples, the way file managers show them). */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes) || bytes < 0) return "";
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

/** A short type label: `application/pdf` → `PDF`, else the file extension, else the subtype. */
export function typeLabel(contentType: string | null | undefined, filename: string): string {
  const ext = /\.([A-Za-z0-9]{1,8})$/.exec(filename)?.[1];
  if (ext) return ext.toUpperCase();
  const sub = contentType?.split(";")[0]?.split("/")[1];
  return sub ? sub.toUpperCase() : "FILE";
}

/** Raster types the card previews inline (never SVG: an SVG is a document). */
export function isRasterImage(contentType: string | null | undefined): boolean {
  return /^image\/(png|jpeg|gif|webp|avif)$/i.test(contentType?.split(";")[0]?.trim() ?? "");
}
