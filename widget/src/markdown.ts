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

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([^`\s]*)[^`]*$/;
const HEADING = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/;
const HR = /^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/;
const BULLET = /^( {0,3})([-*+])[ \t]+(.*)$/;
const ORDERED = /^( {0,3})(\d{1,9})[.)][ \t]+(.*)$/;
const QUOTE = /^ {0,3}>[ ]?(.*)$/;
const TABLE_RULE = /^ {0,3}\|?[ \t]*:?-+:?[ \t]*(\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$/;

/** Parses a whole answer (or the part streamed so far) into blocks. */
export function parseMarkdown(source: string): Block[] {
  return parseBlocks(source.replace(/\r\n?/g, "\n").split("\n"));
}

function parseBlocks(lines: string[]): Block[] {
  const blocks: Block[] = [];
  let para: string[] = [];
  const flush = () => {
    if (para.length) blocks.push({ type: "paragraph", children: parseInline(para.join("\n").trim()) });
    para = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    let m: RegExpExecArray | null;
    if (line.trim() === "") {
      flush();
      continue;
    }
    if ((m = FENCE.exec(line))) {
      flush();
      const fence = m[1]!;
      const body: string[] = [];
      // An unclosed fence runs to the end (a streamed answer is often mid-block).
      while (++i < lines.length && !(lines[i]!.trim().startsWith(fence[0]!.repeat(fence.length)) && lines[i]!.trim().replace(/[`~]/g, "") === "")) {
        body.push(lines[i]!);
      }
      blocks.push({ type: "code", lang: m[2] ?? "", text: body.join("\n") });
      continue;
    }
    if ((m = HEADING.exec(line))) {
      flush();
      blocks.push({ type: "heading", level: m[1]!.length, children: parseInline((m[2] ?? "").trim()) });
      continue;
    }
    if (HR.test(line)) {
      flush();
      blocks.push({ type: "hr" });
      continue;
    }
    if (QUOTE.test(line)) {
      flush();
      const inner: string[] = [];
      while (i < lines.length && (m = QUOTE.exec(lines[i]!))) {
        inner.push(m[1]!);
        i++;
      }
      i--;
      blocks.push({ type: "quote", children: parseBlocks(inner) });
      continue;
    }
    if (BULLET.test(line) || ORDERED.test(line)) {
      flush();
      i = parseList(lines, i, blocks) - 1;
      continue;
    }
    if (para.length === 0 && line.includes("|") && i + 1 < lines.length && TABLE_RULE.test(lines[i + 1]!) && lines[i + 1]!.includes("-")) {
      const head = splitRow(line);
      const rows: Inline[][][] = [];
      i += 2;
      while (i < lines.length && lines[i]!.includes("|") && lines[i]!.trim() !== "") rows.push(splitRow(lines[i++]!));
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
  let row = line.trim();
  if (row.startsWith("|")) row = row.slice(1);
  if (row.endsWith("|") && !row.endsWith("\\|")) row = row.slice(0, -1);
  return row.split(/(?<!\\)\|/).map((cell) => parseInline(cell.trim().replace(/\\\|/g, "|")));
}

/** Parses the list starting at `lines[start]`; returns the index of the first line after it. */
function parseList(lines: string[], start: number, out: Block[]): number {
  const first = BULLET.exec(lines[start]!) ?? ORDERED.exec(lines[start]!)!;
  const ordered = !BULLET.test(lines[start]!);
  const indent = first[1]!.length;
  const items: string[][] = [];
  let i = start;
  for (; i < lines.length; i++) {
    const line = lines[i]!;
    const m = ordered ? ORDERED.exec(line) : BULLET.exec(line);
    if (m && m[1]!.length === indent) {
      items.push([m[3]!]);
      continue;
    }
    const leading = line.length - line.trimStart().length;
    if (line.trim() === "") {
      // A blank line continues the list only if the next line is indented into it.
      const next = lines[i + 1];
      if (next !== undefined && next.trim() !== "" && next.length - next.trimStart().length > indent) {
        items.at(-1)!.push("");
        continue;
      }
      break;
    }
    if (leading > indent) {
      items.at(-1)!.push(line.slice(Math.min(leading, indent + 2)));
      continue;
    }
    // A lazy continuation line of the item's paragraph.
    if (!BULLET.test(line) && !ORDERED.test(line) && !HEADING.test(line) && !FENCE.test(line) && !QUOTE.test(line)) {
      items.at(-1)!.push(line);
      continue;
    }
    break;
  }
  out.push({ type: "list", ordered, start: ordered ? Number(first[2]) : 1, items: items.map((item) => parseBlocks(item)) });
  return i;
}

const ESCAPABLE = /[\\`*_{}[\]()#+\-.!|<>~"']/;
const BARE_URL = /^https?:\/\/[^\s<>"]+/i;

/** Parses inline Markdown. Anything that does not close is text, as written. */
export function parseInline(src: string): Inline[] {
  const out: Inline[] = [];
  let text = "";
  const pushText = () => {
    if (text) out.push({ type: "text", text });
    text = "";
  };
  let i = 0;
  while (i < src.length) {
    const ch = src[i]!;
    const rest = src.slice(i);
    if (ch === "\\" && i + 1 < src.length) {
      if (src[i + 1] === "\n") {
        pushText();
        out.push({ type: "br" });
        i += 2;
        continue;
      }
      if (ESCAPABLE.test(src[i + 1]!)) {
        text += src[i + 1];
        i += 2;
        continue;
      }
    }
    if (ch === "\n") {
      if (/ {2,}$/.test(text)) {
        text = text.replace(/ +$/, "");
        pushText();
        out.push({ type: "br" });
      } else text += "\n";
      i++;
      continue;
    }
    if (ch === "`") {
      const run = /^`+/.exec(rest)![0];
      const close = src.indexOf(run, i + run.length);
      if (close !== -1) {
        pushText();
        let code = src.slice(i + run.length, close).replace(/\n/g, " ");
        if (/^ .* $/.test(code) && code.trim()) code = code.slice(1, -1);
        out.push({ type: "code", text: code });
        i = close + run.length;
        continue;
      }
      text += run;
      i += run.length;
      continue;
    }
    if (ch === "!" && src[i + 1] === "[") {
      const link = linkAt(src, i + 1);
      if (link) {
        pushText();
        out.push({ type: "image", src: link.dest, alt: plain(parseInline(link.label)) });
        i = link.end;
        continue;
      }
    }
    if (ch === "[") {
      const link = linkAt(src, i);
      if (link) {
        pushText();
        out.push({ type: "link", href: link.dest, children: parseInline(link.label) });
        i = link.end;
        continue;
      }
    }
    if (ch === "<") {
      const m = /^<(https?:\/\/[^\s<>]+)>/i.exec(rest);
      if (m) {
        pushText();
        out.push({ type: "link", href: m[1]!, children: [{ type: "text", text: m[1]! }] });
        i += m[0].length;
        continue;
      }
    }
    if ((ch === "h" || ch === "H") && !/[\w/]$/.test(text)) {
      const m = BARE_URL.exec(rest);
      if (m) {
        // Trailing punctuation belongs to the sentence, and a ")" only if unbalanced.
        let url = m[0].replace(/[.,:;!?'"*_]+$/, "");
        while (url.endsWith(")") && (url.match(/\(/g)?.length ?? 0) < (url.match(/\)/g)?.length ?? 0)) url = url.slice(0, -1);
        pushText();
        out.push({ type: "link", href: url, children: [{ type: "text", text: url }] });
        i += url.length;
        continue;
      }
    }
    if (ch === "*" || ch === "_") {
      const run = rest.startsWith(ch + ch) ? ch + ch : ch;
      const prev = src[i - 1] ?? " ";
      // Intraword underscores (snake_case names, file_names.csv) are not emphasis.
      const opens = src[i + run.length] !== undefined && !/\s/.test(src[i + run.length]!) && !(ch === "_" && /\w/.test(prev));
      if (opens) {
        const close = findCloser(src, i + run.length, run);
        if (close !== -1) {
          pushText();
          const children = parseInline(src.slice(i + run.length, close));
          out.push(run.length === 2 ? { type: "strong", children } : { type: "em", children });
          i = close + run.length;
          continue;
        }
      }
      text += run;
      i += run.length;
      continue;
    }
    text += ch;
    i++;
  }
  pushText();
  return out;
}

function findCloser(src: string, from: number, run: string): number {
  for (let j = from; j < src.length; j++) {
    if (src[j] === "\\") {
      j++;
      continue;
    }
    if (src[j] === "`") {
      const r = /^`+/.exec(src.slice(j))![0];
      const close = src.indexOf(r, j + r.length);
      if (close !== -1) j = close + r.length - 1;
      continue;
    }
    if (src.startsWith(run, j) && !/\s/.test(src[j - 1]!) && j > from) {
      if (run.length === 1 && src[j + 1] === run) {
        // `**` inside `*…*`: skip the pair.
        j++;
        continue;
      }
      if (run[0] === "_" && /\w/.test(src[j + run.length] ?? "")) continue;
      return j;
    }
  }
  return -1;
}

/** `[label](dest "title")` or `[label](<dest>)` starting at `src[open] === "["`. */
function linkAt(src: string, open: number): { label: string; dest: string; end: number } | null {
  let depth = 0;
  let j = open;
  for (; j < src.length; j++) {
    const c = src[j];
    if (c === "\\") {
      j++;
      continue;
    }
    if (c === "[") depth++;
    else if (c === "]" && --depth === 0) break;
  }
  if (j >= src.length || src[j + 1] !== "(") return null;
  const label = src.slice(open + 1, j);
  let k = j + 2;
  while (src[k] === " ") k++;
  let dest: string;
  if (src[k] === "<") {
    const close = src.indexOf(">", k);
    if (close === -1) return null;
    dest = src.slice(k + 1, close);
    k = close + 1;
  } else {
    let parens = 0;
    const startDest = k;
    for (; k < src.length; k++) {
      const c = src[k]!;
      if (c === "\\") {
        k++;
        continue;
      }
      if (c === "(") parens++;
      else if (c === ")") {
        if (parens === 0) break;
        parens--;
      } else if (/\s/.test(c)) break;
    }
    dest = src.slice(startDest, k).replace(/\\(.)/g, "$1");
  }
  const title = /^\s+(?:"[^"]*"|'[^']*'|\([^)]*\))/.exec(src.slice(k));
  if (title) k += title[0].length;
  while (src[k] === " ") k++;
  if (src[k] !== ")") return null;
  return { label, dest, end: k + 1 };
}

/** The text of inlines without their markup (image alt text). */
export function plain(nodes: Inline[]): string {
  return nodes
    .map((n) => ("text" in n ? n.text : "children" in n ? plain(n.children) : n.type === "image" ? n.alt : n.type === "br" ? "\n" : ""))
    .join("");
}
