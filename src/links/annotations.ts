/**
 * @module links/annotations
 * Keeps `output_text` annotations true after a rewrite: indices move with the text, citations
 * of a rewritten link gain its `url`, every other field stays.
 *
 * Upstream documents `start_index`/`end_index` without saying whether they count UTF-16 code
 * units or code points (https://platform.openai.com/docs/api-reference/responses/object), and
 * what was observed is not settled (docs/assumptions.md §2). So each span
 * is probed: the unit in which the span is exactly a rewritten link (else: starts on one, or on
 * `sandbox:`) is the unit upstream used, and the new indices are written back in that same
 * unit. Spans that tell nothing follow the unit found for their siblings, else
 * `opts.unit`, else {@link DEFAULT_INDEX_UNIT}. Zero-width citations
 * (`start_index == end_index`, the rendered-image attachments) stay zero-width.
 */
import type { LinkEdit } from "./rewrite";

/** The annotation fields this module reads; everything else is carried over untouched. */
export interface TextAnnotation {
  type: string;
  start_index?: number;
  end_index?: number;
  url?: string;
  [field: string]: unknown;
}

/** How upstream counts `start_index`/`end_index`: UTF-16 code units or Unicode code points. */
export type IndexUnit = "utf16" | "cp";
type Unit = IndexUnit;

/**
 * The unit assumed when a text cannot tell (no astral character where it matters on one side
 * of the rewrite). Code points, because an inference: upstream's service is Python, whose string
 * indices count code points. Only an astral character (emoji) makes the two differ.
 */
export const DEFAULT_INDEX_UNIT: IndexUnit = "cp";

/** Offsets in a text, convertible between UTF-16 units and code points (linear setup, O(1) lookups). */
class Offsets {
  readonly astral: boolean;
  #pairsBefore?: Int32Array; // surrogate pairs before each UTF-16 index
  #cpToU16?: Int32Array;
  constructor(readonly text: string) {
    this.astral = /[\uD800-\uDBFF][\uDC00-\uDFFF]/.test(text);
  }
  #build(): void {
    const t = this.text;
    const pairs = new Int32Array(t.length + 1);
    const cp: number[] = [];
    let n = 0;
    for (let i = 0; i < t.length; i++) {
      pairs[i] = n;
      cp.push(i);
      const c = t.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < t.length) {
        const d = t.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          n++;
          pairs[i + 1] = n;
          i++;
        }
      }
    }
    pairs[t.length] = n;
    cp.push(t.length);
    this.#pairsBefore = pairs;
    this.#cpToU16 = Int32Array.from(cp);
  }
  toU16(index: number, unit: Unit): number {
    if (unit === "utf16" || !this.astral) return index;
    if (!this.#cpToU16) this.#build();
    const m = this.#cpToU16!;
    return index < m.length ? m[index]! : this.text.length + (index - (m.length - 1));
  }
  fromU16(index: number, unit: Unit): number {
    if (unit === "utf16" || !this.astral) return index;
    if (!this.#pairsBefore) this.#build();
    const p = this.#pairsBefore!;
    return index - (index < p.length ? p[index]! : p[p.length - 1]!);
  }
}

/** Position mapping through sorted, non-overlapping edits (binary search per lookup). */
class EditMap {
  readonly #newStart: number[] = [];
  constructor(readonly edits: readonly LinkEdit[]) {
    let delta = 0;
    for (const e of edits) {
      this.#newStart.push(e.start + delta);
      delta += e.replacement.length - (e.end - e.start);
    }
    this.delta = delta;
  }
  readonly delta: number;
  /** Index of the last edit whose start is < p (or ≤ p when `inclusive`), or -1. */
  #before(p: number, inclusive: boolean): number {
    let lo = 0;
    let hi = this.edits.length - 1;
    let ans = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const s = this.edits[mid]!.start;
      if (s < p || (inclusive && s === p)) {
        ans = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return ans;
  }
  /** Maps a position; one inside an edit goes to that edit's new start (`side: "start"`) or end. */
  map(p: number, side: "start" | "end"): number {
    const k = this.#before(p, false);
    if (k < 0) return p;
    const e = this.edits[k]!;
    const ns = this.#newStart[k]!;
    if (p >= e.end) return ns + e.replacement.length + (p - e.end);
    return side === "start" ? ns : ns + e.replacement.length;
  }
  /** The first edit overlapping the non-empty span [s, e), if any. */
  overlapping(s: number, e: number): LinkEdit | undefined {
    if (s >= e) return undefined;
    let k = this.#before(s, true);
    if (k < 0 || this.edits[k]!.end <= s) k++;
    const edit = this.edits[k];
    return edit && edit.start < e && edit.end > s ? edit : undefined;
  }
  exact(s: number, e: number): boolean {
    const k = this.#before(s, true);
    return k >= 0 && this.edits[k]!.start === s && this.edits[k]!.end === e;
  }
  startsAt(p: number): boolean {
    const k = this.#before(p, true);
    return k >= 0 && this.edits[k]!.start === p;
  }
}

export interface RemapOptions {
  /** Add the replacement as `url` to citations (without a `url`) whose span covers an edit. */
  addUrl?: boolean;
  /** Remove `url` from `container_file_citation`s whose `url` is in this set (the reverse). */
  dropUrls?: ReadonlySet<string>;
  /** The unit to use when a span cannot tell (e.g. the unit found when the links were issued). */
  unit?: IndexUnit;
}

/**
 * Remaps annotations of one text. Build it once per (before, after, edits) and call
 * {@link AnnotationRemapper.remap} for each batch: the stream rewriter gets annotations one event
 * at a time, and the unit detected for earlier ones is remembered for spans that tell nothing.
 */
export class AnnotationRemapper {
  readonly #map: EditMap;
  readonly #src: Offsets;
  readonly #dst: Offsets;
  #unit: Unit | undefined;

  constructor(
    readonly before: string,
    readonly after: string,
    edits: readonly LinkEdit[],
    readonly opts: RemapOptions = {},
  ) {
    this.#map = new EditMap(edits);
    this.#src = new Offsets(before);
    this.#dst = new Offsets(after);
  }

  #probe(u16: number): boolean {
    return this.#map.startsAt(u16) || this.before.slice(u16, u16 + 8).toLowerCase() === "sandbox:";
  }

  #score(a: TextAnnotation, unit: Unit): number {
    const s16 = this.#src.toU16(a.start_index!, unit);
    const e16 = this.#src.toU16(a.end_index!, unit);
    if (this.#map.exact(s16, e16)) return 2;
    return this.#probe(s16) ? 1 : 0;
  }

  #unitOf(a: TextAnnotation): Unit | undefined {
    if (a.start_index === a.end_index || !this.#src.astral) return undefined;
    const u = this.#score(a, "utf16");
    const c = this.#score(a, "cp");
    if (
      u === c ||
      (this.#src.toU16(a.start_index!, "cp") === a.start_index && this.#src.toU16(a.end_index!, "cp") === a.end_index)
    )
      return undefined;
    return u > c ? "utf16" : "cp";
  }

  /** The unit detected so far from the spans seen, if any told. */
  get detectedUnit(): IndexUnit | undefined {
    return this.#unit;
  }

  /** Returns new annotation objects; the inputs are not changed. */
  remap<A extends TextAnnotation>(annotations: readonly A[]): A[] {
    const spans = (a: TextAnnotation) => typeof a.start_index === "number" && typeof a.end_index === "number";
    if (this.#unit === undefined) {
      for (const a of annotations) {
        const u = spans(a) ? this.#unitOf(a) : undefined;
        if (u) {
          this.#unit = u;
          break;
        }
      }
    }
    return annotations.map((a) => {
      if (!spans(a)) return { ...a };
      const unit = this.#unitOf(a) ?? this.#unit ?? this.opts.unit ?? DEFAULT_INDEX_UNIT;
      const s16 = this.#src.toU16(a.start_index!, unit);
      const e16 = this.#src.toU16(a.end_index!, unit);
      const ns = this.#map.map(s16, "start");
      const ne = e16 <= s16 ? ns : this.#map.map(e16, "end");
      const out: A = { ...a, start_index: this.#dst.fromU16(ns, unit), end_index: this.#dst.fromU16(ne, unit) };
      const edit = this.#map.overlapping(s16, e16);
      if (this.opts.addUrl && edit && out.url === undefined) out.url = edit.replacement;
      const drop = this.opts.dropUrls;
      if (drop && a.type === "container_file_citation" && typeof a.url === "string" && drop.has(a.url)) delete out.url;
      return out;
    });
  }
}

/** Moves annotation indices from `before` to `after` (= `before` with `edits` applied). */
export function remapAnnotations<A extends TextAnnotation>(
  before: string,
  after: string,
  edits: readonly LinkEdit[],
  annotations: readonly A[],
  opts: RemapOptions = {},
): A[] {
  return new AnnotationRemapper(before, after, edits, opts).remap(annotations);
}

/** Annotations for a text rewritten by `rewriteText`: indices moved, `url` added to citations of rewritten links. */
export function rewriteAnnotations<A extends TextAnnotation>(
  before: string,
  after: string,
  edits: readonly LinkEdit[],
  annotations: readonly A[],
): A[] {
  return remapAnnotations(before, after, edits, annotations, { addUrl: true });
}
