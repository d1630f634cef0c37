/**
 * `npm run probe:real` against the simulator process, once per switch setting: the probe must
 * report exactly the behaviour the simulator was configured with (Range honoured or ignored,
 * code-point or UTF-16 indices, late or immediate listing, a rewritten file's new or kept id), and write docs/assumptions.md's
 * answers accordingly. The script runs as a user runs it: a child process with OPENAI_API_KEY and
 * OPENAI_BASE_URL.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readsAs } from "../../../scripts/lib/probe.mjs";
import { REPO_ROOT } from "../../../scripts/lib/wrangler-dev.mjs";
import { classifyFailure } from "../../../src/upstream/containers";
import { startSim, type SimProcess } from "../support/sim-process";

const SETTINGS = [
  { honour_range: false, codepoint_indices: true, late_listing: true, same_id_rewrite: false },
  { honour_range: true, codepoint_indices: false, late_listing: false, same_id_rewrite: true },
  { honour_range: true, codepoint_indices: true, late_listing: false, same_id_rewrite: false },
  { honour_range: false, codepoint_indices: false, late_listing: true, same_id_rewrite: true },
];

let sim: SimProcess;
let dir: string;

beforeAll(async () => {
  sim = await startSim();
  dir = mkdtempSync(join(tmpdir(), "unsandbox-probe-"));
});

afterAll(async () => {
  await sim?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function probe(out: string) {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [join(REPO_ROOT, "scripts/probe-real.mjs"), "--json", "--out", out],
    {
      env: { ...process.env, OPENAI_API_KEY: sim.apiKey, OPENAI_BASE_URL: sim.baseURL },
      cwd: REPO_ROOT,
    },
  );
  return JSON.parse(stdout);
}

describe("probe:real against the simulator", () => {
  it.each(SETTINGS)(
    "honour_range=$honour_range codepoint_indices=$codepoint_indices late_listing=$late_listing same_id_rewrite=$same_id_rewrite",
    async (quirks) => {
      const set = await fetch(`${sim.origin}/__sim/config`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        // A listing delay well beyond the time the simulator takes to answer, so "late" is unambiguous.
        body: JSON.stringify({ quirks, late_listing_ms: 4000 }),
      });
      expect(set.status).toBe(200);
      const out = join(dir, `assumptions-${SETTINGS.indexOf(quirks)}.md`);
      const report = await probe(out);

      expect(report.upstream).toBe(sim.origin);
      expect(report.range.honoured).toBe(quirks.honour_range);
      expect(report.range.status).toBe(quirks.honour_range ? 206 : 200);
      expect(report.indexUnit.unit).toBe(quirks.codepoint_indices ? "codepoints" : "utf16");
      expect(report.listing.listedAtOnce).toBe(!quirks.late_listing);
      if (quirks.late_listing) expect(report.listing.delayMs).toBeGreaterThan(0);
      // A rewrite is a new id and the old one is deleted, or (same_id_rewrite) the same id with
      // new content. Not switchable in the simulator: every container-scoped call refreshes last_active_at.
      expect(report.overwrite).toMatchObject(
        quirks.same_id_rewrite ? { sameId: true, oldContentGone: false } : { sameId: false, oldContentGone: true },
      );
      if (quirks.same_id_rewrite) expect(report.overwrite.detail).toContain("has changed");
      expect(report.lastActive).toMatchObject({ retrieveRefreshes: true, listRefreshes: null });
      expect(report.errors.unknownFile).toMatchObject({ status: 404, reads: "file_gone" });
      expect(report.errors.deletedContainer).toMatchObject({ status: 404, reads: "expired" });

      const md = readFileSync(out, "utf8");
      expect(md).toContain(`**Last probe:** ${report.date} against \`${sim.origin}\``);
      expect(md).toContain(quirks.honour_range ? "**Honoured**" : "**Ignored**");
      expect(md).toContain(quirks.codepoint_indices ? "**Code points**" : "**UTF-16 code units**");
      expect(md).toContain(quirks.late_listing ? "**Late**" : "**Listed at once**");
      expect(md).toContain(quirks.same_id_rewrite ? "**Same id**" : "**New id**");
    },
  );

  it("the probe reads a refusal as the Worker's classifyFailure does", () => {
    const cases: [number, string | null][] = [
      [404, "Container is expired."],
      [400, "Container is expired."],
      [404, "Container with id 'cntr_x' not found."],
      [404, "File cfile_x not found on container cntr_x."],
      [404, "Invalid URL (GET /v1/containers/cntr_x/files)"],
      [404, null],
    ];
    for (const [status, message] of cases) {
      const worker = classifyFailure(status, message);
      expect(readsAs(status, message), `${status} ${message}`).toBe(
        worker === "retry" || worker === "refused" ? "other" : worker,
      );
    }
  });

  it("without OPENAI_API_KEY it refuses and says what it needs", async () => {
    const env = { ...process.env };
    delete env.OPENAI_API_KEY;
    const run = promisify(execFile)(
      process.execPath,
      [join(REPO_ROOT, "scripts/probe-real.mjs"), "--out", join(dir, "x.md")],
      { env, cwd: REPO_ROOT },
    );
    await expect(run).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining("OPENAI_API_KEY") });
  });
});
