import { describe, expect, it } from "vitest";
import { MAX_DEPTH, parseMarkdownCounted, plain, type Block } from "../../../widget/src/markdown";

/**
 * Work is counted (characters the parser examines or copies), never timed. Each input is tried
 * at three sizes up to 200,000 characters: a parser that searches again from every opener, or a
 * pattern that backtracks, does work that grows with the square (or cube) of the size and
 * overshoots the bound long before the largest size (the old heading pattern took seconds on
 * 2,000 characters). Each nesting level reads its text a few times (flat inputs stay under 8
 * per character) and there are at most MAX_DEPTH levels, hence the bound.
 */
const PER_LEVEL = 8;
const BOUND = PER_LEVEL * (MAX_DEPTH + 1);
const SIZES = [2_000, 20_000, 200_000];

/** `unit` repeated to about `size` characters, between `head` and `tail`. */
const rep =
  (head: string, unit: string, tail = "") =>
  (size: number) =>
    head + unit.repeat(Math.ceil(size / unit.length)) + tail;

const PATHOLOGICAL: [string, (size: number) => string][] = [
  // Headings: the old pattern backtracked cubically on blanks and `#` runs.
  ["heading of blanks", rep("#", " ", "x")],
  ["heading of blanks then a line separator", rep("# ", " ", "\u2028")],
  ["heading of ` #` pairs", rep("#", " #", "x")],
  ["heading of ` #` pairs then a line separator", rep("#", " #", "\u2028")],
  ["heading of blank-tab-# runs", rep("# a", " \t#", " #a")],
  ["heading of `#`", rep("#", "#")],
  ["heading of mixed text and closers", rep("## ", "a ## ", "  ")],
  // Fences and code spans.
  ["a run of backticks", rep("", "`")],
  ["a run of tildes", rep("", "~")],
  ["a fence whose info string ends in a backtick", rep("```", " a", "`")],
  ["a long fence then many lines that do not close it", (n) => "`".repeat(n / 2) + "\n" + "``\n".repeat(n / 6)],
  [
    "backtick runs of growing length",
    (n) => Array.from({ length: Math.sqrt(2 * n) }, (_, k) => "`".repeat(k + 1) + "a").join(""),
  ],
  [
    "backtick runs of shrinking length",
    (n) => Array.from({ length: Math.sqrt(2 * n) }, (_, k) => "`".repeat(Math.sqrt(2 * n) - k) + "a").join(""),
  ],
  ["unclosed double backticks between singles", rep("", "``a`")],
  // Bullets, numbers, quotes, rules, tables.
  ["a bullet's blanks then a line separator", rep("- ", " ", "\u2028")],
  ["an ordered item's blanks then a line separator", rep("1. ", "\t", "\u2029")],
  ["a rule that fails at its end", rep("", "- ", "x")],
  ["a table rule's blanks", (n) => "| a |\n|-" + " ".repeat(n) + "x"],
  ["bullets in bullets", rep("", "- a ")],
  ["plus bullets in plus bullets", rep("", "+ ")],
  ["quotes in quotes", rep("", "> ", "x")],
  ["quote markers without spaces", rep("", ">")],
  [
    "lists nested by indentation",
    (n) => Array.from({ length: Math.sqrt(n) }, (_, k) => " ".repeat(2 * k) + "- x").join("\n"),
  ],
  // Inline openers that never close.
  ["unclosed [", rep("", "[")],
  ["unclosed (", rep("[a]", "(")],
  ["unclosed *", rep("", "*a ")],
  ["unclosed _", rep("", "_a ")],
  ["unclosed **", rep("", "**a ")],
  ["a run of *", rep("", "*")],
  ["a run of _", rep("", "_")],
  ["links whose destinations never end", rep("", "[a](b")],
  ["links whose <destinations> never end", rep("", "[a](<")],
  ["images whose titles never end", rep("", '![a](b "')],
  ["links cut after their title", rep("[a](b ", '"t" ', "x")],
  ["nested brackets", (n) => "[".repeat(n / 5) + "a" + "](x)".repeat(n / 5)],
  ["nested emphasis", (n) => "*a ".repeat(n / 6) + "b*".repeat(n / 6)],
  ["autolinks that never close", rep("", "<http://a")],
  ["bare URLs of trailing punctuation", rep("http://a", "._")],
  ["bare URLs of closing parentheses", rep("http://a", ")")],
  ["h after h", rep("", "h")],
  ["escapes", rep("", "\\")],
  ["text with many line ends", rep("", "a  \n b \n")],
  ["blank runs before line ends", rep("a", " ", "\nb")],
];

describe("the Markdown parser does linear work on pathological inputs", () => {
  it.each(PATHOLOGICAL)("%s", (_name, make) => {
    for (const size of SIZES) {
      const text = make(size);
      const { work } = parseMarkdownCounted(text);
      expect(work).toBeGreaterThanOrEqual(text.length);
      expect(work, `${text.length} characters`).toBeLessThanOrEqual(BOUND * text.length);
    }
  });

  it("reads a 200,000-character heading line as the heading it is", () => {
    const { blocks } = parseMarkdownCounted("## " + "word ".repeat(40_000) + "##");
    expect(blocks).toHaveLength(1);
    const heading = blocks[0] as Extract<Block, { type: "heading" }>;
    expect(heading.level).toBe(2);
    expect(plain(heading.children)).toBe("word ".repeat(40_000).trim());
  });

  it("nests quotes at most MAX_DEPTH deep; deeper markers read as text", () => {
    let { blocks } = parseMarkdownCounted("> ".repeat(100_000) + "x");
    let depth = 0;
    while (blocks[0]?.type === "quote") {
      blocks = blocks[0].children;
      depth++;
    }
    expect(depth).toBe(MAX_DEPTH);
    expect(blocks[0]!.type).toBe("paragraph");
  });

  it("parses a long real answer in linear work", () => {
    const answer = [
      "## Results",
      "",
      "Here is **your** file: [report.csv](https://files.unsandbox.test/f/abc) and `code`.",
      "",
      "- one _item_ with https://x.test/a(1).",
      "  - nested ![chart](https://files.unsandbox.test/c.png)",
      "",
      "| a | b |",
      "|---|:-:|",
      "| 1 | 2 |",
      "",
      "```python",
      "print('hi')",
      "```",
      "> quoted *text*",
      "",
    ].join("\n");
    const text = answer.repeat(2_000);
    const { blocks, work } = parseMarkdownCounted(text);
    expect(blocks.filter((b) => b.type === "heading")).toHaveLength(2_000);
    expect(work).toBeLessThanOrEqual(BOUND * text.length);
  });
});
