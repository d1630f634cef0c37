/**
 * @module links/refs
 * What a `sandbox:` reference is once found (src/links/find.ts finds them): its form, where it sits
 * in the text, and the container path it names (`canonicalPath`). Pure.
 */

/** Longest destination that is rewritten, in UTF-16 code units; also the stream's holdback cap. */
export const MAX_LINK_CHARS = 2048;

/** How a reference was written. */
export type RefForm = "destination" | "angle-destination" | "autolink" | "bare";

/** One sandbox reference in a text. */
export interface SandboxRef {
  /** UTF-16 offset of the first character of the destination (inside `<…>` for angle forms). */
  start: number;
  /** UTF-16 offset just past the destination (exclusive); `text.slice(start, end) === raw`. */
  end: number;
  /** The destination exactly as written, e.g. `sandbox:/mnt/data/my%20file.csv`. */
  raw: string;
  /** The destination decoded (escapes, percent-encoding) and NFC-normalised, without the `sandbox:` scheme. */
  path: string;
  /** The container path it names: `/mnt/data/<name>` (see {@link canonicalPath}). */
  containerPath: string;
  form: RefForm;
}

export const DATA_DIR = "/mnt/data/";
export const SCHEME = "sandbox:";

/**
 * Maps a destination to the container path it names, or `null` when it names no file.
 *
 * The rule: strip `sandbox:` (any case), decode backslash escapes (`unescape`), `%XX` (as UTF-8;
 * invalid sequences stay as written) and normalise to NFC. Then all leading slashes go; the rest
 * is read relative to `/mnt/data` unless it already starts with `mnt/data/`. So `sandbox:/x`,
 * `sandbox://x`, `sandbox:/mnt/data/x` and `/mnt/data/x` all mean `/mnt/data/x` (models write all
 * of them for the one directory code interpreter saves to). `.` and empty segments are dropped,
 * `..` removes the previous segment but never leaves `/mnt/data`. A path ending in `/` or naming
 * `/mnt/data` itself is a directory, not a file: `null`.
 */
export function canonicalPath(raw: string, unescape = false): string | null {
  const decoded = decodePath(raw, unescape);
  if (decoded === null) return null;
  let rest = decoded;
  let i = 0;
  while (i < rest.length && rest.charCodeAt(i) === 47 /* / */) i++;
  rest = rest.slice(i);
  if (rest.startsWith("mnt/data/")) rest = rest.slice("mnt/data/".length);
  if (rest.endsWith("/") || rest === "") return null;
  const segments: string[] = [];
  for (const seg of rest.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") segments.pop();
    else segments.push(seg);
  }
  if (segments.length === 0) return null;
  return DATA_DIR + segments.join("/");
}

/**
 * Decodes a destination as written into the path it spells (scheme removed), or `null` if it
 * is neither a `sandbox:` URL nor an absolute path.
 */
export function decodePath(raw: string, unescape = false): string | null {
  let s = raw;
  if (s.length >= SCHEME.length && s.slice(0, SCHEME.length).toLowerCase() === SCHEME) s = s.slice(SCHEME.length);
  else if (!s.startsWith("/")) return null;
  if (unescape) s = s.replace(/\\([!-/:-@[-`{-~])/g, "$1");
  s = s.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run;
    }
  });
  return s.normalize("NFC");
}

/** Markdown whitespace, plus the no-break and ideographic spaces models write. */
export const isSpace = (c: number) =>
  c === 32 || c === 9 || c === 10 || c === 13 || c === 12 || c === 11 || c === 0xa0 || c === 0x3000;

/** `dest "title"`, `dest 'title'` → `dest`; also drops trailing spaces. */
export function stripTitle(content: string): string {
  let end = content.length;
  while (end > 0 && isSpace(content.charCodeAt(end - 1))) end--;
  const q = content.charCodeAt(end - 1);
  if (end >= 2 && (q === 34 || q === 39)) {
    const open = content.lastIndexOf(String.fromCharCode(q), end - 2);
    if (open > 0 && isSpace(content.charCodeAt(open - 1))) {
      let k = open;
      while (k > 0 && isSpace(content.charCodeAt(k - 1))) k--;
      if (k > 0) end = k;
    }
  }
  return content.slice(0, end);
}

/** The reference a destination written at `start` makes, or null when it names no file. */
export function toRef(start: number, raw: string, form: RefForm, unescape: boolean): SandboxRef | null {
  const path = decodePath(raw, unescape);
  if (path === null) return null;
  const containerPath = canonicalPath(raw, unescape);
  if (containerPath === null) return null;
  return { start, end: start + raw.length, raw, path, containerPath, form };
}

// Character classes of the scan in ./find.ts.
export const isAlnum = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
/** Characters after which `sandbox:` would continue a word or another URL. */
export const NO_BOUNDARY = new Set(Array.from("_:/.-+%@&=~\\", (c) => c.charCodeAt(0)));
export const BARE_STOP = new Set(Array.from('<>`[]"|', (c) => c.charCodeAt(0)));
export const BARE_TRIM = new Set(Array.from(".,:;!?'*_~", (c) => c.charCodeAt(0)));
export const isAsciiPunct = (c: number) =>
  (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126);

/** Adds the reference `raw` names, if it names a container path. */
export function pushRef(out: SandboxRef[], start: number, raw: string, form: RefForm, unescape: boolean): void {
  const ref = toRef(start, raw, form, unescape);
  if (ref) out.push(ref);
}
