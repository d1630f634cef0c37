import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../../src/config";
import { findSandboxRefs } from "../../../src/links/find";
import { LinkNaming } from "../../../src/links/naming";
import { rewritePart } from "../../../src/links/response";
import { originalsOf, reversePart, reverseText } from "../../../src/links/reverse";
import { rewriteText } from "../../../src/links/rewrite";
import { outputText } from "./helpers";

const config = loadConfig(env);
const naming = () =>
  new LinkNaming({
    origin: config.PUBLIC_FILES_ORIGIN,
    secrets: config.LINK_SECRETS,
    tenant: "default",
    responseId: "resp_rev",
  });

describe("reverse(rewrite(x)) == x", () => {
  it("restores spellings the decoded path cannot (short form, percent-encoding, NFD)", async () => {
    const text =
      "[a](sandbox:/a.csv) [b](sandbox:/mnt/data/a.csv) [c](sandbox:/mnt/data/caf%C3%A9.csv) [d](sandbox:/mnt/data/cafe\u0301.csv) sandbox://a.csv.";
    const n = naming();
    const r = await rewriteText(text, n.name);
    expect(new Set(r.links.map((l) => l.url)).size).toBe(5);
    expect(reverseText(r.text, originalsOf(n.issued)).text).toBe(text);
  });

  it("leaves unknown and foreign URLs alone", async () => {
    const n = naming();
    const r = await rewriteText("[a](sandbox:/mnt/data/a.csv)", n.name);
    const other = `${config.PUBLIC_FILES_ORIGIN}/files/UNKNOWN/a.csv and https://elsewhere.test/files/x/y`;
    expect(reverseText(`${r.text} ${other}`, originalsOf(n.issued)).text).toBe(`[a](sandbox:/mnt/data/a.csv) ${other}`);
  });

  it("holds for generated texts and their citations, in either index unit (property)", async () => {
    await fc.assert(
      fc.asyncProperty(outputText, fc.boolean(), async (text, codePoints) => {
        const refs = findSandboxRefs(text);
        const cp = (u16: number) => (codePoints ? Array.from(text.slice(0, u16)).length : u16);
        const annotations = [
          ...refs.map((r, k) => ({
            type: "container_file_citation",
            container_id: "cntr_1",
            file_id: `cfile_${k}`,
            filename: "x",
            start_index: cp(r.start),
            end_index: cp(r.end),
          })),
          {
            type: "container_file_citation",
            container_id: "cntr_1",
            file_id: "cfile_img",
            filename: "cfile_img.png",
            start_index: 0,
            end_index: 0,
          },
        ];
        const part = { type: "output_text", text, annotations, logprobs: [] };
        const n = naming();
        const { value } = await rewritePart(part, n.name);
        expect(reversePart(value, originalsOf(n.issued), codePoints ? "cp" : "utf16")).toEqual(part);
      }),
      { numRuns: 200 },
    );
  });
});
