import { describe, expect, it } from "vitest";
import { findSandboxRefsCounted, LinkScanner, MAX_LINK_CHARS } from "../../../src/links/find";

/** Work is counted (character examinations), never timed. */
const BOUND = 6;
const MB = 1 << 20;

const PATHOLOGICAL: [string, () => string][] = [
  ["[[[[…", () => "[".repeat(MB)],
  ["sandbox:sandbox:…", () => "sandbox:".repeat(MB / 8)],
  ["1 MB without a newline", () => "lorem ipsum ".repeat(MB / 12)],
  ["](sandbox:/ repeated", () => "](sandbox:/".repeat(MB / 11)],
  ["<sandbox:/ repeated", () => "<sandbox:/".repeat(MB / 10)],
  ["unclosed parens after a destination", () => "](sandbox:/x" + "(".repeat(MB)],
  ["over-long destinations", () => ("](sandbox:/" + "x".repeat(3000)).repeat(300)],
  ["over-long bare URLs", () => ("sandbox:/" + "(".repeat(3000) + " ").repeat(300)],
  ["backticks", () => "`".repeat(MB)],
  ["mixed openers", () => "](<sandbox:/ `s".repeat(MB / 15)],
  ["escapes", () => "](sandbox:/\\".repeat(MB / 12)],
  ["trailing punctuation", () => ("sandbox:/a" + ".".repeat(2000) + " ").repeat(400)],
];

describe("the scanner does linear work on pathological inputs", () => {
  it.each(PATHOLOGICAL)("%s", (_name, make) => {
    const text = make();
    const { work } = findSandboxRefsCounted(text);
    expect(work).toBeGreaterThanOrEqual(text.length);
    expect(work).toBeLessThanOrEqual(BOUND * text.length);
  });

  it("finds 10,000 links in linear work", () => {
    const text = Array.from({ length: 10_000 }, (_, k) => `[f${k}](sandbox:/mnt/data/f${k}.csv)`).join(" ");
    const { refs, work } = findSandboxRefsCounted(text);
    expect(refs).toHaveLength(10_000);
    expect(refs[9_999]!.containerPath).toBe("/mnt/data/f9999.csv");
    expect(work).toBeLessThanOrEqual(BOUND * text.length);
  });

  it("holds back at most the cap while streaming one character at a time", () => {
    const scanner = new LinkScanner();
    let maxHeld = 0;
    for (const c of "[x](sandbox:/mnt/data/" + "y".repeat(5000) + ") done") {
      scanner.push(c);
      maxHeld = Math.max(maxHeld, scanner.held);
    }
    expect(maxHeld).toBe(MAX_LINK_CHARS);
    expect(scanner.finish()).toEqual([]);
  });
});
