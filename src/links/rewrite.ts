/**
 * @module links/rewrite
 * Whole-text rewrite: find → name (async, one batch) → apply (sync). Exactly the destinations
 * change; every other character stays as it was.
 */
import { findSandboxRefs, type SandboxRef } from "./find";
import type { IssuedLink, LinkNamer } from "./naming";

/** One replaced span of the original text (UTF-16 offsets into the text before the rewrite). */
export interface LinkEdit {
  start: number;
  end: number;
  /** The text that replaces `[start, end)`. */
  replacement: string;
  /** The reference it replaced (absent for reverse edits). */
  ref?: SandboxRef;
}

export interface RewriteResult {
  text: string;
  /** The links this text issued, once per URL, in text order. */
  links: IssuedLink[];
  /** The replacements, in text order, non-overlapping; feed them to `rewriteAnnotations`. */
  edits: LinkEdit[];
}

/** Rewrites every sandbox reference in `text` to the URL `name` gives it. */
export async function rewriteText(text: string, name: LinkNamer): Promise<RewriteResult> {
  const refs = findSandboxRefs(text);
  const urls = refs.length ? await name(refs) : [];
  return applyNames(text, refs, urls);
}

/** The synchronous half of {@link rewriteText}: given the names, build the edits and the text. */
export function applyNames(text: string, refs: readonly SandboxRef[], urls: readonly string[]): RewriteResult {
  const edits: LinkEdit[] = refs.map((ref, k) => ({ start: ref.start, end: ref.end, replacement: urls[k]!, ref }));
  return { text: applyEdits(text, edits), links: linksOf(edits), edits };
}

/** Applies sorted, non-overlapping edits. */
export function applyEdits(text: string, edits: readonly LinkEdit[]): string {
  if (edits.length === 0) return text;
  const parts: string[] = [];
  let at = 0;
  for (const e of edits) {
    parts.push(text.slice(at, e.start), e.replacement);
    at = e.end;
  }
  parts.push(text.slice(at));
  return parts.join("");
}

/** The issued links behind a list of edits, once per URL. */
export function linksOf(edits: readonly LinkEdit[]): IssuedLink[] {
  const seen = new Set<string>();
  const links: IssuedLink[] = [];
  for (const e of edits) {
    if (!e.ref || seen.has(e.replacement)) continue;
    seen.add(e.replacement);
    links.push({ path: e.ref.containerPath, original: e.ref.raw, url: e.replacement });
  }
  return links;
}
