/**
 * @module links/reverse
 * Undoes a rewrite, for when a client sends earlier output back as input: every issued URL in
 * the text goes back to the destination exactly as upstream wrote it, annotation indices move
 * back and the `url` added to citations goes away. The decoded path alone could not do this
 * (`sandbox:/x` vs `sandbox:/mnt/data/x`, or the original percent-encoding), so the originals
 * recorded when the links were issued are the input.
 */
import { remapAnnotations, type IndexUnit, type TextAnnotation } from "./annotations";
import { applyEdits, type LinkEdit } from "./rewrite";

/** url → the destination text upstream wrote, as recorded in `IssuedLink`s. */
export type Originals = ReadonlyMap<string, string>;

/** Builds {@link Originals} from issued links. */
export function originalsOf(links: Iterable<{ url: string; original: string }>): Map<string, string> {
  const m = new Map<string, string>();
  for (const l of links) m.set(l.url, l.original);
  return m;
}

/**
 * Finds every issued URL in `text` and plans its replacement by the original. Linear: URLs are
 * found by their shared `/files/` marker and matched by token (each token is one URL).
 */
export function reverseEdits(text: string, originals: Originals): LinkEdit[] {
  const MARK = "/files/";
  const byToken = new Map<string, { url: string; original: string; markAt: number }>();
  for (const [url, original] of originals) {
    const markAt = url.indexOf(MARK);
    if (markAt < 0) continue;
    const tokenEnd = url.indexOf("/", markAt + MARK.length);
    byToken.set(url.slice(markAt + MARK.length, tokenEnd < 0 ? url.length : tokenEnd), { url, original, markAt });
  }
  const edits: LinkEdit[] = [];
  let from = 0;
  for (;;) {
    const at = text.indexOf(MARK, from);
    if (at < 0) break;
    from = at + MARK.length;
    const tokenEnd = text.indexOf("/", from);
    if (tokenEnd < 0) break;
    const hit = byToken.get(text.slice(from, tokenEnd));
    if (!hit) continue;
    const s = at - hit.markAt;
    if (s >= 0 && text.startsWith(hit.url, s) && (edits.length === 0 || edits[edits.length - 1]!.end <= s)) {
      edits.push({ start: s, end: s + hit.url.length, replacement: hit.original });
      from = s + hit.url.length;
    }
  }
  return edits;
}

/** Restores a text; returns it with the edits that did so. */
export function reverseText(text: string, originals: Originals): { text: string; edits: LinkEdit[] } {
  const edits = reverseEdits(text, originals);
  return { text: applyEdits(text, edits), edits };
}

/**
 * Restores an `output_text`-like part: its text and its annotations. `unit` is the index unit
 * upstream used, when known; it matters only when an astral character (emoji) sits inside a
 * restored destination, which the rewritten text no longer shows.
 */
export function reversePart<P extends { text: string; annotations?: TextAnnotation[] }>(
  part: P,
  originals: Originals,
  unit?: IndexUnit,
): P {
  const { text, edits } = reverseText(part.text, originals);
  const out: P = { ...part, text };
  if (part.annotations)
    out.annotations = remapAnnotations(part.text, text, edits, part.annotations, {
      dropUrls: new Set(originals.keys()),
      ...(unit ? { unit } : {}),
    });
  return out;
}
