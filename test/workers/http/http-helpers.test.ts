import { describe, expect, it } from "vitest";
import { contentDisposition, cleanFilename } from "../../../src/http/content-disposition";
import { contentTypeFor, isInlineSafe } from "../../../src/http/content-type";
import { contentRange, ifRangeAllows, noneMatchHits, parseRange, unsatisfiedRange } from "../../../src/http/range";

describe("parseRange", () => {
  it.each([
    ["bytes=0-0", 10, { kind: "partial", offset: 0, length: 1 }],
    ["bytes=-1", 10, { kind: "partial", offset: 9, length: 1 }],
    ["bytes=5-", 10, { kind: "partial", offset: 5, length: 5 }],
    ["bytes=2-5", 10, { kind: "partial", offset: 2, length: 4 }],
    ["bytes=2-500", 10, { kind: "partial", offset: 2, length: 8 }],
    ["bytes=-500", 10, { kind: "partial", offset: 0, length: 10 }],
    ["bytes=10-", 10, { kind: "unsatisfiable" }],
    ["bytes=10-20", 10, { kind: "unsatisfiable" }],
    ["bytes=-0", 10, { kind: "unsatisfiable" }],
    ["bytes=0-", 0, { kind: "unsatisfiable" }],
    ["bytes=-5", 0, { kind: "unsatisfiable" }],
    ["bytes=5-2", 10, { kind: "full" }],
    ["bytes=0-1,3-4", 10, { kind: "full" }],
    ["items=0-1", 10, { kind: "full" }],
    ["bytes=a-b", 10, { kind: "full" }],
    ["bytes=-", 10, { kind: "full" }],
    [" BYTES = 1 - 2 ", 10, { kind: "partial", offset: 1, length: 2 }],
  ] as const)("%s of %d bytes", (header, size, expected) => {
    expect(parseRange(header, size)).toEqual(expected);
  });

  it("serves the whole body without a header", () => {
    expect(parseRange(null, 10)).toEqual({ kind: "full" });
  });

  it("formats Content-Range", () => {
    expect(contentRange(9, 1, 10)).toBe("bytes 9-9/10");
    expect(unsatisfiedRange(10)).toBe("bytes */10");
  });
});

describe("conditional headers", () => {
  const etag = '"abc"';
  const modified = new Date("2026-01-02T03:04:05.678Z");
  it("If-None-Match compares weakly and understands lists and *", () => {
    expect(noneMatchHits('"abc"', etag)).toBe(true);
    expect(noneMatchHits('W/"abc"', etag)).toBe(true);
    expect(noneMatchHits('"x", "abc"', etag)).toBe(true);
    expect(noneMatchHits("*", etag)).toBe(true);
    expect(noneMatchHits('"abcd"', etag)).toBe(false);
    expect(noneMatchHits(null, etag)).toBe(false);
  });
  it("If-Range needs a strong match or the exact Last-Modified second", () => {
    expect(ifRangeAllows(null, etag, modified)).toBe(true);
    expect(ifRangeAllows('"abc"', etag, modified)).toBe(true);
    expect(ifRangeAllows('W/"abc"', etag, modified)).toBe(false);
    expect(ifRangeAllows('"other"', etag, modified)).toBe(false);
    expect(ifRangeAllows(modified.toUTCString(), etag, modified)).toBe(true);
    expect(ifRangeAllows(new Date(modified.getTime() - 2000).toUTCString(), etag, modified)).toBe(false);
    expect(ifRangeAllows("not a date", etag, modified)).toBe(false);
  });
});

/** Reads `filename*` back the way a browser does (RFC 8187 decode). */
function decodeExtended(header: string): string {
  const m = /filename\*=UTF-8''([^;\s]*)/.exec(header);
  return decodeURIComponent(m![1]!);
}

describe("contentDisposition", () => {
  it.each([
    ["report.csv", "report.csv"],
    ['a"b.txt', 'a"b.txt'],
    ["a;b=c.txt", "a;b=c.txt"],
    ["100%.txt", "100%.txt"],
    ["résumé 2026.pdf", "résumé 2026.pdf"],
    ["数据.xlsx", "数据.xlsx"],
    ["line\r\nSet-Cookie: x=1.txt", "lineSet-Cookie: x=1.txt"],
    ["../../etc/passwd", ".._.._etc_passwd"],
  ])("round-trips %j", (raw, expected) => {
    const header = contentDisposition("attachment", raw);
    expect(header).not.toMatch(/[\r\n]/);
    expect(header.startsWith('attachment; filename="')).toBe(true);
    // Exactly two parameters survive, whatever the name contains.
    const quoted = /^attachment; filename="([^"\\]*)"; filename\*=UTF-8''([A-Za-z0-9!#$&+\-.^_`|~%]*)$/.exec(header);
    expect(quoted).not.toBeNull();
    expect(quoted![1]).not.toMatch(/[^\x20-\x7e]|%/);
    expect(decodeExtended(header)).toBe(expected);
    // Headers accept it as a value.
    expect(new Headers({ "content-disposition": header }).get("content-disposition")).toBe(header);
  });

  it("names nameless files", () => {
    expect(cleanFilename("\r\n")).toBe("download");
    expect(contentDisposition("inline", "..")).toBe(`inline; filename="download"; filename*=UTF-8''download`);
  });

  it("encodes exactly as RFC 8187 shows", () => {
    expect(contentDisposition("attachment", "€ rates")).toBe(
      `attachment; filename="_ rates"; filename*=UTF-8''%E2%82%AC%20rates`,
    );
  });
});

describe("content types", () => {
  it("maps names to types case-insensitively", () => {
    expect(contentTypeFor("a.CSV")).toBe("text/csv; charset=utf-8");
    expect(contentTypeFor("chart.png")).toBe("image/png");
    expect(contentTypeFor("x.tar.gz")).toBe("application/gzip");
    expect(contentTypeFor("Makefile")).toBe("application/octet-stream");
    expect(contentTypeFor("trailing.")).toBe("application/octet-stream");
  });
  it("offers inline previews only for raster images", () => {
    for (const name of ["a.png", "a.jpg", "a.webp", "a.gif"]) expect(isInlineSafe(contentTypeFor(name))).toBe(true);
    for (const name of ["a.svg", "a.html", "a.xml", "a.js", "a.pdf", "a.bin"])
      expect(isInlineSafe(contentTypeFor(name))).toBe(false);
  });
});
