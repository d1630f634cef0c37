/**
 * Linked files first: a container with 130 files (a paged listing), the one the answer links not
 * annotated, so only a sweep finds it; every copy slowed down, and the container expiring soon
 * after the answer. The linked file is copied before the listing-only files and is stored before
 * the container expires, plain and streamed; the plain route's wait returns with it stored.
 */
import { describe, expect, it } from "vitest";
import { exports } from "cloudflare:workers";
import { direct, download, sim, unsandbox, UNSANDBOX_KEY } from "../support/clients";
import { query } from "../support/tracker";
import { truthOf, type AnswerFile, type Truth } from "../support/scenario";

type Answer = { id: string; unsandbox: { files: AnswerFile[] } };

const PARTS = 129;
/** 129 scratch files and the linked `summary.csv` (listed last, newest id), 4 KiB each. */
const INPUT = `Please process the parts.\nsim: scenario=many-temp; count=${PARTS}; size=4KiB; late_listing_ms=500; quirks=+missing_citations`;
/** About half a second per 4 KiB file: all 130 would take over half a minute with two copies at once. */
const BYTES_PER_SEC = 8192;

/** A container of our own whose every content fetch is slowed down. */
async function slowContainer(): Promise<string> {
  const c = await direct().containers.create({ name: "linked-first" });
  await sim("/faults", { body: { container_id: c.id, kind: "slow", bytes_per_sec: BYTES_PER_SEC } });
  return c.id;
}

const tools = (containerId: string) => [{ type: "code_interpreter" as const, container: containerId }];

async function manifest(id: string): Promise<AnswerFile[]> {
  const r = await exports.default.fetch(`https://unsandbox.test/v1/responses/${id}/files`, {
    headers: { authorization: `Bearer ${UNSANDBOX_KEY}` },
  });
  return ((await r.json()) as { data: AnswerFile[] }).data;
}

/** The linked file, and the files only the listing found (the scratch parts). */
function split(truth: Truth) {
  const linked = truth.written.find((w) => w.path === "/mnt/data/summary.csv")!;
  const parts = truth.written.filter((w) => w.path.startsWith("/mnt/data/tmp/part_"));
  expect(linked).toBeTruthy();
  expect(parts).toHaveLength(PARTS);
  return { linked, parts };
}

/** When each stored version became `stored` (the tracker's rows). */
async function storedAt(containerId: string): Promise<Map<string, number>> {
  const rows = await query<{ file_id: string; state_at: number }>(
    containerId,
    "SELECT file_id, state_at FROM files WHERE state = 'stored'",
  );
  return new Map(rows.map((r) => [r.file_id, r.state_at]));
}

/** The order in which the container's files were first fetched from upstream. */
async function fetchOrder(containerId: string): Promise<string[]> {
  const { data } = await sim<{ data: { path: string }[] }>(`/requests?path_contains=/containers/${containerId}/files/`);
  const order: string[] = [];
  for (const r of data) {
    const m = /\/files\/([^/]+)\/content$/.exec(r.path);
    if (m && !order.includes(m[1]!)) order.push(m[1]!);
  }
  return order;
}

/** The container expires: the linked file still downloads, and listing-only copies were cut short. */
async function expectLinkedOutlivesExpiry(id: string, containerId: string, linked: Truth["written"][number]) {
  await sim(`/containers/${containerId}/expire`, { body: { after_ms: 0 } });
  const files = await manifest(id);
  const entry = files.find((f) => f.file_id === linked.file_id)!;
  expect(entry.cited).toContain("link");
  expect(entry.cited).not.toContain("annotation");
  const got = await download(entry.url);
  expect(got.status).toBe(200);
  expect(got.sha256).toBe(linked.sha256);
  return files;
}

describe("linked files are copied first", () => {
  it("plain: the wait returns with the linked file stored, before the listing-only files", {
    timeout: 90_000,
  }, async () => {
    const containerId = await slowContainer();
    const res = (await unsandbox({ headers: { "x-unsandbox-wait-ms": "8000" } }).responses.create({
      model: "gpt-5",
      input: INPUT,
      tools: tools(containerId),
    })) as unknown as Answer;
    const truth = await truthOf(res.id);
    const { linked, parts } = split(truth);
    // The wait covered the linked path, though only a sweep found its file.
    const entry = res.unsandbox.files.find((f) => f.path === linked.path);
    expect(entry).toMatchObject({ file_id: linked.file_id, state: "stored", sha256: linked.sha256 });
    // It was the first copy started (two run at once), and stored before the other copy ended.
    expect((await fetchOrder(containerId)).indexOf(linked.file_id)).toBeLessThan(2);
    const at = await storedAt(containerId);
    expect(parts.filter((p) => (at.get(p.file_id) ?? Infinity) < at.get(linked.file_id)!).length).toBeLessThanOrEqual(
      1,
    );
    const files = await expectLinkedOutlivesExpiry(res.id, containerId, linked);
    // Most listing-only files were still copying when the container went.
    expect(parts.filter((p) => files.find((f) => f.file_id === p.file_id)?.state === "stored").length).toBeLessThan(
      PARTS / 2,
    );
  });

  it("streamed: the linked file is stored before the listing-only files and before the container expires", {
    timeout: 90_000,
  }, async () => {
    const containerId = await slowContainer();
    const stream = unsandbox().responses.stream({ model: "gpt-5", input: INPUT, tools: tools(containerId) });
    for await (const _ of stream) void _;
    const final = (await stream.finalResponse()) as unknown as Answer;
    const ended = Date.now();
    // The container expires a few seconds after the answer ended.
    await sim(`/containers/${containerId}/expire`, { body: { after_ms: 6_000 } });
    const truth = await truthOf(final.id);
    const { linked, parts } = split(truth);
    let state = "";
    while (Date.now() - ended < 6_000) {
      state = (await manifest(final.id)).find((f) => f.path === linked.path)?.state ?? "";
      if (state === "stored") break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(state).toBe("stored");
    // Once the answer has linked it, it is next: only the copies already running when the link was
    // seen (two at once; the stream's own watch may have queued scratch files before the link came)
    // end before it.
    const at = await storedAt(containerId);
    const before = parts.filter((p) => {
      const t = at.get(p.file_id);
      return t !== undefined && t >= ended && t < at.get(linked.file_id)!;
    });
    expect(before.length).toBeLessThanOrEqual(2);
    const files = await expectLinkedOutlivesExpiry(final.id, containerId, linked);
    expect(parts.filter((p) => files.find((f) => f.file_id === p.file_id)?.state === "stored").length).toBeLessThan(
      PARTS / 2,
    );
  });
});
