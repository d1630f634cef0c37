/**
 * @module widget/markdown
 * A small Markdown parser for model answers that produces a syntax tree, never HTML. The DOM is
 * built from the tree with `createElement` and text nodes (widget/src/render.ts), so no model
 * text ever reaches an HTML parser: raw HTML in the answer shows as the characters it is, and
 * the widget needs no sanitizer and touches no Trusted Types sink.
 *
 * Covered (what chat models write): ATX headings, paragraphs, fenced code, bullet and numbered
 * lists (nested by indentation), block quotes, thematic breaks, pipe tables; inline code,
 * strong, emphasis, links, images, `<url>` and bare http(s) autolinks, backslash escapes, hard
 * line breaks. Pure, unit-tested in Node.
 *
 * Linear on any input. The answer is model output, which a prompt injection can shape, and it
 * is parsed again on every streamed delta on the host page's main thread. So there are no
 * regular expressions with overlapping quantifiers (a backtracking engine takes cubic time on a
 * long heading line written that way): lines are classified by hand-written scans, and every
 * inline search that could fail (a closing bracket, backtick run, emphasis closer, link
 * destination) is answered from a table built in one pass or remembers where it already failed,
 * so no character is searched again and again. Nesting is capped ({@link MAX_DEPTH}): deeper
 * quotes and lists read as text, deeper links and emphasis as their characters, which bounds
 * the work per character and the depth of recursion (here and in the renderer).
 * {@link parseMarkdownCounted} reports the work for the linear-work test.
 */

export type Inline =
  | { type: "text"; text: string }
  | { type: "code"; text: string }
  | { type: "strong"; children: Inline[] }
  | { type: "em"; children: Inline[] }
  | { type: "link"; href: string; children: Inline[] }
  | { type: "image"; src: string; alt: string }
  | { type: "br" };

export type Block =
  | { type: "heading"; level: number; children: Inline[] }
  | { type: "paragraph"; children: Inline[] }
  | { type: "code"; lang: string; text: string }
  | { type: "list"; ordered: boolean; start: number; items: Block[][] }
  | { type: "quote"; children: Block[] }
  | { type: "table"; head: Inline[][]; rows: Inline[][][] }
  | { type: "hr" };

/** Quotes and lists nest at most this deep, and so do links and emphasis. */
export const MAX_DEPTH = 8;

/** Characters examined or copied by the current parse (see {@link parseMarkdownCounted}). */
let work = 0;

/** Parses a whole answer (or the part streamed so far) into blocks. */
export function parseMarkdown(source: string): Block[] {
  work += source.length;
  return parseBlocks(source.replace(/\r\n?/g, "\n").split("\n"), 0);
}

/** Like {@link parseMarkdown}, also returning how many characters the parse examined or copied. */
export function parseMarkdownCounted(source: string): { blocks: Block[]; work: number } {
  work = 0;
  const blocks = parseMarkdown(source);
  return { blocks, work };
}

// ---------------------------------------------------------------------------------------------
// Characters

/** JavaScript's `\s`: white space and line terminators. */
function isWs(c: number): boolean {
  return (
    (c >= 9 && c <= 13) ||
    c === 32 ||
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}

/** Space or tab, the only blanks Markdown's line syntax knows. */
function isBlank(c: number): boolean {
  return c === 32 || c === 9;
}

/** ASCII `\w`. */
function isWord(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

/** Whether `s[from, to)` holds a character that ends a line (what `.` in a pattern does not match). */
function hasLineEnd(s: string, from: number, to = s.length): boolean {
  work += to - from;
  for (let k = from; k < to; k++) {
    const c = s.charCodeAt(k);
    if (c === 10 || c === 13 || c === 0x2028 || c === 0x2029) return true;
  }
  return false;
}

/** Whether the line is empty or white space only. */
function isBlankLine(line: string): boolean {
  for (let k = 0; k < line.length; k++) {
    work++;
    if (!isWs(line.charCodeAt(k))) return false;
  }
  return true;
}

/** How many white space characters the line starts with. */
function leadingWs(line: string): number {
  let k = 0;
  while (k < line.length && isWs(line.charCodeAt(k))) k++;
  work += k + 1;
  return k;
}

// ---------------------------------------------------------------------------------------------
// Line classifiers: each scans its line once.

/** The index after up to three leading spaces, or -1 when the line is indented four or more. */
function indent3(line: string): number {
  let k = 0;
  while (k < 3 && line.charCodeAt(k) === 32) k++;
  work += k + 1;
  return line.charCodeAt(k) === 32 ? -1 : k;
}

/** An opening code fence: three or more backticks or tildes, then an info string without backticks. */
function fenceAt(line: string): { fence: string; lang: string } | null {
  const s = indent3(line);
  const ch = line[s];
  if (s < 0 || (ch !== "`" && ch !== "~")) return null;
  let e = s;
  while (line[e] === ch) e++;
  work += e - s;
  if (e - s < 3) return null;
  work += line.length - e;
  if (line.indexOf("`", e) !== -1) return null;
  let k = e;
  while (k < line.length && isWs(line.charCodeAt(k))) k++;
  let l = k;
  while (l < line.length && !isWs(line.charCodeAt(l))) l++;
  return { fence: line.slice(s, e), lang: line.slice(k, l) };
}

/** Whether `line` closes a fence of `length` × `ch`: at least that many, and only fence characters. */
function closesFence(line: string, ch: string, length: number): boolean {
  const t = line.trim();
  work += line.length;
  let k = 0;
  while (k < t.length && t[k] === ch) k++;
  if (k < length) return false;
  for (; k < t.length; k++) if (t[k] !== "`" && t[k] !== "~") return false;
  return true;
}

/**
 * An ATX heading: one to six `#`, then blanks or the line's end. Its text drops the blanks
 * around it and one closing run of `#` that follows a blank (`## Title ##`).
 */
function headingAt(line: string): { level: number; text: string } | null {
  const s = indent3(line);
  if (s < 0) return null;
  let e = s;
  while (line[e] === "#") e++;
  work += e - s;
  const level = e - s;
  if (level < 1 || level > 6) return null;
  if (e === line.length) return { level, text: "" };
  if (!isBlank(line.charCodeAt(e))) return null;
  let r = e;
  while (r < line.length && isBlank(line.charCodeAt(r))) r++;
  if (hasLineEnd(line, r)) return null;
  let t = line.length;
  while (t > r && isBlank(line.charCodeAt(t - 1))) t--;
  let h = t;
  while (h > r && line[h - 1] === "#") h--;
  let end = t;
  if (h < t && h > r && isBlank(line.charCodeAt(h - 1))) {
    end = h;
    while (end > r && isBlank(line.charCodeAt(end - 1))) end--;
  }
  return { level, text: line.slice(r, end) };
}

/** A thematic break: three or more of one of `-*_`, blanks between them allowed. */
function isRule(line: string): boolean {
  const s = indent3(line);
  const c = line[s];
  if (s < 0 || (c !== "-" && c !== "*" && c !== "_")) return false;
  let count = 0;
  for (let k = s; k < line.length; k++) {
    work++;
    if (line[k] === c) count++;
    else if (!isBlank(line.charCodeAt(k))) return false;
  }
  return count >= 3;
}

interface ListMarker {
  /** Leading spaces. */
  indent: number;
  ordered: boolean;
  start: number;
  /** The item's text after the marker and its blanks. */
  rest: string;
}

/** `- item`, `* item`, `+ item`. */
function bulletAt(line: string): ListMarker | null {
  const s = indent3(line);
  const c = line[s];
  if (s < 0 || (c !== "-" && c !== "*" && c !== "+")) return null;
  return markerRest(line, s, s + 1, false, 1);
}

/** `1. item` or `1) item`, one to nine digits. */
function orderedAt(line: string): ListMarker | null {
  const s = indent3(line);
  if (s < 0) return null;
  let e = s;
  while (e < line.length && e - s <= 9 && line.charCodeAt(e) >= 48 && line.charCodeAt(e) <= 57) e++;
  work += e - s;
  if (e === s || e - s > 9 || (line[e] !== "." && line[e] !== ")")) return null;
  return markerRest(line, s, e + 1, true, Number(line.slice(s, e)));
}

function markerRest(line: string, indent: number, after: number, ordered: boolean, start: number): ListMarker | null {
  if (!isBlank(line.charCodeAt(after))) return null;
  let r = after;
  while (r < line.length && isBlank(line.charCodeAt(r))) r++;
  if (hasLineEnd(line, r)) return null;
  return { indent, ordered, start, rest: line.slice(r) };
}

function listMarkerAt(line: string): ListMarker | null {
  return bulletAt(line) ?? orderedAt(line);
}

/** `> quoted`: the text after `>` and one optional space. */
function quoteAt(line: string): string | null {
  const s = indent3(line);
  if (s < 0 || line[s] !== ">") return null;
  const r = line[s + 1] === " " ? s + 2 : s + 1;
  if (hasLineEnd(line, r)) return null;
  return line.slice(r);
}

/** A table's delimiter row: cells of `-` with optional `:` at either end, separated by `|`. */
function isTableRule(line: string): boolean {
  work += line.length;
  let k = 0;
  while (k < 3 && line[k] === " ") k++;
  if (line[k] === "|") k++;
  for (;;) {
    while (isBlank(line.charCodeAt(k))) k++;
    if (line[k] === ":") k++;
    if (line[k] !== "-") return false;
    while (line[k] === "-") k++;
    if (line[k] === ":") k++;
    while (isBlank(line.charCodeAt(k))) k++;
    if (k === line.length) return true;
    if (line[k] !== "|") return false;
    k++;
    let j = k;
    while (isBlank(line.charCodeAt(j))) j++;
    if (j === line.length) return true;
  }
}

// ---------------------------------------------------------------------------------------------
// Blocks

function parseBlocks(lines: string[], depth: number): Block[] {
  const nests = depth < MAX_DEPTH;
  const blocks: Block[] = [];
  let para: string[] = [];
  const flush = () => {
    if (para.length) blocks.push({ type: "paragraph", children: parseInline(para.join("\n").trim()) });
    para = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    work++;
    if (isBlankLine(line)) {
      flush();
      continue;
    }
    const fence = fenceAt(line);
    if (fence) {
      flush();
      const body: string[] = [];
      // An unclosed fence runs to the end (a streamed answer is often mid-block).
      while (++i < lines.length && !closesFence(lines[i]!, fence.fence[0]!, fence.fence.length)) body.push(lines[i]!);
      blocks.push({ type: "code", lang: fence.lang, text: body.join("\n") });
      continue;
    }
    const heading = headingAt(line);
    if (heading) {
      flush();
      blocks.push({ type: "heading", level: heading.level, children: parseInline(heading.text.trim()) });
      continue;
    }
    if (isRule(line)) {
      flush();
      blocks.push({ type: "hr" });
      continue;
    }
    if (nests && quoteAt(line) !== null) {
      flush();
      const inner: string[] = [];
      let q: string | null;
      while (i < lines.length && (q = quoteAt(lines[i]!)) !== null) {
        inner.push(q);
        i++;
      }
      i--;
      blocks.push({ type: "quote", children: parseBlocks(inner, depth + 1) });
      continue;
    }
    if (nests && listMarkerAt(line)) {
      flush();
      i = parseList(lines, i, blocks, depth) - 1;
      continue;
    }
    if (para.length === 0 && line.includes("|") && i + 1 < lines.length && isTableRule(lines[i + 1]!)) {
      const head = splitRow(line);
      const rows: Inline[][][] = [];
      i += 2;
      while (i < lines.length && lines[i]!.includes("|") && !isBlankLine(lines[i]!)) rows.push(splitRow(lines[i++]!));
      i--;
      blocks.push({ type: "table", head, rows });
      continue;
    }
    para.push(line);
  }
  flush();
  return blocks;
}

function splitRow(line: string): Inline[][] {
  work += 3 * line.length;
  let row = line.trim();
  if (row.startsWith("|")) row = row.slice(1);
  if (row.endsWith("|") && !row.endsWith("\\|")) row = row.slice(0, -1);
  return row.split(/(?<!\\)\|/).map((cell) => parseInline(cell.trim().replace(/\\\|/g, "|")));
}

/** Parses the list starting at `lines[start]`; returns the index of the first line after it. */
function parseList(lines: string[], start: number, out: Block[], depth: number): number {
  const first = listMarkerAt(lines[start]!)!;
  const { ordered, indent } = first;
  const items: string[][] = [];
  let i = start;
  for (; i < lines.length; i++) {
    const line = lines[i]!;
    work++;
    const m = ordered ? orderedAt(line) : bulletAt(line);
    if (m && m.indent === indent) {
      items.push([m.rest]);
      continue;
    }
    const leading = leadingWs(line);
    if (leading === line.length) {
      // A blank line continues the list only if the next line is indented into it.
      const next = lines[i + 1];
      if (next !== undefined && !isBlankLine(next) && leadingWs(next) > indent) {
        items.at(-1)!.push("");
        continue;
      }
      break;
    }
    if (leading > indent) {
      work += line.length;
      items.at(-1)!.push(line.slice(Math.min(leading, indent + 2)));
      continue;
    }
    // A lazy continuation line of the item's paragraph.
    if (!listMarkerAt(line) && !headingAt(line) && !fenceAt(line) && quoteAt(line) === null) {
      items.at(-1)!.push(line);
      continue;
    }
    break;
  }
  out.push({
    type: "list",
    ordered,
    start: ordered ? first.start : 1,
    items: items.map((item) => parseBlocks(item, depth + 1)),
  });
  return i;
}

// ---------------------------------------------------------------------------------------------
// Inlines

const ESCAPABLE = /[\\`*_{}[\]()#+\-.!|<>~"']/;
/** Trailing punctuation that belongs to the sentence, not to a bare URL. */
const URL_TRAILING = new Set([...".,:;!?'\"*_"]);

/** Parses inline Markdown. Anything that does not close is text, as written. */
export function parseInline(src: string): Inline[] {
  return parseNested(src, 0);
}

/** The inlines of `src`, nested `depth` links or emphases deep. */
function parseNested(src: string, depth: number): Inline[] {
  return new InlineParser(src, depth).run();
}

class InlineParser {
  readonly #src: string;
  readonly #n: number;
  /** Links and emphasis open here; at {@link MAX_DEPTH} their characters are text. */
  readonly #nests: boolean;
  readonly #depth: number;
  readonly #out: Inline[] = [];
  /** The text run being collected, in pieces (indexing into a growing string copies it). */
  #text: string[] = [];
  /** The text run's last character, -1 when empty. */
  #lastChar = -1;
  /** How many spaces the text run ends with. */
  #trailingSpaces = 0;
  // Tables, each built on first use in one pass over the text.
  #closeBracket?: Int32Array;
  #backticks?: BacktickRuns;
  #destEnds?: Int32Array;
  #next = new Map<string, Int32Array>();
  /** Per delimiter run: the positions an emphasis closer search visited and did not close at. */
  #failed = new Map<string, Uint8Array>();

  constructor(src: string, depth: number) {
    this.#src = src;
    this.#n = src.length;
    this.#depth = depth;
    this.#nests = depth < MAX_DEPTH;
    work += src.length;
  }

  run(): Inline[] {
    const src = this.#src;
    const n = this.#n;
    let i = 0;
    while (i < n) {
      work++;
      const ch = src[i]!;
      if (ch === "\\" && i + 1 < n) {
        if (src[i + 1] === "\n") {
          this.#flush();
          this.#out.push({ type: "br" });
          i += 2;
          continue;
        }
        if (ESCAPABLE.test(src[i + 1]!)) {
          this.#add(src[i + 1]!);
          i += 2;
          continue;
        }
      }
      if (ch === "\n") {
        if (this.#trailingSpaces >= 2) {
          const text = this.#text.join("");
          work += text.length;
          this.#text = [text.slice(0, text.length - this.#trailingSpaces)];
          this.#flush();
          this.#out.push({ type: "br" });
        } else this.#add("\n");
        i++;
        continue;
      }
      if (ch === "`") {
        i = this.#codeSpan(i);
        continue;
      }
      if (this.#nests && ch === "!" && src[i + 1] === "[") {
        const link = this.#linkAt(i + 1);
        if (link) {
          this.#flush();
          this.#out.push({ type: "image", src: link.dest, alt: plain(parseNested(link.label, this.#depth + 1)) });
          i = link.end;
          continue;
        }
      }
      if (this.#nests && ch === "[") {
        const link = this.#linkAt(i);
        if (link) {
          this.#flush();
          this.#out.push({ type: "link", href: link.dest, children: parseNested(link.label, this.#depth + 1) });
          i = link.end;
          continue;
        }
      }
      if (ch === "<") {
        const end = this.#urlEnd(i + 1, false);
        if (end !== -1 && src[end] === ">") {
          const url = src.slice(i + 1, end);
          this.#flush();
          this.#out.push({ type: "link", href: url, children: [{ type: "text", text: url }] });
          i = end + 1;
          continue;
        }
      }
      if ((ch === "h" || ch === "H") && !(this.#lastChar === 47 /* / */ || isWord(this.#lastChar))) {
        const end = this.#urlEnd(i, true);
        if (end !== -1) {
          const url = bareUrl(src.slice(i, end));
          this.#flush();
          this.#out.push({ type: "link", href: url, children: [{ type: "text", text: url }] });
          i += url.length;
          continue;
        }
      }
      if (this.#nests && (ch === "*" || ch === "_")) {
        i = this.#emphasis(i, ch);
        continue;
      }
      this.#add(ch);
      i++;
    }
    this.#flush();
    return this.#out;
  }

  #add(s: string): void {
    this.#text.push(s);
    this.#lastChar = s.charCodeAt(s.length - 1);
    let k = s.length;
    while (k > 0 && s.charCodeAt(k - 1) === 32) k--;
    this.#trailingSpaces = k === 0 ? this.#trailingSpaces + s.length : s.length - k;
  }

  #flush(): void {
    const text = this.#text.join("");
    if (text) this.#out.push({ type: "text", text });
    this.#text = [];
    this.#lastChar = -1;
    this.#trailingSpaces = 0;
  }

  /** A code span opening at `i`, closed by the next run of at least as many backticks. */
  #codeSpan(i: number): number {
    const runs = this.#backtickRuns();
    const a = runs.at[i]!;
    const end = runs.start[a]! + runs.length[a]!;
    const close = runs.closer(a, end - i);
    if (close === -1) {
      this.#add(this.#src.slice(i, end));
      return end;
    }
    this.#flush();
    let code = this.#src.slice(end, close).replace(/\n/g, " ");
    work += code.length;
    if (
      code.length >= 2 &&
      code[0] === " " &&
      code[code.length - 1] === " " &&
      !hasLineEnd(code, 1, code.length - 1) &&
      code.trim()
    ) {
      code = code.slice(1, -1);
    }
    this.#out.push({ type: "code", text: code });
    return close + (end - i);
  }

  /** Emphasis or strong emphasis opening at `i`; returns where parsing continues. */
  #emphasis(i: number, ch: "*" | "_"): number {
    const src = this.#src;
    const run = src[i + 1] === ch ? ch + ch : ch;
    const prev = i > 0 ? src.charCodeAt(i - 1) : 32;
    const next = src.charCodeAt(i + run.length);
    // Intraword underscores (snake_case names, file_names.csv) are not emphasis.
    const opens = i + run.length < this.#n && !isWs(next) && !(ch === "_" && isWord(prev));
    if (opens) {
      const close = this.#findCloser(i + run.length, run);
      if (close !== -1) {
        this.#flush();
        const children = parseNested(src.slice(i + run.length, close), this.#depth + 1);
        this.#out.push(run.length === 2 ? { type: "strong", children } : { type: "em", children });
        return close + run.length;
      }
    }
    this.#add(run);
    return i + run.length;
  }

  /**
   * The closer of a `run` opened before `from`, or -1: code spans and escapes are skipped. The
   * walk from a position is the same whichever search reaches it, and searches start further on
   * each time, so a position a failed search visited fails any later search at once.
   */
  #findCloser(from: number, run: string): number {
    const src = this.#src;
    const n = this.#n;
    let failed = this.#failed.get(run);
    if (!failed) this.#failed.set(run, (failed = new Uint8Array(n + 1)));
    const visited: number[] = [];
    const fail = () => {
      for (const j of visited) failed[j] = 1;
      return -1;
    };
    for (let j = from; j < n; j++) {
      work++;
      if (failed[j]) return fail();
      visited.push(j);
      const c = src[j];
      if (c === "\\") {
        j++;
        continue;
      }
      if (c === "`") {
        const runs = this.#backtickRuns();
        const a = runs.at[j]!;
        const end = runs.start[a]! + runs.length[a]!;
        const close = runs.closer(a, end - j);
        if (close !== -1) j = close + (end - j) - 1;
        continue;
      }
      if (j > from && src.startsWith(run, j) && !isWs(src.charCodeAt(j - 1))) {
        if (run.length === 1 && src[j + 1] === run) {
          // `**` inside `*…*`: skip the pair.
          j++;
          continue;
        }
        if (run[0] === "_" && isWord(src.charCodeAt(j + run.length))) continue;
        return j;
      }
    }
    return fail();
  }

  /** `[label](dest "title")` or `[label](<dest>)` starting at `src[open] === "["`. */
  #linkAt(open: number): { label: string; dest: string; end: number } | null {
    const src = this.#src;
    const j = this.#bracketClose()[open]!;
    if (j === -1 || src[j + 1] !== "(") return null;
    let k = this.#nextWhere("nonspace", (c) => c !== 32)[j + 2]!;
    const angled = src[k] === "<";
    const destStart = angled ? k + 1 : k;
    if (angled) {
      k = this.#nextWhere(">", (c) => c === 62)[k]!;
      if (k === this.#n) return null;
    } else {
      k = this.#destEnd()[k]!;
      if (k === this.#n) return null;
    }
    const destEnd = k;
    if (angled) k++;
    if (isWs(src.charCodeAt(k))) {
      const w = this.#nextWhere("nonws", (c) => !isWs(c))[k]!;
      const q = src[w];
      const closer = q === '"' || q === "'" ? q : q === "(" ? ")" : undefined;
      if (closer !== undefined) {
        const end = this.#nextWhere(closer, (c) => c === closer.charCodeAt(0))[w + 1]!;
        if (end < this.#n) k = end + 1;
      }
    }
    k = this.#nextWhere("nonspace", (c) => c !== 32)[k]!;
    if (src[k] !== ")") return null;
    work += k - open;
    const raw = src.slice(destStart, destEnd);
    return { label: src.slice(open + 1, j), dest: angled ? raw : raw.replace(/\\(.)/g, "$1"), end: k + 1 };
  }

  /**
   * The end of a URL starting at `from` (`http://` or `https://`, any case, then characters
   * other than white space, `<`, `>` and, for a bare URL, `"`), or -1 when none starts there.
   */
  #urlEnd(from: number, bare: boolean): number {
    const src = this.#src;
    const head = src.slice(from, from + 8).toLowerCase();
    const scheme = head.startsWith("https://") ? 8 : head.startsWith("http://") ? 7 : 0;
    if (!scheme) return -1;
    let k = from + scheme;
    while (k < this.#n) {
      const c = src.charCodeAt(k);
      if (isWs(c) || c === 60 || c === 62 || (bare && c === 34)) break;
      k++;
    }
    work += k - from;
    return k > from + scheme ? k : -1;
  }

  /** For each unescaped `[`, its matching `]` (-1 when none), in one pass with a stack. */
  #bracketClose(): Int32Array {
    if (this.#closeBracket) return this.#closeBracket;
    const src = this.#src;
    const close = new Int32Array(this.#n).fill(-1);
    const stack: number[] = [];
    for (let p = 0; p < this.#n; p++) {
      const c = src[p];
      if (c === "\\") p++;
      else if (c === "[") stack.push(p);
      else if (c === "]" && stack.length) close[stack.pop()!] = p;
    }
    work += this.#n;
    return (this.#closeBracket = close);
  }

  /**
   * For each position, where a link destination starting there ends: at white space or at a `)`
   * that balances none of the destination's own `(`, escapes skipped; `n` when it runs out.
   * Built from the right, so a nested `(…)` is looked up instead of scanned again.
   */
  #destEnd(): Int32Array {
    if (this.#destEnds) return this.#destEnds;
    const src = this.#src;
    const n = this.#n;
    const end = new Int32Array(n + 2).fill(n);
    for (let p = n - 1; p >= 0; p--) {
      const c = src.charCodeAt(p);
      if (c === 92 /* \ */) end[p] = p + 2 <= n ? end[p + 2]! : n;
      else if (c === 41 /* ) */ || isWs(c)) end[p] = p;
      else if (c === 40 /* ( */) {
        const inner = end[p + 1]!;
        end[p] = inner < n && src.charCodeAt(inner) === 41 ? end[inner + 1]! : inner;
      } else end[p] = end[p + 1]!;
    }
    work += n;
    return (this.#destEnds = end);
  }

  /** For each position, the first position at or after it whose character passes `test` (`n` if none). */
  #nextWhere(name: string, test: (c: number) => boolean): Int32Array {
    let next = this.#next.get(name);
    if (next) return next;
    const n = this.#n;
    next = new Int32Array(n + 2).fill(n);
    for (let p = n - 1; p >= 0; p--) next[p] = test(this.#src.charCodeAt(p)) ? p : next[p + 1]!;
    work += n;
    this.#next.set(name, next);
    return next;
  }

  #backtickRuns(): BacktickRuns {
    return (this.#backticks ??= new BacktickRuns(this.#src));
  }
}

/**
 * The text's maximal runs of backticks, answering "where is the first later run of at least
 * `length` backticks" in constant time: a sweep from the right keeps, for every length, the
 * nearest such run, and each run stores the answers for the lengths it can ask about (at most
 * its own), so the tables hold one entry per backtick.
 */
class BacktickRuns {
  readonly start: number[] = [];
  readonly length: number[] = [];
  /** For each position inside a run, the run's index. */
  readonly at: Int32Array;
  readonly #later: Int32Array[] = [];

  constructor(src: string) {
    this.at = new Int32Array(src.length);
    for (let p = 0; p < src.length; ) {
      if (src[p] !== "`") {
        p++;
        continue;
      }
      const s = p;
      while (src[p] === "`") this.at[p++] = this.start.length;
      this.start.push(s);
      this.length.push(p - s);
    }
    const nearest: number[] = [];
    for (let a = this.start.length - 1; a >= 0; a--) {
      const len = this.length[a]!;
      const row = new Int32Array(len);
      for (let l = 1; l <= len; l++) row[l - 1] = nearest[l] ?? -1;
      this.#later[a] = row;
      for (let l = 1; l <= len; l++) nearest[l] = a;
    }
    work += src.length + 2 * this.start.reduce((sum, _s, a) => sum + this.length[a]!, 0);
  }

  /** Where the first run after run `a` with at least `length` backticks starts, or -1. */
  closer(a: number, length: number): number {
    const b = this.#later[a]![length - 1]!;
    return b === -1 ? -1 : this.start[b]!;
  }
}

/** A bare URL without the sentence's trailing punctuation, and without a `)` it did not open. */
function bareUrl(match: string): string {
  let end = match.length;
  while (end > 0 && URL_TRAILING.has(match[end - 1]!)) end--;
  let opens = 0;
  let closes = 0;
  for (let k = 0; k < end; k++) {
    if (match[k] === "(") opens++;
    else if (match[k] === ")") closes++;
  }
  while (match[end - 1] === ")" && opens < closes) {
    end--;
    closes--;
  }
  work += match.length;
  return match.slice(0, end);
}

/** The text of inlines without their markup (image alt text). */
export function plain(nodes: Inline[]): string {
  return nodes
    .map((n) =>
      "text" in n
        ? n.text
        : "children" in n
          ? plain(n.children)
          : n.type === "image"
            ? n.alt
            : n.type === "br"
              ? "\n"
              : "",
    )
    .join("");
}
