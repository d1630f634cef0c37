import { exports } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../../src/config";
import { signLink, type LinkClaims } from "../../../src/links/token";
import type { ContainerTracker } from "../../../src/tracker/container-tracker";
import { responseIndexFor } from "../../../src/tracker/stubs";
import type { FileRef } from "../../../src/tracker/types";
import { age, env, sha256Hex, sim, tracker, until } from "../support/tracker";

const T = "default";
const secrets = () => loadConfig(env).LINK_SECRETS;
// `exports` is untyped without generated worker types.
const worker = (exports as unknown as { default: Fetcher }).default;
const get = (url: string, headers: Record<string, string> = {}, method = "GET") =>
  worker.fetch(new Request(url, { method, headers }));

async function link(
  claims: Partial<LinkClaims> & { responseId: string; path: string },
  name?: string,
): Promise<string> {
  const token = await signLink({ tenant: T, ...claims }, secrets());
  return `https://files.unsandbox.test/files/${token}/${encodeURIComponent(name ?? claims.path.split("/").pop()!)}`;
}

/** What the proxy does for a finished response: register it, track its refs, wait for the copies. */
async function harvest(
  containerId: string,
  responseId: string,
  createdAt: number,
  refs: FileRef[],
  previousResponseId?: string,
) {
  await responseIndexFor(env, responseId).register({
    tenant: T,
    responseId,
    createdAt,
    containerIds: [containerId],
    previousResponseId,
  });
  // Paths without ids are resolved from the listing, so only those need a sweep.
  const sweep = refs.some((r) => !r.fileId);
  await tracker(containerId).track({ tenant: T, containerId, responseId, responseCreatedAt: createdAt, refs, sweep });
  return tracker(containerId).waitForStored(responseId, 30_000);
}

const SAFETY = {
  "x-content-type-options": "nosniff",
  "content-security-policy": "sandbox",
  "referrer-policy": "no-referrer",
  "x-robots-tag": "noindex",
};

describe("GET /files/<token>/<name>", async () => {
  const ct = await sim.container([
    { path: "/mnt/data/report.csv", size: 5000 },
    { path: "/mnt/data/chart.png", size: 3000 },
    { path: '/mnt/data/a"b;c%d é.txt', size: 10 },
  ]);
  const [csv, png, odd] = ct.files as [(typeof ct.files)[0], (typeof ct.files)[0], (typeof ct.files)[0]];
  const rid = "resp_dl";
  await harvest(
    ct.id,
    rid,
    csv.created_at,
    [csv, png, odd].map((f) => ({ fileId: f.id, cited: "annotation" as const })),
  );
  const csvTruth = await sim.truth(csv.id);
  const csvUrl = await link({ responseId: rid, path: csv.path, containerId: ct.id });

  it("serves the whole file with every safety header", async () => {
    const res = await get(csvUrl);
    expect(res.status).toBe(200);
    const etag = res.headers.get("etag")!;
    expect(etag).toMatch(/^"[0-9a-f]+"$/);
    expect(Object.fromEntries(res.headers)).toMatchObject({
      ...SAFETY,
      "content-type": "text/csv; charset=utf-8",
      "content-disposition": `attachment; filename="report.csv"; filename*=UTF-8''report.csv`,
      "content-length": "5000",
      "accept-ranges": "bytes",
      "cross-origin-resource-policy": "same-origin",
      "cache-control": "private, max-age=3600",
    });
    expect(await sha256Hex(await res.arrayBuffer())).toBe(csvTruth.sha256);
  });

  it("answers HEAD with the same headers and no body", async () => {
    const res = await get(csvUrl, {}, "HEAD");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-length")).toBe("5000");
    expect(res.headers.get("content-disposition")).toBe(
      `attachment; filename="report.csv"; filename*=UTF-8''report.csv`,
    );
    expect(await res.text()).toBe("");
  });

  it("serves ranges: first byte, last byte, open-ended, and 416 past the end", async () => {
    const full = new Uint8Array(await (await get(csvUrl)).arrayBuffer());
    const first = await get(csvUrl, { range: "bytes=0-0" });
    expect(first.status).toBe(206);
    expect(first.headers.get("content-range")).toBe("bytes 0-0/5000");
    expect(first.headers.get("content-length")).toBe("1");
    expect(new Uint8Array(await first.arrayBuffer())).toEqual(full.subarray(0, 1));

    const last = await get(csvUrl, { range: "bytes=-1" });
    expect(last.status).toBe(206);
    expect(last.headers.get("content-range")).toBe("bytes 4999-4999/5000");
    expect(new Uint8Array(await last.arrayBuffer())).toEqual(full.subarray(4999));

    const tail = await get(csvUrl, { range: "bytes=5-" });
    expect(tail.status).toBe(206);
    expect(tail.headers.get("content-range")).toBe("bytes 5-4999/5000");
    expect(tail.headers.get("content-length")).toBe("4995");
    expect(new Uint8Array(await tail.arrayBuffer())).toEqual(full.subarray(5));

    const past = await get(csvUrl, { range: "bytes=5000-" });
    expect(past.status).toBe(416);
    expect(past.headers.get("content-range")).toBe("bytes */5000");
    expect(past.headers.get("x-content-type-options")).toBe("nosniff");
    await past.arrayBuffer();
  });

  it("answers If-None-Match with 304 and honours If-Range only when it matches", async () => {
    const etag = (await get(csvUrl, {}, "HEAD")).headers.get("etag")!;
    const cached = await get(csvUrl, { "if-none-match": etag });
    expect(cached.status).toBe(304);
    expect(cached.headers.get("etag")).toBe(etag);
    expect(await cached.text()).toBe("");
    const stale = await get(csvUrl, { "if-none-match": '"something-else"' });
    expect(stale.status).toBe(200);
    await stale.arrayBuffer();

    const mismatched = await get(csvUrl, { range: "bytes=0-9", "if-range": '"not-the-etag"' });
    expect(mismatched.status).toBe(200);
    expect(mismatched.headers.get("content-length")).toBe("5000");
    await mismatched.arrayBuffer();
    const matched = await get(csvUrl, { range: "bytes=0-9", "if-range": etag });
    expect(matched.status).toBe(206);
    expect(matched.headers.get("content-range")).toBe("bytes 0-9/5000");
    await matched.arrayBuffer();
  });

  it("shows raster images inline, embeddable cross-origin", async () => {
    const res = await get(await link({ responseId: rid, path: png.path }));
    expect(res.status).toBe(200);
    expect(Object.fromEntries(res.headers)).toMatchObject({
      ...SAFETY,
      "content-type": "image/png",
      "content-disposition": `inline; filename="chart.png"; filename*=UTF-8''chart.png`,
      "cross-origin-resource-policy": "cross-origin",
    });
    await res.arrayBuffer();
  });

  it("keeps a hostile file name inside one safe Content-Disposition", async () => {
    const res = await get(await link({ responseId: rid, path: odd.path }, "x.txt"));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-disposition")).toBe(
      `attachment; filename="a_b;c_d _.txt"; filename*=UTF-8''a%22b%3Bc%25d%20%C3%A9.txt`,
    );
    await res.arrayBuffer();
  });

  it("refuses tampered and expired tokens with 403", async () => {
    const token = csvUrl.split("/")[4]!;
    const flipped = token.slice(0, -3) + (token.at(-3) === "A" ? "B" : "A") + token.slice(-2);
    const tampered = await get(csvUrl.replace(token, flipped));
    expect(tampered.status).toBe(403);
    expect(tampered.headers.get("content-type")).toBe("application/json");
    expect(((await tampered.json()) as { error: { code: string } }).error.code).toBe("link_invalid");

    const expired = await get(
      await link({ responseId: rid, path: csv.path, expiresAt: Math.floor(Date.now() / 1000) - 10 }),
    );
    expect(expired.status).toBe(403);
    expect(((await expired.json()) as { error: { code: string } }).error.code).toBe("link_expired");
  });

  it("says file_not_produced (404) for a path the model never wrote: JSON for APIs, a page for browsers", async () => {
    // A response links a path its container never lists; once its sweep window closes, the path is missing.
    const empty = await sim.container([]);
    await responseIndexFor(env, "resp_phantom").register({
      tenant: T,
      responseId: "resp_phantom",
      createdAt: empty.created_at,
      containerIds: [empty.id],
    });
    const refs = [{ path: "/mnt/data/phantom.xlsx", cited: "link" as const }];
    await tracker(empty.id).track({
      tenant: T,
      containerId: empty.id,
      responseId: "resp_phantom",
      responseCreatedAt: empty.created_at,
      refs,
    });
    await age(empty.id, 10 * 60_000);
    await runInDurableObject(tracker(empty.id), (inst: ContainerTracker) => inst.alarm());
    expect(await tracker(empty.id).manifest("resp_phantom")).toMatchObject([
      { path: "/mnt/data/phantom.xlsx", state: "missing" },
    ]);
    const url = await link({ responseId: "resp_phantom", path: "/mnt/data/phantom.xlsx" });
    const api = await get(url);
    expect(api.status).toBe(404);
    expect(api.headers.get("cache-control")).toBe("no-store");
    expect(await api.json()).toEqual({
      error: {
        message: expect.stringContaining("phantom.xlsx"),
        type: "not_found_error",
        param: null,
        code: "file_not_produced",
      },
    });
    const page = await get(url, { accept: "text/html,application/xhtml+xml" });
    expect(page.status).toBe(404);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(page.headers.get("content-security-policy")).toBe("sandbox");
    expect(await page.text()).toContain("never produced");
  });

  it("serves a copied file after its container expired, fetched from upstream once", async () => {
    await sim.expire(ct.id);
    const res = await get(csvUrl);
    expect(res.status).toBe(200);
    expect(await sha256Hex(await res.arrayBuffer())).toBe(csvTruth.sha256);
    expect(await env.FILES.head(`t/default/c/${ct.id}/f/${csv.id}/v1`)).not.toBeNull();
    const fetches = (await sim.counters()).content_fetches;
    for (const f of [csv, png, odd]) expect(fetches[f.id]).toBe(1);
  });
});

describe("download states and versions", () => {
  it("two turns writing the same path each serve their own bytes; a no-tool turn resolves through the chain", async () => {
    const ct = await sim.container([{ path: "/mnt/data/out.csv", size: 2000, seed: 1 }]);
    const v1 = ct.files[0]!;
    await harvest(ct.id, "resp_turn1", v1.created_at, [{ path: "/mnt/data/out.csv", cited: "link" }]);
    const v2 = await sim.addFile(ct.id, { path: "/mnt/data/out.csv", size: 2000, seed: 2 });
    await harvest(ct.id, "resp_turn2", v2.created_at, [{ path: "/mnt/data/out.csv", cited: "link" }], "resp_turn1");
    // Turn 3 called no tool: it has no container and links the file again.
    await responseIndexFor(env, "resp_turn3").register({
      tenant: T,
      responseId: "resp_turn3",
      createdAt: v2.created_at,
      previousResponseId: "resp_turn2",
    });

    const bodies = await Promise.all(
      ["resp_turn1", "resp_turn2", "resp_turn3"].map(async (r) => {
        const res = await get(await link({ responseId: r, path: "/mnt/data/out.csv" }));
        expect(res.status).toBe(200);
        return sha256Hex(await res.arrayBuffer());
      }),
    );
    const [t1, t2] = await Promise.all([sim.truth(v1.id), sim.truth(v2.id)]);
    expect(t1.sha256).not.toBe(t2.sha256);
    expect(bodies).toEqual([t1.sha256, t2.sha256, t2.sha256]);
  });

  it("answers 503 with Retry-After while a copy is stuck, then serves it", { timeout: 60_000 }, async () => {
    const ct = await sim.container([{ path: "/mnt/data/slow.csv", size: 4000 }]);
    const f = ct.files[0]!;
    const pause = await sim.fault({ file_id: f.id, kind: "pause", at_byte: 100 });
    await responseIndexFor(env, "resp_slow").register({
      tenant: T,
      responseId: "resp_slow",
      createdAt: f.created_at,
      containerIds: [ct.id],
    });
    await tracker(ct.id).track({
      tenant: T,
      containerId: ct.id,
      responseId: "resp_slow",
      responseCreatedAt: f.created_at,
      refs: [{ fileId: f.id, cited: "annotation" }],
      sweep: false,
    });
    await until(async () => (await sim.faultState(pause.id)).paused);
    const url = await link({ responseId: "resp_slow", path: f.path });
    const res = await get(url);
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("5");
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("file_not_ready");
    await sim.release(pause.id);
    await tracker(ct.id).waitForStored("resp_slow", 30_000);
    const ok = await get(url);
    expect(ok.status).toBe(200);
    expect(await sha256Hex(await ok.arrayBuffer())).toBe((await sim.truth(f.id)).sha256);
  });

  it("answers 410 for a file lost with its container, saying what happened and when", async () => {
    const ct = await sim.container([{ path: "/mnt/data/lost.csv", size: 4000 }]);
    const f = ct.files[0]!;
    await sim.fault({ file_id: f.id, kind: "status", status: 500, retry_after: 3600, times: 1 });
    await responseIndexFor(env, "resp_gone").register({
      tenant: T,
      responseId: "resp_gone",
      createdAt: f.created_at,
      containerIds: [ct.id],
    });
    const t = tracker(ct.id);
    await t.track({
      tenant: T,
      containerId: ct.id,
      responseId: "resp_gone",
      responseCreatedAt: f.created_at,
      refs: [{ fileId: f.id, cited: "annotation" }],
      sweep: false,
    });
    await until(
      async () =>
        (
          await runInDurableObject(t, (_i: ContainerTracker, s) =>
            s.storage.sql.exec<{ attempts: number }>("SELECT attempts FROM jobs").toArray(),
          )
        )[0]?.attempts === 1,
    );
    await sim.expire(ct.id);
    await age(ct.id, 2 * 3600_000);
    await runInDurableObject(t, (inst: ContainerTracker) => inst.alarm());
    const res = await get(await link({ responseId: "resp_gone", path: f.path }));
    expect(res.status).toBe(410);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("file_lost");
    expect(body.error.message).toMatch(/expired/);
    expect(body.error.message).toMatch(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/);
  });

  it("treats another tenant's token as naming nothing", async () => {
    const res = await get(await link({ tenant: "someone-else", responseId: "resp_turn1", path: "/mnt/data/out.csv" }));
    expect(res.status).toBe(404);
    await res.arrayBuffer();
  });
});

describe("links that stream out before the response is registered", () => {
  it("are 503 with Retry-After until the proxy registers the response, then serve", { timeout: 60_000 }, async () => {
    const ct = await sim.container([{ path: "/mnt/data/early.txt", size: 700 }]);
    const f = ct.files[0]!;
    const url = await link({ responseId: "resp_early", path: f.path });
    const early = await get(url);
    expect(early.status).toBe(503);
    expect(early.headers.get("retry-after")).toBe("5");
    await early.arrayBuffer();
    await harvest(ct.id, "resp_early", f.created_at, [{ fileId: f.id, cited: "annotation" }]);
    const res = await get(url);
    expect(res.status).toBe(200);
    expect(await sha256Hex(await res.arrayBuffer())).toBe((await sim.truth(f.id)).sha256);
  });
});
