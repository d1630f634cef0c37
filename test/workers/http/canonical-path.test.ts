/**
 * The canonical spelling of `/v1` and `/files` paths (src/http/canonical-path.ts): every spelling
 * that decodes to a guarded route but is not written canonically is refused, and every download
 * URL the service itself issues (links/token.ts `fileUrl`) is canonical.
 */
import { describe, expect, it } from "vitest";
import { canonicalVerdict, scopeOf } from "../../../src/http/canonical-path";
import { fileUrl } from "../../../src/links/token";

const ok = (p: string) => canonicalVerdict(p).ok;
const TOKEN = "AbC_d-0123456789";

describe("canonicalVerdict", () => {
  it("accepts canonical /v1 paths and leaves other surfaces alone", () => {
    for (const p of [
      "/v1",
      "/v1/responses",
      "/v1/responses/resp_abc-1",
      "/v1/models/ft:gpt-4o:org:custom:id",
      "/v1/containers/cntr_1/files/cfile_2/content",
      "/",
      "/healthz",
      "/widget.js",
      "/admin/tenants/t1",
      "/docs",
    ]) {
      expect({ p, ok: ok(p) }).toEqual({ p, ok: true });
    }
  });

  it("refuses every other spelling of a /v1 path", () => {
    const bad = [
      "/v1/%72esponses",
      "/%76%31/responses",
      "/v1/respons%65s",
      "/v1/%72Esponses",
      "/%2576%2531/responses",
      "/v1%2Fresponses",
      "/v1/responses%2f",
      "/v1//responses",
      "//v1/responses",
      "/v1/responses/",
      "/v1/./responses",
      "/v1/x/../responses",
      "/V1/responses",
      "/v1/responses/resp%5F1",
      "/v1/a%20b",
      "/v1/a b",
      "/v1\\responses",
    ];
    for (const p of bad) expect({ p, ok: ok(p) }).toEqual({ p, ok: false });
  });

  it("refuses every other spelling of a download path", () => {
    const bad = [
      `/%66iles/${TOKEN}/a.csv`,
      `/files/${TOKEN.replace("A", "%41")}/a.csv`,
      `/files/${TOKEN}/%61.csv`,
      `/files/${TOKEN}/a%2fb.csv`,
      `/files/${TOKEN}/a%2Fb.csv`,
      `/files//${TOKEN}/a.csv`,
      `/files/${TOKEN}/a.csv/`,
      `/files/${TOKEN}/a%20b%2ecsv`,
      `/files/${TOKEN}/a%c3%a9.csv`,
      `/files/${TOKEN}/a!.csv`,
      `/files/${TOKEN}/%E0%A4%A`,
      `/files/${TOKEN}/%FF.csv`,
    ];
    for (const p of bad) expect({ p, ok: ok(p) }).toEqual({ p, ok: false });
  });

  it("accepts every download URL the service issues", () => {
    const names = [
      "a.csv",
      "report 2026.xlsx",
      "données été.csv",
      "图表.png",
      "🙂 smile.txt",
      "it's (final)!*.md",
      "100%.txt",
      "a+b=c&d;e,f@g$h.txt",
      "~tilde_.-",
      ".",
      "..",
      "",
      "x\\y",
      "lone \ud800 surrogate.txt",
      "\u0000ctl\u001f.bin",
      ".hidden",
      "...",
    ];
    for (const name of names) {
      const url = new URL(fileUrl("https://files.unsandbox.test", TOKEN, name));
      expect({ name, path: url.pathname, ok: ok(url.pathname) }).toMatchObject({ name, ok: true });
    }
  });

  it("scopes by what the path decodes to, in linear time", () => {
    expect(scopeOf("/%76%31/x")).toBe("v1");
    expect(scopeOf("/a/../files/x")).toBe("files");
    expect(scopeOf("/widget/session")).toBe(null);
    const long = "/v1/" + "%2525".repeat(200_000);
    const t0 = performance.now();
    expect(ok(long)).toBe(false);
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});
