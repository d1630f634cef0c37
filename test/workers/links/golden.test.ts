import { describe, expect, it } from "vitest";
import { findSandboxRefs } from "../../../src/links/find";
import { rewriteText } from "../../../src/links/rewrite";
import { cutAt, deltasOf, messageEvents, readableNamer, rewriteStream } from "./helpers";

/**
 * Hand-written: input → expected output with `readableNamer` (https://f.test/<encoded name>).
 * Used by the whole-text rewrite and by the streamed rewrite under several cuttings.
 */
const GOLDEN: [name: string, input: string, expected: string][] = [
  ["link", "See [data](sandbox:/mnt/data/a.csv).", "See [data](https://f.test/a.csv)."],
  ["image", "![plot](sandbox:/mnt/data/p.png)", "![plot](https://f.test/p.png)"],
  ["short form", "[x](sandbox:/b.txt)", "[x](https://f.test/b.txt)"],
  ["double slash", "[x](sandbox://c.txt)", "[x](https://f.test/c.txt)"],
  ["bare path as destination", "[x](/mnt/data/d.json)", "[x](https://f.test/d.json)"],
  ["bare path in prose stays", "saved to /mnt/data/d.json.", "saved to /mnt/data/d.json."],
  ["angle destination with space", "[x](<sandbox:/mnt/data/a b.csv>)", "[x](<https://f.test/a%20b.csv>)"],
  ["space in destination", "[x](sandbox:/mnt/data/my file.csv)", "[x](https://f.test/my%20file.csv)"],
  ["balanced parens in name", "[x](sandbox:/mnt/data/f (1).csv) ok", "[x](https://f.test/f%20%281%29.csv) ok"],
  ["escaped paren in name", "[x](sandbox:/mnt/data/g\\).csv)", "[x](https://f.test/g%29.csv)"],
  ["title kept", '[x](sandbox:/mnt/data/t.csv "Table")', '[x](https://f.test/t.csv "Table")'],
  ["autolink", "<sandbox:/mnt/data/auto.txt>", "<https://f.test/auto.txt>"],
  ["path autolink", "</mnt/data/auto.txt>", "<https://f.test/auto.txt>"],
  ["bare URL with trailing period", "Get sandbox:/mnt/data/e.txt.", "Get https://f.test/e.txt."],
  ["bare URL in parentheses", "(sandbox:/mnt/data/e.txt)", "(https://f.test/e.txt)"],
  ["bare URL in bold", "**sandbox:/mnt/data/e.txt**", "**https://f.test/e.txt**"],
  [
    "label is not rewritten",
    "[sandbox:/mnt/data/l.csv](sandbox:/mnt/data/l.csv)",
    "[sandbox:/mnt/data/l.csv](https://f.test/l.csv)",
  ],
  ["percent-encoded name", "[x](sandbox:/mnt/data/caf%C3%A9.csv)", "[x](https://f.test/caf%C3%A9.csv)"],
  ["NFD name becomes NFC", "[x](sandbox:/mnt/data/cafe\u0301.csv)", "[x](https://f.test/caf%C3%A9.csv)"],
  [
    "emoji before and in a name",
    "\u{1F3B2} [x](sandbox:/mnt/data/\u{1F3B2}.png) \u{1F3B2}",
    "\u{1F3B2} [x](https://f.test/%F0%9F%8E%B2.png) \u{1F3B2}",
  ],
  ["scheme in capitals", "[x](SANDBOX:/mnt/data/u.txt)", "[x](https://f.test/u.txt)"],
  ["sandbox in prose", "The sandbox is gone; sandbox: no.", "The sandbox is gone; sandbox: no."],
  ["word before scheme", "thousandbox:/x and a-sandbox:/y", "thousandbox:/x and a-sandbox:/y"],
  ["repeated scheme", "sandbox:sandbox:/mnt/data/z", "sandbox:sandbox:/mnt/data/z"],
  ["unterminated at the end", "Here: [x](sandbox:", "Here: [x](sandbox:"],
  ["unterminated with a name", "[x](sandbox:/mnt/data/u.csv", "[x](https://f.test/u.csv"],
  ["unterminated before a newline", "[x](sandbox:/mnt/data/u v.csv\nnext", "[x](https://f.test/u v.csv\nnext"],
  [
    "inline code",
    "`[x](sandbox:/mnt/data/a.csv)` and [y](sandbox:/mnt/data/b.csv)",
    "`[x](sandbox:/mnt/data/a.csv)` and [y](https://f.test/b.csv)",
  ],
  [
    "double-backtick code",
    "``a ` sandbox:/mnt/data/a.csv`` sandbox:/mnt/data/b.csv",
    "``a ` sandbox:/mnt/data/a.csv`` https://f.test/b.csv",
  ],
  ["escaped backtick is no code", "\\` sandbox:/mnt/data/a.csv", "\\` https://f.test/a.csv"],
  [
    "unclosed code ends at a blank line",
    "`open sandbox:/mnt/data/a.csv\n\nsandbox:/mnt/data/b.csv",
    "`open sandbox:/mnt/data/a.csv\n\nhttps://f.test/b.csv",
  ],
  [
    "fence",
    "```\n[x](sandbox:/mnt/data/a.csv)\n```\n[y](sandbox:/mnt/data/b.csv)",
    "```\n[x](sandbox:/mnt/data/a.csv)\n```\n[y](https://f.test/b.csv)",
  ],
  ["tilde fence, unclosed", "~~~\nsandbox:/mnt/data/a.csv", "~~~\nsandbox:/mnt/data/a.csv"],
  [
    "fence closer must be long enough",
    "````\n```\nsandbox:/mnt/data/a.csv\n````\nsandbox:/mnt/data/b.csv",
    "````\n```\nsandbox:/mnt/data/a.csv\n````\nhttps://f.test/b.csv",
  ],
  ["directory is not a file", "[d](sandbox:/mnt/data/)", "[d](sandbox:/mnt/data/)"],
  [
    "other links untouched",
    "[x](https://example.com/sandbox:/a) [y](./mnt/data/b)",
    "[x](https://example.com/sandbox:/a) [y](./mnt/data/b)",
  ],
  ["spaces before destination", "[x](  sandbox:/mnt/data/s.csv)", "[x](  https://f.test/s.csv)"],
  [
    "two links, same file",
    "[a](sandbox:/mnt/data/a.csv) [b](sandbox:/a.csv)",
    "[a](https://f.test/a.csv) [b](https://f.test/a.csv)",
  ],
  ["html href", '<a href="sandbox:/mnt/data/h.csv">h</a>', '<a href="https://f.test/h.csv">h</a>'],
  ["table cell", "| f | sandbox:/mnt/data/t.csv |", "| f | https://f.test/t.csv |"],
  [
    "too long destination stays",
    `[x](sandbox:/mnt/data/${"n".repeat(2100)}.csv)`,
    `[x](sandbox:/mnt/data/${"n".repeat(2100)}.csv)`,
  ],
  // The cap counts the destination as written: 18 + 2026 + 4 = 2048 characters is the longest rewritten.
  [
    "longest destination is rewritten",
    `[x](sandbox:/mnt/data/${"n".repeat(2026)}.csv)`,
    `[x](https://f.test/${"n".repeat(2026)}.csv)`,
  ],
  [
    "one character over the cap stays",
    `[x](sandbox:/mnt/data/${"n".repeat(2027)}.csv)`,
    `[x](sandbox:/mnt/data/${"n".repeat(2027)}.csv)`,
  ],
];

describe("golden table: whole-text rewrite", () => {
  it.each(GOLDEN)("%s", async (_name, input, expected) => {
    expect((await rewriteText(input, readableNamer)).text).toBe(expected);
  });

  it("reports spans that slice to the destination as written", () => {
    for (const [, input] of GOLDEN) {
      for (const ref of findSandboxRefs(input)) expect(input.slice(ref.start, ref.end)).toBe(ref.raw);
    }
  });
});

describe("golden table: streamed rewrite", () => {
  const cuttings: [string, (s: string) => string[]][] = [
    ["one delta", (s) => [s]],
    ["one character per delta", (s) => Array.from(s)],
    ["UTF-16 unit per delta", (s) => s.split("")],
    ["thirds", (s) => cutAt(s, [1 / 3, 2 / 3])],
    [
      "every 7",
      (s) =>
        cutAt(
          s,
          Array.from({ length: 40 }, (_, k) => (k * 7) / s.length),
        ),
    ],
  ];
  for (const [how, cut] of cuttings) {
    it.each(GOLDEN)(`%s (${how})`, async (_name, input, expected) => {
      const events = messageEvents(cut(input));
      const out = await rewriteStream(events, readableNamer);
      expect(out.map((e) => [e.type, e.sequence_number])).toEqual(events.map((e) => [e.type, e.sequence_number]));
      expect(deltasOf(out)).toBe(expected);
      expect(out.find((e) => e.type === "response.output_text.done")!.text).toBe(expected);
    });
  }
});
