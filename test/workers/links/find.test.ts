import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalPath, findSandboxRefs, LinkScanner } from "../../../src/links/find";
import { cutAt, outputText } from "./helpers";

describe("canonicalPath", () => {
  it.each([
    ["sandbox:/mnt/data/a.csv", "/mnt/data/a.csv"],
    ["sandbox:/a.csv", "/mnt/data/a.csv"],
    ["sandbox://a.csv", "/mnt/data/a.csv"],
    ["sandbox:///mnt/data/a.csv", "/mnt/data/a.csv"],
    ["/mnt/data/a.csv", "/mnt/data/a.csv"],
    ["Sandbox:/mnt/data/sub/b.txt", "/mnt/data/sub/b.txt"],
    ["sandbox:/mnt/data/a%20b.csv", "/mnt/data/a b.csv"],
    ["sandbox:/mnt/data/bad%E9.csv", "/mnt/data/bad%E9.csv"],
    ["sandbox:/mnt/data/cafe\u0301.csv", "/mnt/data/caf\u00e9.csv"],
    ["sandbox:/mnt/data/./x/../y.csv", "/mnt/data/y.csv"],
    ["sandbox:/../../etc/passwd", "/mnt/data/etc/passwd"],
    ["sandbox:/mnt/data/", null],
    ["sandbox:/", null],
    ["https://example.com/a.csv", null],
    ["mnt/data/a.csv", null],
  ])("%s → %s", (raw, expected) => {
    expect(canonicalPath(raw)).toBe(expected);
  });

  it("decodes backslash escapes only when asked (Markdown destinations)", () => {
    expect(canonicalPath("sandbox:/mnt/data/a\\).csv", true)).toBe("/mnt/data/a).csv");
    expect(canonicalPath("sandbox:/mnt/data/a\\).csv")).toBe("/mnt/data/a\\).csv");
  });
});

describe("findSandboxRefs", () => {
  it("reports form, raw, decoded path and container path", () => {
    const text =
      "[a](sandbox:/a%20b.csv) <sandbox:/mnt/data/c.txt> </mnt/data/d.txt> [e](<sandbox:/e f.txt>) sandbox:/g.txt";
    expect(findSandboxRefs(text).map((r) => [r.form, r.raw, r.path, r.containerPath])).toEqual([
      ["destination", "sandbox:/a%20b.csv", "/a b.csv", "/mnt/data/a b.csv"],
      ["autolink", "sandbox:/mnt/data/c.txt", "/mnt/data/c.txt", "/mnt/data/c.txt"],
      ["autolink", "/mnt/data/d.txt", "/mnt/data/d.txt", "/mnt/data/d.txt"],
      ["angle-destination", "sandbox:/e f.txt", "/e f.txt", "/mnt/data/e f.txt"],
      ["bare", "sandbox:/g.txt", "/g.txt", "/mnt/data/g.txt"],
    ]);
  });

  it("finds the same references however the text is cut (property)", () => {
    fc.assert(
      fc.property(outputText, fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 20 }), (text, cuts) => {
        const scanner = new LinkScanner();
        const refs = cutAt(text, cuts).flatMap((piece) => {
          const found = scanner.push(piece);
          // Nothing decided may start after what is committed, and nothing before it is held.
          for (const r of found) expect(r.end).toBeLessThanOrEqual(scanner.committed);
          return found;
        });
        refs.push(...scanner.finish());
        expect(refs).toEqual(findSandboxRefs(text));
        for (const r of refs) expect(text.slice(r.start, r.end)).toBe(r.raw);
      }),
      { numRuns: 200 },
    );
  });
});
