/**
 * A download of a link whose file is not resolved or stored yet waits with one call that answers
 * when the index (or the file's tracker) knows, not by asking again and again (issue 19,
 * src/harvest/resolve-link.ts): the index's and the trackers' calls are counted in their methods
 * (test/workers/support/calls.ts) while the response registers late, its sweep waits for the file
 * to be listed, and the copy runs slowly (the simulator's `slow` fault); two delays, so a count
 * that grew with the wait would show.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import app from "../../../src/index";
import { loadConfig } from "../../../src/config";
import { signLink } from "../../../src/links/token";
import { ContainerTracker } from "../../../src/tracker/container-tracker";
import { ResponseIndex } from "../../../src/tracker/response-index";
import { countCalls } from "../support/calls";
import { env, harvestByHand, sha256Hex, sim } from "../support/tracker";
import { ENV } from "../support/worker";

const INDEX_METHODS = ["resolve"];
const TRACKER_METHODS = ["resolvePath", "waitForPath", "waitForFile"].filter(
  (m) => typeof (ContainerTracker.prototype as unknown as Record<string, unknown>)[m] === "function",
);

async function fetchOnce(url: string): Promise<{ res: Response; body: ArrayBuffer }> {
  const ctx = createExecutionContext();
  const res = await app.fetch(new Request(url), ENV, ctx);
  const body = await res.arrayBuffer();
  await waitOnExecutionContext(ctx);
  return { res, body };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Downloads a link of a response registered `registerAfterMs` after the download starts, whose
 * file the sim lists only `visibleAfterMs` after the container was made and then serves slowly;
 * returns the calls the download cost the index and the tracker.
 */
async function lateDownload(registerAfterMs: number, visibleAfterMs: number, bytesPerSec: number) {
  const size = 6_000;
  const ct = await sim.container([{ path: "/mnt/data/late.bin", size, visible_after_ms: visibleAfterMs }]);
  const f = ct.files[0]!;
  await sim.fault({ file_id: f.id, kind: "slow", bytes_per_sec: bytesPerSec });
  const responseId = `resp_late_${crypto.randomUUID().replaceAll("-", "")}`;
  const token = await signLink({ tenant: "default", responseId, path: f.path }, loadConfig(env).LINK_SECRETS);
  const url = `https://files.unsandbox.test/files/${token}/late.bin`;
  const index = countCalls(ResponseIndex, INDEX_METHODS);
  const trackers = countCalls(ContainerTracker, TRACKER_METHODS);
  try {
    const started = Date.now();
    const download = fetchOnce(url);
    await sleep(registerAfterMs);
    await harvestByHand.register(responseId, ct.id, f.created_at);
    // The link names a path: the tracker resolves it when its sweep lists the file.
    await harvestByHand.track(responseId, ct.id, f.created_at, [{ path: f.path, cited: "link" }]);
    const { res, body } = await download;
    const elapsed = Date.now() - started;
    expect(res.status).toBe(200);
    expect(await sha256Hex(body)).toBe((await sim.truth(f.id)).sha256);
    const calls = { index: { ...index.calls }, tracker: { ...trackers.calls } };
    console.log(
      `DOWNLOAD-WAIT register ${registerAfterMs} ms, listed ${visibleAfterMs} ms: ${elapsed} ms, ${JSON.stringify(calls)}`,
    );
    return { index: index.total(), tracker: trackers.total(), elapsed };
  } finally {
    index.restore();
    trackers.restore();
  }
}

describe("a download waits for the index and the tracker, not by polling", () => {
  it("a few calls however long registration, listing and copy take", { timeout: 60_000 }, async () => {
    const short = await lateDownload(300, 0, 6_000);
    const long = await lateDownload(2_500, 3_500, 2_000);
    // The long one took seconds longer, and made no more calls: one index call that waits for
    // the registration and then for the tracker's sweep (its waitForPath), then the tracker's
    // waitForFile for the copy. Polling (100 ms doubling to 2 s) made 3 index and 2 tracker calls
    // for the short one and 7 and 3 for the long one, each index call asking the tracker again.
    expect(long.elapsed - short.elapsed).toBeGreaterThan(2_000);
    for (const m of [short, long]) {
      expect(m.index).toBe(1);
      expect(m.tracker).toBe(2);
    }
  });
});
