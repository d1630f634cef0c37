import { describe, expect, it } from "vitest";
import type { Discovery } from "./discover";
import type { ManifestEntry } from "../tracker/types";
import { notHeldYet } from "./not-held";

const C = "cntr_1";
const found = (over: Partial<Discovery>): Discovery => ({
  containerIds: [C],
  citations: [],
  links: [],
  refs: [],
  images: [],
  ...over,
});
const held = (fileId: string | null, path: string, cited: ManifestEntry["cited"]): ManifestEntry => ({
  container_id: C,
  file_id: fileId,
  version: fileId ? 1 : null,
  path,
  filename: path.slice(path.lastIndexOf("/") + 1),
  state: fileId ? "stored" : "pending",
  bytes: null,
  content_type: null,
  sha256: null,
  cited,
  reason: null,
});

describe("notHeldYet (a stream's terminal files before the trackers' track ran)", () => {
  it("lists a cited file and a linked path the trackers do not hold as pending", () => {
    const out = notHeldYet(
      found({
        citations: [{ containerId: C, fileId: "cfile_a", filename: "a.csv", figure: false }],
        links: [{ path: "/mnt/data/b.txt", original: "sandbox:/mnt/data/b.txt" }],
      }),
      [],
    );
    expect(out.map((e) => [e.file_id, e.path, e.state, e.cited])).toEqual([
      ["cfile_a", "/mnt/data/a.csv", "pending", ["annotation"]],
      [null, "/mnt/data/b.txt", "pending", ["link"]],
    ]);
  });

  it("adds nothing for a file already held, only the kinds it is cited by", () => {
    const entries = [held("cfile_a", "/mnt/data/a.csv", ["listing"])];
    const out = notHeldYet(
      found({
        citations: [{ containerId: C, fileId: "cfile_a", filename: "a.csv", figure: false }],
        links: [{ path: "/mnt/data/a.csv", original: "sandbox:/mnt/data/a.csv" }],
      }),
      entries,
    );
    expect(out).toEqual([]);
    expect(entries[0]!.cited).toEqual(["listing", "annotation", "link"]);
  });

  it("a link to a path the cited file has folds into that file's entry", () => {
    const out = notHeldYet(
      found({
        citations: [{ containerId: C, fileId: "cfile_a", filename: "a.csv", figure: true }],
        links: [{ path: "/mnt/data/a.csv", original: "sandbox:/mnt/data/a.csv" }],
      }),
      [],
    );
    expect(out.map((e) => [e.file_id, e.cited])).toEqual([["cfile_a", ["figure", "link"]]]);
  });

  it("leaves a path two held versions share to the tracker", () => {
    const entries = [
      held("cfile_old", "/mnt/data/a.csv", ["listing"]),
      held("cfile_new", "/mnt/data/a.csv", ["listing"]),
    ];
    const out = notHeldYet(
      found({ links: [{ path: "/mnt/data/a.csv", original: "sandbox:/mnt/data/a.csv" }] }),
      entries,
    );
    expect(out).toEqual([]);
    expect(entries.map((e) => e.cited)).toEqual([["listing"], ["listing"]]);
  });
});
