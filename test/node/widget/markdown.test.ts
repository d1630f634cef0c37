import { describe, expect, it } from "vitest";
import { parseInline, parseMarkdown, plain } from "../../../widget/src/markdown";

describe("parseMarkdown blocks", () => {
  it("parses headings, paragraphs, lists, code, quotes, rules and tables", () => {
    const md = [
      "## Report",
      "",
      "Here is **your** file:",
      "",
      "- one",
      "- two",
      "  - nested",
      "",
      "3. third",
      "4. fourth",
      "",
      "```python",
      "print('<b>hi</b>')",
      "```",
      "> quoted",
      "",
      "---",
      "| a | b |",
      "|---|:-:|",
      "| 1 | 2 |",
    ].join("\n");
    const blocks = parseMarkdown(md);
    expect(blocks.map((b) => b.type)).toEqual(["heading", "paragraph", "list", "list", "code", "quote", "hr", "table"]);
    const bullets = blocks[2] as Extract<(typeof blocks)[number], { type: "list" }>;
    expect(bullets.items).toHaveLength(2);
    expect(bullets.items[1]!.map((b) => b.type)).toEqual(["paragraph", "list"]);
    const ordered = blocks[3] as Extract<(typeof blocks)[number], { type: "list" }>;
    expect(ordered).toMatchObject({ ordered: true, start: 3 });
    expect(blocks[4]).toEqual({ type: "code", lang: "python", text: "print('<b>hi</b>')" });
    const table = blocks[7] as Extract<(typeof blocks)[number], { type: "table" }>;
    expect(table.head.map(plain)).toEqual(["a", "b"]);
    expect(table.rows.map((r) => r.map(plain))).toEqual([["1", "2"]]);
  });

  it("keeps an unclosed fence (a streamed answer mid-block) as code to the end", () => {
    expect(parseMarkdown("text\n```js\nlet a = 1;")).toEqual([
      { type: "paragraph", children: [{ type: "text", text: "text" }] },
      { type: "code", lang: "js", text: "let a = 1;" },
    ]);
  });

  it("keeps raw HTML as text: there is no HTML node type at all", () => {
    const blocks = parseMarkdown('<img src=x onerror="alert(1)"><script>alert(2)</script>');
    expect(blocks).toEqual([
      {
        type: "paragraph",
        children: [{ type: "text", text: '<img src=x onerror="alert(1)"><script>alert(2)</script>' }],
      },
    ]);
  });
});

describe("parseInline", () => {
  it("parses links with spaces in <…>, parentheses and titles", () => {
    expect(parseInline('[a](<https://x.test/my file.pdf>) [b](https://x.test/a_(b).csv "t")')).toEqual([
      { type: "link", href: "https://x.test/my file.pdf", children: [{ type: "text", text: "a" }] },
      { type: "text", text: " " },
      { type: "link", href: "https://x.test/a_(b).csv", children: [{ type: "text", text: "b" }] },
    ]);
  });

  it("parses images with alt text, and link text with nested markup", () => {
    expect(parseInline("![a *chart*](https://f.test/c.png) [**bold**](https://x.test)")).toEqual([
      { type: "image", src: "https://f.test/c.png", alt: "a chart" },
      { type: "text", text: " " },
      {
        type: "link",
        href: "https://x.test",
        children: [{ type: "strong", children: [{ type: "text", text: "bold" }] }],
      },
    ]);
  });

  it("autolinks bare URLs without the sentence's punctuation", () => {
    expect(parseInline("See https://x.test/a(1). Or <https://y.test>.")).toEqual([
      { type: "text", text: "See " },
      { type: "link", href: "https://x.test/a(1)", children: [{ type: "text", text: "https://x.test/a(1)" }] },
      { type: "text", text: ". Or " },
      { type: "link", href: "https://y.test", children: [{ type: "text", text: "https://y.test" }] },
      { type: "text", text: "." },
    ]);
  });

  it("does not treat snake_case or file_names as emphasis, but does *this* and __that__", () => {
    expect(parseInline("my_file_name.csv *em* __strong__")).toEqual([
      { type: "text", text: "my_file_name.csv " },
      { type: "em", children: [{ type: "text", text: "em" }] },
      { type: "text", text: " " },
      { type: "strong", children: [{ type: "text", text: "strong" }] },
    ]);
  });

  it("keeps code spans literal and honours backslash escapes and hard breaks", () => {
    expect(parseInline("`a *b* [c](d)` \\*e\\* f  \ng")).toEqual([
      { type: "code", text: "a *b* [c](d)" },
      { type: "text", text: " *e* f" },
      { type: "br" },
      { type: "text", text: "g" },
    ]);
  });

  it("leaves what does not close as text", () => {
    expect(plain(parseInline("**open [label](no-close `tick"))).toBe("**open [label](no-close `tick");
  });

  it("passes javascript: and sandbox: destinations through as data (the URL policy decides)", () => {
    expect(parseInline("[x](javascript:alert(1))")).toEqual([
      { type: "link", href: "javascript:alert(1)", children: [{ type: "text", text: "x" }] },
    ]);
  });
});
