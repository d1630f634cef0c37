import { describe, expect, it } from "vitest";
import { cardStatus, entryKey, isSettling } from "../../../widget/src/files";
import { formatBytes, isRasterImage, typeLabel } from "../../../widget/src/format";
import { decideImage, isFileUrl, safeLinkUrl } from "../../../widget/src/urls";

const FILES = "https://files.unsandbox.test";

describe("URL policy", () => {
  it("links only http(s) URLs without credentials", () => {
    expect(safeLinkUrl("https://example.com/a b")).toBe("https://example.com/a%20b");
    for (const bad of [
      "javascript:alert(1)",
      " JavaScript:alert(1)",
      "sandbox:/mnt/data/x.pdf",
      "data:text/html,hi",
      "//evil.test/x",
      "https://u:p@evil.test/",
      "/relative",
    ]) {
      expect(safeLinkUrl(bad), bad).toBeNull();
    }
  });

  it("loads images only from the files origin or raster data: URLs; others become links", () => {
    expect(decideImage(`${FILES}/files/tok/chart.png`, FILES)).toEqual({
      kind: "image",
      src: `${FILES}/files/tok/chart.png`,
    });
    expect(decideImage("data:image/png;base64,iVBORw0KGgo=", FILES)).toEqual({
      kind: "image",
      src: "data:image/png;base64,iVBORw0KGgo=",
    });
    expect(decideImage("https://attacker.test/p.png?secret=1", FILES)).toEqual({
      kind: "link",
      href: "https://attacker.test/p.png?secret=1",
    });
    expect(decideImage("https://files.unsandbox.test.attacker.test/x.png", FILES).kind).toBe("link");
    expect(decideImage("data:image/svg+xml;base64,PHN2Zz4=", FILES)).toEqual({ kind: "text" });
    expect(decideImage("javascript:alert(1)", FILES)).toEqual({ kind: "text" });
  });

  it("recognises unsandbox download URLs", () => {
    expect(isFileUrl(`${FILES}/files/tok/report.pdf`, FILES)).toBe(true);
    expect(isFileUrl(`${FILES}/other`, FILES)).toBe(false);
    expect(isFileUrl("https://evil.test/files/tok/x", FILES)).toBe(false);
  });
});

describe("file cards", () => {
  it("says Saving… while the copy runs and offers the link that already works", () => {
    expect(cardStatus({ state: "copying", url: `${FILES}/files/t/a.pdf` })).toEqual({
      tone: "busy",
      label: "Saving…",
      downloadable: true,
    });
    expect(isSettling("pending") && isSettling("copying")).toBe(true);
    expect(isSettling("stored") || isSettling("lost")).toBe(false);
  });

  it("offers no download for missing, lost, skipped, failed or unknown states", () => {
    for (const state of ["missing", "lost", "skipped", "failed", "deleted", "some-future-state"]) {
      const s = cardStatus({ state, url: `${FILES}/files/t/a.pdf` });
      expect(s.downloadable, state).toBe(false);
      expect(s.tone, state).toBe("problem");
    }
    expect(cardStatus({ state: "lost", url: null }).label).toMatch(/expired/);
    expect(cardStatus({ state: "stored", url: null }).downloadable).toBe(false);
  });

  it("keys a never-resolved path by its path", () => {
    expect(entryKey({ file_id: null, path: "/mnt/data/x" })).toBe("path:/mnt/data/x");
    expect(entryKey({ file_id: "cfile_1", path: "/mnt/data/x" })).toBe("cfile_1");
  });

  it("formats sizes and types", () => {
    expect([
      formatBytes(0),
      formatBytes(1023),
      formatBytes(1536),
      formatBytes(25 * 1024 * 1024),
      formatBytes(null),
    ]).toEqual(["0 B", "1023 B", "1.5 KB", "25 MB", ""]);
    expect(typeLabel("application/pdf", "Bericht über.pdf")).toBe("PDF");
    expect(typeLabel("text/csv", "noext")).toBe("CSV");
    expect(isRasterImage("image/png")).toBe(true);
    expect(isRasterImage("image/svg+xml")).toBe(false);
  });
});
