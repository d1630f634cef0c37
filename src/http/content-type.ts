/**
 * @module http/content-type
 * Media types from file names. The container content endpoint declares no media type (its 200
 * answer has no content schema in the OpenAI OpenAPI spec,
 * https://github.com/openai/openai-openapi, path `/containers/{container_id}/files/{file_id}/content`,
 * and none was seen on the wire), so the name's extension is all there is.
 * Unknown extensions are `application/octet-stream`, which browsers never render.
 */

const TEXT = "; charset=utf-8";

const BY_EXTENSION: Record<string, string> = {
  // text and data
  txt: `text/plain${TEXT}`,
  log: `text/plain${TEXT}`,
  md: `text/markdown${TEXT}`,
  csv: `text/csv${TEXT}`,
  tsv: `text/tab-separated-values${TEXT}`,
  json: "application/json",
  jsonl: "application/jsonl",
  ndjson: "application/x-ndjson",
  xml: "application/xml",
  yaml: `application/yaml`,
  yml: `application/yaml`,
  html: `text/html${TEXT}`,
  htm: `text/html${TEXT}`,
  css: `text/css${TEXT}`,
  js: `text/javascript${TEXT}`,
  py: `text/x-python${TEXT}`,
  ipynb: "application/x-ipynb+json",
  sql: `application/sql`,
  parquet: "application/vnd.apache.parquet",
  // documents
  pdf: "application/pdf",
  docx: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
  pptx: "application/vnd.openxmlformats-officedocument.presentationml.presentation",
  doc: "application/msword",
  xls: "application/vnd.ms-excel",
  ppt: "application/vnd.ms-powerpoint",
  odt: "application/vnd.oasis.opendocument.text",
  ods: "application/vnd.oasis.opendocument.spreadsheet",
  rtf: "application/rtf",
  // images
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  avif: "image/avif",
  bmp: "image/bmp",
  tif: "image/tiff",
  tiff: "image/tiff",
  ico: "image/vnd.microsoft.icon",
  svg: "image/svg+xml",
  // audio, video
  mp3: "audio/mpeg",
  wav: "audio/wav",
  ogg: "audio/ogg",
  mp4: "video/mp4",
  webm: "video/webm",
  // archives
  zip: "application/zip",
  gz: "application/gzip",
  tar: "application/x-tar",
  "7z": "application/x-7z-compressed",
};

/** The media type for a file name, from its last extension (case-insensitive). */
export function contentTypeFor(filename: string): string {
  const dot = filename.lastIndexOf(".");
  if (dot < 0 || dot === filename.length - 1) return "application/octet-stream";
  return BY_EXTENSION[filename.slice(dot + 1).toLowerCase()] ?? "application/octet-stream";
}

/**
 * Raster images that may be shown inline (as a chat preview). SVG is excluded because it can run
 * script, and so are HTML, XML and everything else: those are always attachments. PDFs are not
 * offered inline either, because Chromium refuses to render a PDF under `Content-Security-Policy:
 * sandbox`, which every download carries.
 */
const INLINE_SAFE = new Set(["image/png", "image/jpeg", "image/gif", "image/webp", "image/avif", "image/bmp"]);

/** True when a download of this type may use `Content-Disposition: inline`. */
export function isInlineSafe(contentType: string): boolean {
  return INLINE_SAFE.has(contentType.split(";")[0]!.trim().toLowerCase());
}
