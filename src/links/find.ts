/**
 * @module links/find
 * Finds `sandbox:` file references in model output the way a Markdown reader sees them, in one
 * left-to-right pass that works the same on a whole text and on a text arriving in pieces.
 *
 * ## What counts as a reference
 * - Link and image destinations after `](` (optionally after spaces): `[x](sandbox:/mnt/data/a.csv)`,
 *   `![x](/mnt/data/a.png)`, `[x](<sandbox:/mnt/data/a b.csv>)`, with an optional title
 *   (`[x](sandbox:/mnt/data/a.csv "t")`). The destination ends at the `)` at parenthesis depth 0
 *   (backslash escapes such as `\)` do not count), or at `>` for the `<…>` form. Spaces are
 *   tolerated inside a `sandbox:` destination (models write `sandbox:/mnt/data/my file.csv`),
 *   not inside a bare `/mnt/data/…` one.
 * - Autolinks: `<sandbox:/mnt/data/a.csv>` and `</mnt/data/a.csv>`.
 * - Bare `sandbox:/…` URLs in prose (not bare `/mnt/data/…`, which is too common in prose about
 *   code). A bare URL starts after a character that cannot continue a word or URL, ends before
 *   whitespace or one of `` <>`[]"| ``, and loses trailing `.,:;!?'*_~` and unbalanced `)`, as
 *   GitHub's autolink extension does. A bare URL directly followed by `](` is a link label, which
 *   is never rewritten.
 * - Nothing inside inline code or fenced code blocks.
 *
 * Link labels are not matched against their `[`: a `](` opens a destination wherever it appears.
 * This keeps the scan linear and the decision local (no unbounded look-back or look-ahead).
 *
 * ## Code, decided by what came before only
 * A stream cannot wait for a closing backtick, so an inline code span opened by a run of n
 * backticks lasts until the next run of exactly n, a blank line, or the end of the text (CommonMark
 * would treat an unclosed run as literal; treating it as code errs on the side of not rewriting).
 * A fence is a line whose first characters (after spaces, tabs and `>` quote markers) are at least
 * three backticks or tildes; it lasts until a line of at least as many of the same character with
 * nothing else but spaces, or the end of the text. Indented code blocks are not recognised, because
 * four-space indents are far more often nested list items in model output.
 *
 * ## Limits
 * A destination, autolink or bare URL longer than {@link MAX_LINK_CHARS} UTF-16 units is left
 * alone, so a stream never holds back more than that. The scanner counts how often it examines
 * an input character ({@link LinkScanner.work}); every character is examined a small constant
 * number of times (a failed destination is re-read once as prose), so work is linear.
 *
 * What a found reference is and which container path it names: src/links/refs.ts.
 */
import {
  BARE_STOP,
  BARE_TRIM,
  canonicalPath,
  DATA_DIR,
  decodePath,
  isAlnum,
  isAsciiPunct,
  isSpace,
  MAX_LINK_CHARS,
  NO_BOUNDARY,
  pushRef,
  SCHEME,
  stripTitle,
  type RefForm,
  type SandboxRef,
} from "./refs";

export { canonicalPath, decodePath, MAX_LINK_CHARS, type RefForm, type SandboxRef };

/** Returns every sandbox reference in `text`, in order. */
export function findSandboxRefs(text: string): SandboxRef[] {
  return findSandboxRefsCounted(text).refs;
}

/** Like {@link findSandboxRefs}, also returning how many character examinations the scan took. */
export function findSandboxRefsCounted(text: string): { refs: SandboxRef[]; work: number } {
  const scanner = new LinkScanner();
  const refs = scanner.push(text);
  for (const r of scanner.finish()) refs.push(r);
  return { refs, work: scanner.work };
}

const enum Mode {
  Prose,
  /** After a backslash in prose: the next character is literal. */
  Escape,
  /** Inside a run of backticks or tildes that may open a fence or a code span. */
  OpenRun,
  Code,
  Fence,
  /** After `](`: spaces may come before the destination. */
  DestWait,
  /** Matching the start of a candidate against `sandbox:/` or `/mnt/data/`. */
  Prefix,
  /** Inside a raw destination (`](…)`), after its prefix. */
  Raw,
  /** Inside `<…>` (destination or autolink), after its prefix. */
  Angle,
  /** Inside a bare `sandbox:/…` URL, after its prefix. */
  Bare,
  /** A bare URL hit `]`: one more character decides whether it was a link label. */
  BareBracket,
  /** Passing over a candidate that grew past the cap; nothing is held. */
  Skip,
}

type Kind = "raw" | "angle-destination" | "autolink" | "bare";

/**
 * The incremental scanner behind {@link findSandboxRefs} and the stream rewriter. Feed text with
 * {@link push} and end it with {@link finish}; each returns the references decided by then, with
 * offsets counted from the start of everything fed. {@link committed} says how far the output is
 * final: no reference decided later starts before it. Pushing a text in any number of pieces
 * yields the same references as pushing it whole.
 */
export class LinkScanner {
  /** Character examinations so far (for the linear-work test). */
  work = 0;

  /** Text kept from absolute offset `base` on (everything from the earliest undecided point). */
  #buf = "";
  #base = 0;
  /** Next character to examine, absolute. */
  #i = 0;
  /** Start of the held candidate (absolute), or -1. */
  #hold = -1;
  #final = false;

  #mode = Mode.Prose;
  /** The previous character in prose (for `](` and word boundaries), -1 at the start. */
  #prev = -1;
  /** Still among the leading spaces, tabs and `>` of a line. */
  #lineStart = true;

  // OpenRun / Code / Fence
  #runChar = 0;
  #runLen = 0;
  #runAtLineStart = false;
  #codeLen = 0;
  #sawNewline = false;
  #fenceChar = 0;
  #fenceLen = 0;
  /** Fence line state: 0 leading, 1 in a possible closing run, 2 after a closing run, 3 content. */
  #fenceLine = 0;

  // Candidates
  #kind: Kind = "raw";
  #prefix = "";
  #depth = 0;
  #escaped = false;
  #skipKind: Kind = "raw";

  /** Absolute offset before which output is final. */
  get committed(): number {
    return this.#hold >= 0 ? this.#hold : this.#i;
  }

  /** Characters fed so far. */
  get fed(): number {
    return this.#base + this.#buf.length;
  }

  /** Characters currently held back (a possible link prefix), at most {@link MAX_LINK_CHARS} + 1. */
  get held(): number {
    return this.fed - this.committed;
  }

  /** The held text itself (for tests and diagnostics). */
  get heldText(): string {
    return this.#buf.slice(this.committed - this.#base);
  }

  push(chunk: string): SandboxRef[] {
    if (this.#final) throw new Error("LinkScanner: push after finish");
    this.#buf += chunk;
    const out: SandboxRef[] = [];
    this.#run(out);
    this.#compact();
    return out;
  }

  finish(): SandboxRef[] {
    this.#final = true;
    const out: SandboxRef[] = [];
    this.#run(out);
    this.#compact();
    return out;
  }

  #compact(): void {
    const keep = Math.min(this.committed, this.#i) - this.#base;
    if (keep > 0) {
      this.#buf = this.#buf.slice(keep);
      this.#base += keep;
    }
  }

  #at(abs: number): number {
    return this.#buf.charCodeAt(abs - this.#base);
  }

  #run(out: SandboxRef[]): void {
    const end = this.fed;
    while (this.#i < end) {
      const c = this.#at(this.#i);
      this.work++;
      this.#step(c, out);
    }
    if (this.#final) this.#endOfText(out);
  }

  /** Examines the character at `#i`; advances `#i` unless the mode wants to re-read it. */
  #step(c: number, out: SandboxRef[]): void {
    switch (this.#mode) {
      case Mode.Prose:
        return this.#prose(c);
      case Mode.Escape:
        // CommonMark: a backslash escapes ASCII punctuation only; before anything else it is a
        // literal backslash and the character is read normally.
        this.#mode = Mode.Prose;
        if (isAsciiPunct(c)) {
          this.#prev = -2; // an escaped character joins no `](`
          this.#i++;
        }
        return;
      case Mode.OpenRun:
        return this.#openRun(c);
      case Mode.Code:
        return this.#code(c);
      case Mode.Fence:
        return this.#fence(c);
      case Mode.DestWait:
        if (c === 32 || c === 9) {
          this.#i++;
          return;
        }
        if (c === 60 /* < */) {
          this.#startCandidate("angle-destination", this.#i + 1);
          this.#i++;
          return;
        }
        this.#startCandidate("raw", this.#i);
        return; // re-read this character as the first of the prefix
      case Mode.Prefix:
        return this.#prefixStep(c);
      case Mode.Raw:
        return this.#raw(c, out);
      case Mode.Angle:
        return this.#angle(c, out);
      case Mode.Bare:
        return this.#bare(c, out);
      case Mode.BareBracket:
        // `sandbox:/…](` is the end of a link label: leave it, and read `]` again as prose.
        if (c === 40 /* ( */) {
          this.#toProse(this.#i - 1, 0);
        } else {
          this.#emitBare(this.#i - 1, out);
        }
        return;
      case Mode.Skip:
        return this.#skip(c);
    }
  }

  #prose(c: number): void {
    const prev = this.#prev;
    if (this.#lineStart) {
      if (c === 32 || c === 9 || c === 62 /* > */) {
        this.#prev = c;
        this.#i++;
        return;
      }
      this.#lineStart = false;
      if (c === 96 || c === 126) {
        this.#beginRun(c, true);
        return;
      }
    }
    this.#i++;
    this.#prev = c;
    switch (c) {
      case 10:
        this.#lineStart = true;
        return;
      case 92 /* \ */:
        this.#mode = Mode.Escape;
        return;
      case 96 /* ` */:
        this.#i--;
        this.#beginRun(c, false);
        return;
      case 40 /* ( */:
        if (prev === 93 /* ] */) this.#mode = Mode.DestWait;
        return;
      case 60 /* < */:
        this.#startCandidate("autolink", this.#i);
        return;
      case 115 /* s */:
      case 83 /* S */:
        if (prev < 0 || !(isAlnum(prev) || NO_BOUNDARY.has(prev))) {
          this.#startCandidate("bare", this.#i - 1);
          this.#i--; // the prefix matcher reads the `s` itself
        }
        return;
    }
  }

  #beginRun(c: number, atLineStart: boolean): void {
    this.#mode = Mode.OpenRun;
    this.#runChar = c;
    this.#runLen = 0;
    this.#runAtLineStart = atLineStart;
  }

  #openRun(c: number): void {
    if (c === this.#runChar) {
      this.#runLen++;
      this.#i++;
      return;
    }
    // The run ended just before this character, which is read again by the next mode.
    if (this.#runAtLineStart && this.#runLen >= 3) {
      this.#mode = Mode.Fence;
      this.#fenceChar = this.#runChar;
      this.#fenceLen = this.#runLen;
      this.#fenceLine = 3; // the rest of the opening line is the info string
      return;
    }
    if (this.#runChar === 96) {
      this.#mode = Mode.Code;
      this.#codeLen = this.#runLen;
      this.#runLen = 0;
      this.#sawNewline = false;
      return;
    }
    // A short run of tildes is just text.
    this.#mode = Mode.Prose;
    this.#prev = this.#runChar;
  }

  #code(c: number): void {
    this.#i++;
    if (c === 96) {
      this.#runLen++;
      this.#sawNewline = false;
      return;
    }
    if (this.#runLen === this.#codeLen) {
      this.#mode = Mode.Prose;
      this.#prev = 96;
      this.#i--; // read this character as prose
      return;
    }
    this.#runLen = 0;
    if (c === 10) {
      if (this.#sawNewline) {
        // A blank line ends the paragraph and with it an unclosed span.
        this.#mode = Mode.Prose;
        this.#prev = 10;
        this.#lineStart = true;
        return;
      }
      this.#sawNewline = true;
    } else if (!(c === 32 || c === 9 || c === 13)) {
      this.#sawNewline = false;
    }
  }

  #fence(c: number): void {
    this.#i++;
    if (c === 10) {
      if (this.#fenceLine === 1 && this.#runLen >= this.#fenceLen) this.#fenceLine = 2;
      if (this.#fenceLine === 2) {
        this.#mode = Mode.Prose;
        this.#prev = 10;
        this.#lineStart = true;
        return;
      }
      this.#fenceLine = 0;
      return;
    }
    switch (this.#fenceLine) {
      case 0:
        if (c === 32 || c === 9 || c === 62) return;
        if (c === this.#fenceChar) {
          this.#fenceLine = 1;
          this.#runLen = 1;
        } else this.#fenceLine = 3;
        return;
      case 1:
        if (c === this.#fenceChar) this.#runLen++;
        else if ((c === 32 || c === 9 || c === 13) && this.#runLen >= this.#fenceLen) this.#fenceLine = 2;
        else this.#fenceLine = 3;
        return;
      case 2:
        if (!(c === 32 || c === 9 || c === 13)) this.#fenceLine = 3;
        return;
    }
  }

  #startCandidate(kind: Kind, at: number): void {
    this.#kind = kind;
    this.#hold = at;
    this.#prefix = "";
    this.#mode = Mode.Prefix;
  }

  #prefixStep(c: number): void {
    const sofar = this.#prefix + String.fromCharCode(c);
    const schemeOk = SCHEME + "/";
    // The scheme is case-insensitive (RFC 3986 §3.1); the directory is not.
    const ok = schemeOk.startsWith(sofar.toLowerCase()) || (this.#kind !== "bare" && DATA_DIR.startsWith(sofar));
    if (!ok) {
      // Not ours: read it all again as prose, from just after the opening character.
      const from = this.#kind === "bare" ? this.#hold + 1 : this.#hold;
      const prev = this.#kind === "bare" ? this.#at(this.#hold) : this.#kind === "raw" ? 40 : 60;
      this.#toProse(from, prev);
      return;
    }
    this.#prefix = sofar;
    this.#i++;
    if (sofar.toLowerCase() === schemeOk || sofar === DATA_DIR) {
      this.#depth = 0;
      this.#escaped = false;
      this.#mode = this.#kind === "raw" ? Mode.Raw : this.#kind === "bare" ? Mode.Bare : Mode.Angle;
    }
  }

  /** Drops the candidate and resumes prose at `from` (absolute), as if `prev` came before it. */
  #toProse(from: number, prev: number): void {
    this.#hold = -1;
    this.#i = from;
    this.#prev = prev;
    this.#lineStart = false;
    this.#mode = Mode.Prose;
  }

  /** The character at `#i` would make the candidate longer than the cap. */
  #tooLong(): boolean {
    return this.#i - this.#hold >= MAX_LINK_CHARS;
  }

  #raw(c: number, out: SandboxRef[]): void {
    if (this.#escaped) {
      this.#escaped = false;
      if (c === 10 || c === 13) return this.#abandon();
      this.#i++;
      return;
    }
    if (c === 10 || c === 13) return this.#abandon();
    if (c === 40 && this.#at(this.#i - 1) === 93) return this.#abandon(); // another `](` begins
    if (c === 41 && this.#depth === 0) return this.#emitRaw(out);
    if (this.#tooLong()) return this.#skipFrom("raw");
    if (c === 92) {
      this.#escaped = true;
      this.#i++;
      return;
    }
    if (c === 40) {
      this.#depth++;
      this.#i++;
      return;
    }
    if (c === 41) this.#depth--;
    this.#i++;
  }

  /** A destination that never closed: read it again as prose (a bare URL may still be there). */
  #abandon(): void {
    const prev = this.#kind === "raw" ? 40 : 60;
    this.#toProse(this.#hold, prev);
  }

  #emitRaw(out: SandboxRef[]): void {
    const start = this.#hold;
    const content = this.#buf.slice(start - this.#base, this.#i - this.#base);
    const dest = stripTitle(content);
    this.work += content.length; // stripTitle and decoding read it again
    const isScheme = dest.slice(0, SCHEME.length).toLowerCase() === SCHEME;
    if (isScheme || !/\s/.test(dest)) pushRef(out, start, dest, "destination", true);
    // The `)` itself is ordinary prose again.
    this.#hold = -1;
    this.#mode = Mode.Prose;
    this.#prev = -2;
  }

  #angle(c: number, out: SandboxRef[]): void {
    if (c === 10 || c === 13 || c === 60) return this.#abandon();
    if (c !== 62 && this.#tooLong()) return this.#skipFrom(this.#kind);
    if (c === 62 /* > */) {
      const start = this.#hold;
      const dest = this.#buf.slice(start - this.#base, this.#i - this.#base);
      this.work += dest.length; // decoding reads it again
      const isScheme = dest.slice(0, SCHEME.length).toLowerCase() === SCHEME;
      if (isScheme || !/\s/.test(dest))
        pushRef(
          out,
          start,
          dest,
          this.#kind === "autolink" ? "autolink" : "angle-destination",
          this.#kind !== "autolink",
        );
      this.#hold = -1;
      this.#mode = Mode.Prose;
      this.#prev = 62;
      this.#i++;
      return;
    }
    this.#i++;
  }

  #bare(c: number, out: SandboxRef[]): void {
    if ((isSpace(c) || BARE_STOP.has(c)) && c !== 93) return this.#emitBare(this.#i, out);
    if (this.#tooLong()) return this.#skipFrom("bare");
    if (c === 93 /* ] */) this.#mode = Mode.BareBracket;
    this.#i++;
  }

  /** Ends a bare URL just before `stop` (absolute), trims it, and resumes prose at `stop`. */
  #emitBare(stop: number, out: SandboxRef[]): void {
    const start = this.#hold;
    let url = this.#buf.slice(start - this.#base, stop - this.#base);
    let open = 0;
    let close = 0;
    this.work += url.length;
    for (let k = 0; k < url.length; k++) {
      const ch = url.charCodeAt(k);
      if (ch === 40) open++;
      else if (ch === 41) close++;
    }
    let end = url.length;
    while (end > 0) {
      const ch = url.charCodeAt(end - 1);
      this.work++;
      if (BARE_TRIM.has(ch)) end--;
      else if (ch === 41 && close > open) {
        end--;
        close--;
      } else break;
    }
    url = url.slice(0, end);
    this.work += url.length; // decoding reads it again
    pushRef(out, start, url, "bare", false);
    this.#hold = -1;
    this.#mode = Mode.Prose;
    this.#i = stop;
    this.#prev = stop > 0 ? this.#at(stop - 1) : -1;
    this.#lineStart = false;
  }

  #skipFrom(kind: Kind): void {
    this.#hold = -1;
    this.#skipKind = kind;
    this.#mode = Mode.Skip;
  }

  /** Passes over an over-long candidate until where it would have ended; nothing is held. */
  #skip(c: number): void {
    const kind = this.#skipKind;
    if (kind === "bare") {
      if (isSpace(c) || BARE_STOP.has(c)) return this.#toProse(this.#i, -2);
      this.#i++;
      return;
    }
    if (c === 10 || c === 13) return this.#toProse(this.#i, -2);
    this.#i++;
    if (kind === "raw") {
      if (this.#escaped) this.#escaped = false;
      else if (c === 92) this.#escaped = true;
      else if (c === 40) this.#depth++;
      else if (c === 41) {
        if (this.#depth === 0) this.#toProse(this.#i, 41);
        else this.#depth--;
      }
    } else if (c === 62) this.#toProse(this.#i, 62);
  }

  #endOfText(out: SandboxRef[]): void {
    // Unfinished constructs at the very end: decide them now. A re-read can start another
    // candidate, so loop until nothing is pending (each pass consumes text, so this ends).
    for (;;) {
      switch (this.#mode) {
        case Mode.Bare:
          this.#emitBare(this.fed, out);
          break;
        case Mode.BareBracket:
          this.#emitBare(this.fed - 1, out);
          break;
        case Mode.Prefix:
        case Mode.Raw:
        case Mode.Angle:
          if (this.#mode === Mode.Prefix && this.#kind === "bare") this.#toProse(this.#hold + 1, this.#at(this.#hold));
          else this.#abandon();
          break;
        default:
          this.#hold = -1;
          return;
      }
      const end = this.fed;
      while (this.#i < end) {
        const c = this.#at(this.#i);
        this.work++;
        this.#step(c, out);
      }
    }
  }
}
