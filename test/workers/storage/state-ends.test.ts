/**
 * State that ends (issue 19; docs/storage.md "What outlives the objects"): the Durable Object
 * SQLite a 3-file create leaves, measured in every object the create touched (all classes, by
 * `ctx.storage.sql.databaseSize`), while its container is live, once it is over, and after
 * retention plus the links' lifetime; downloads, the manifest, a later no-tool turn and deletion
 * still work once the objects emptied themselves.
 */
import { env as workersEnv, exports } from "cloudflare:workers";
import { createExecutionContext, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { counted, installCounters } from "../budgets/counting";
import { download, unsandbox, UNSANDBOX_KEY } from "../support/clients";
import { TOOLS, textsOf, truthOf, type AnswerFile, type Truth } from "../support/scenario";
import { age, env, sha256Hex, sim, tablesOf, tracker } from "../support/tracker";
import app from "../../../src/index";
import { noteNamed } from "../../../src/harvest/pin-hint";
import type { ContainerTracker } from "../../../src/tracker/container-tracker";
import { responseIndexFor } from "../../../src/tracker/stubs";
import { forgetDownload } from "../../../src/harvest/download-cache";
import { loadConfig } from "../../../src/config";
import { signLink, verifyLink } from "../../../src/links/token";

const MIN = 60_000;
const DAY = 24 * 60 * MIN;
const KIB = 1024;

type Answer = { id: string; output: unknown[]; unsandbox: { files: AnswerFile[] } };

const BINDINGS = [
  "CONTAINER_TRACKER",
  "RESPONSE_INDEX",
  "OWNERSHIP_LEDGER",
  "USAGE_METER",
  "RATE_COUNTER",
  "TENANT_DIRECTORY",
] as const;
type Binding = (typeof BINDINGS)[number];
/** Objects shared by a tenant or the deployment: touched by every create, not made by one. */
const SHARED: readonly Binding[] = ["USAGE_METER", "TENANT_DIRECTORY"];

/** Every object (binding, name) reached through `getByName` while `recording`. */
const touched = new Map<Binding, Set<string>>();
let recording = false;

function recordObjects(): void {
  const bindings = workersEnv as unknown as Record<Binding, object>;
  const proto = Object.getPrototypeOf(bindings.CONTAINER_TRACKER) as {
    getByName: (this: unknown, name: string, ...rest: unknown[]) => object;
  };
  const original = proto.getByName;
  proto.getByName = function (this: unknown, name: string, ...rest: unknown[]) {
    const binding = BINDINGS.find((b) => bindings[b] === this);
    if (recording && binding) touched.set(binding, (touched.get(binding) ?? new Set()).add(name));
    return original.call(this, name, ...rest);
  };
}

const ns = (b: Binding) => (workersEnv as unknown as Record<Binding, DurableObjectNamespace>)[b];

async function sizeOf(b: Binding, name: string): Promise<number> {
  return runInDurableObject(ns(b).getByName(name), (_i: unknown, state) => state.storage.sql.databaseSize);
}

/** Bytes per class over the objects the create touched (per-create classes and shared ones apart). */
async function measure(): Promise<{ perCreate: number; shared: number; byClass: Record<string, number> }> {
  const byClass: Record<string, number> = {};
  let perCreate = 0;
  let shared = 0;
  for (const [b, names] of touched) {
    for (const name of names) {
      const size = await sizeOf(b, name);
      byClass[b] = (byClass[b] ?? 0) + size;
      if (SHARED.includes(b)) shared += size;
      else perCreate += size;
    }
  }
  return { perCreate, shared, byClass };
}

/** Runs the tracker's alarm now (as the platform would at its time). */
const alarm = (cid: string) => runInDurableObject(tracker(cid), (inst: ContainerTracker) => inst.alarm());

/** Lets `ms` pass for an emptied tracker: its owed deletions come due (they are its only rows). */
const ageEnded = (cid: string, ms: number) =>
  runInDurableObject(tracker(cid), (_i: ContainerTracker, state) => {
    state.storage.sql.exec("UPDATE ended SET at = at - ?", ms);
  });

const files = async (id: string) => {
  const r = await exports.default.fetch(`https://unsandbox.test/v1/responses/${id}/files`, {
    headers: { authorization: `Bearer ${UNSANDBOX_KEY}` },
  });
  return { status: r.status, data: ((await r.json()) as { data?: AnswerFile[] }).data ?? [] };
};

const urlsIn = (answer: Answer) =>
  textsOf(answer).flatMap((p) =>
    [...p.text!.matchAll(/https:\/\/files\.unsandbox\.test\/files\/[A-Za-z0-9_-]+\/[A-Za-z0-9._~%-]*/g)].map(
      (m) => m[0],
    ),
  );

/**
 * Drives the tracker to the end of its container: the sweep window, then the final sweep before
 * the computed expiry (20 minutes after the last client activity), on its aged clock.
 */
async function endContainer(cid: string): Promise<void> {
  await age(cid, 18 * MIN);
  for (let i = 0; i < 10 && (await tablesOf(cid)).includes("_schema"); i++) {
    await alarm(cid);
    if ((await tablesOf(cid)).includes("_schema")) await age(cid, 5_000);
  }
}

describe("state that ends: a 3-file create", () => {
  beforeAll(() => recordObjects());

  let answer: Answer;
  let truth: Truth;
  let cid: string;

  it("≤ 64 KiB while the container is live? measured; ≤ 16 KiB once it is over; nothing after retention plus link lifetime", async () => {
    recording = true;
    answer = (await unsandbox().responses.create({
      model: "gpt-5",
      input: "Three files.\nsim: scenario=several-files",
      tools: TOOLS,
    })) as unknown as Answer;
    truth = await truthOf(answer.id);
    cid = truth.container_id!;
    expect(truth.written).toHaveLength(3);
    expect(answer.unsandbox.files.filter((f) => f.state === "stored")).toHaveLength(3);
    const urls = answer.unsandbox.files.map((f) => f.url);
    for (const [i, url] of urls.entries()) expect((await download(url)).sha256).toBe(answer.unsandbox.files[i]!.sha256);
    recording = false;

    // The objects the create made: one tracker, one index (a secret key's answers record no owner).
    const made = Object.fromEntries([...touched].map(([b, names]) => [b, names.size]));
    console.log(`STATE objects touched ${JSON.stringify(made)}`);
    expect(touched.get("CONTAINER_TRACKER")).toEqual(new Set([cid]));
    expect(touched.get("RESPONSE_INDEX")).toEqual(new Set([answer.id]));
    for (const b of ["OWNERSHIP_LEDGER", "RATE_COUNTER", "TENANT_DIRECTORY"] as const)
      expect(touched.get(b), b).toBeUndefined();

    const live = await measure();
    const index = await sizeOf("RESPONSE_INDEX", answer.id);
    const trackerLive = live.byClass.CONTAINER_TRACKER!;
    console.log(`STATE live ${JSON.stringify(live)} tracker ${trackerLive / KIB} KiB, index ${index / KIB} KiB`);
    // The index: `sqlite_master`, `_schema` (holding the response and its containers), `links`
    // and `resolutions`, a page each (docs/storage.md, "ResponseIndex").
    expect(index).toBeLessThanOrEqual(16 * KIB);
    // The tracker: a page each for sqlite_master, the alarm (workerd's `_cf_METADATA`), `_schema`
    // (with the container's row), `files` (with the copy jobs), `citations`, `claims`, `responses`
    // and the usage outbox (its rows not yet sent): 32 KiB (docs/storage.md, "Pages: what a live
    // tracker stores").
    expect(trackerLive).toBeLessThanOrEqual(32 * KIB);
    // Issue 19: every object the create touched, ≤ 64 KiB while the container is live.
    expect(live.perCreate).toBeLessThanOrEqual(64 * KIB);

    // The container is over: its tracker and the response's index move what outlives them to R2.
    await endContainer(cid);
    expect(await tablesOf(cid)).toEqual(["ended"]);
    const over = await measure();
    console.log(`STATE over ${JSON.stringify(over)}`);
    expect(over.perCreate).toBeLessThanOrEqual(16 * KIB);
    // The index holds nothing at all: the size of an object never written to (one empty page).
    const pristine = await sizeOf("RESPONSE_INDEX", "resp_never_written");
    expect(await sizeOf("RESPONSE_INDEX", answer.id)).toBe(pristine);

    // Downloads resolve from the pins (one R2 read, no Durable Object), and the manifest from R2.
    // The live downloads above left their resolutions held in this location
    // (harvest/download-cache.ts); dropped here so this download resolves from the pin.
    const verdict = await verifyLink(
      new URL(urls[0]!).pathname.split("/")[2]!,
      loadConfig(env).LINK_SECRETS,
      Date.now(),
    );
    if (!verdict.ok) throw new Error("the answer's link does not verify");
    await forgetDownload(verdict.claims);
    installCounters();
    // A response this isolate harvested moments ago has its links resolved from the live objects
    // first (src/harvest/pin-hint.ts). Where that guess is wrong (a container over sooner), the
    // link still resolves: the emptied index reads its record and the pin in R2 itself; one index
    // call, no tracker call. Dropped again with the resolution it held.
    noteNamed(verdict.claims.tenant, verdict.claims.responseId);
    const young = await counted(async () => {
      const ctx = createExecutionContext();
      const res = await app.fetch(new Request(urls[0]!), env, ctx);
      const body = await res.arrayBuffer();
      await waitOnExecutionContext(ctx);
      return { status: res.status, sha256: await sha256Hex(body) };
    });
    expect(young.result).toEqual({ status: 200, sha256: answer.unsandbox.files[0]!.sha256 });
    expect(young.tally.methods["ResponseIndex.resolve"]).toBe(1);
    expect(young.tally.objects.ContainerTracker ?? 0).toBe(0);
    await forgetDownload(verdict.claims);
    const { tally } = await counted(() => download(urls[0]!));
    expect(
      Object.keys(tally.objects).filter((cls) => cls !== "UsageMeter"),
      "objects a download calls",
    ).toEqual([]);
    // The pin, then the object's head (its metadata, held with the resolution) and the get; the
    // takedown tombstones are the tenant's listing, held since the live downloads or listed once.
    expect(tally.r2.get).toBe(2);
    expect(tally.r2.head ?? 0).toBeLessThanOrEqual(1);
    expect(tally.r2.list ?? 0).toBeLessThanOrEqual(1);
    for (const [i, url] of urls.entries()) {
      const got = await download(url);
      expect(got.status).toBe(200);
      expect(got.sha256).toBe(answer.unsandbox.files[i]!.sha256);
    }
    const m = await files(answer.id);
    expect(m.status).toBe(200);
    expect(m.data.map((f) => [f.path, f.state]).sort()).toEqual(truth.written.map((w) => [w.path, "stored"]).sort());
    // Reading did not bring the tables back.
    expect(await tablesOf(cid)).toEqual(["ended"]);
    expect(await sizeOf("RESPONSE_INDEX", answer.id)).toBe(pristine);

    // Retention (30 days) and every link's lifetime (these never expire) pass: the bytes go, the
    // tracker keeps nothing, and the links answer 410 from their pins. (Only the tracker's rows
    // were aged: on the wall clock the pins' `retain_until` is still ahead, so the answer is "no
    // longer exists" here; past it a pin reads "deleted by retention", src/tracker/policy.test.ts.)
    await ageEnded(cid, 30 * DAY + MIN);
    await alarm(cid);
    for (const w of truth.written) expect(await env.FILES.head(`t/default/c/${cid}/f/${w.file_id}/v1`)).toBeNull();
    const after = await measure();
    console.log(`STATE after-retention ${JSON.stringify(after)}`);
    expect(await sizeOf("CONTAINER_TRACKER", cid)).toBe(await sizeOf("CONTAINER_TRACKER", "cntr_never_written"));
    expect(await sizeOf("RESPONSE_INDEX", answer.id)).toBe(pristine);
    expect(await runInDurableObject(tracker(cid), (_i: ContainerTracker, s) => s.storage.getAlarm())).toBeNull();
    const res = await exports.default.fetch(urls[0]!);
    expect(res.status).toBe(410);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("file_deleted");
  });
});

describe("after the objects emptied themselves", () => {
  it("a later no-tool turn links an earlier file through previous_response_id and it downloads", async () => {
    const client = unsandbox();
    const t1 = (await client.responses.create({
      model: "gpt-5",
      input: "sim: scenario=one-file",
      tools: TOOLS,
    })) as unknown as Answer;
    const truth1 = await truthOf(t1.id);
    await endContainer(truth1.container_id!);
    expect(await tablesOf(truth1.container_id!)).toEqual(["ended"]);
    const t2 = (await client.responses.create({
      model: "gpt-5",
      input: "sim: scenario=later-turn-link",
      tools: TOOLS,
      previous_response_id: t1.id,
    })) as unknown as Answer;
    const [url] = urlsIn(t2);
    const got = await download(url!);
    expect(got.status).toBe(200);
    expect(got.sha256).toBe(truth1.written[0]!.sha256);
    console.log(`STATE later turn ${JSON.stringify(t2.unsandbox.files)}`);
    // The later turn cited the container again: the tracker took back its tables (with the versions
    // it had stored) for that turn, and empties itself again at its next alarm, the container being over.
    await age(truth1.container_id!, 2 * MIN); // it waits a minute after the last call that named the container
    await alarm(truth1.container_id!);
    expect(await tablesOf(truth1.container_id!)).toEqual(["ended"]);
    expect((await download(url!)).sha256).toBe(truth1.written[0]!.sha256);
    // The earlier turn's own info survives in R2: its index is empty, and it still answers.
    expect(await responseIndexFor(env, t1.id).info("default")).toMatchObject({ responseId: t1.id, ended: true });
  });

  it("a link of a container that is over while its index still works (another container is live) resolves from its pin, the live objects asked first", {
    timeout: 60_000,
  }, async () => {
    const a = await sim.container([{ path: "/mnt/data/early-end.txt", size: 700 }]);
    const b = await sim.container([]);
    const f = a.files[0]!;
    const responseId = `resp_two_${crypto.randomUUID().replaceAll("-", "")}`;
    const base = { tenant: "default", responseId, responseCreatedAt: f.created_at };
    await responseIndexFor(env, responseId).register({
      tenant: "default",
      responseId,
      createdAt: f.created_at,
      containerIds: [a.id, b.id],
    });
    await tracker(a.id).track({ ...base, containerId: a.id, refs: [{ path: f.path, cited: "link" }] });
    await tracker(b.id).track({ ...base, containerId: b.id, refs: [], sweep: false });
    const stored = await tracker(a.id).waitForStored(responseId, 20_000, "default");
    expect(stored.map((e) => e.state)).toEqual(["stored"]);
    await endContainer(a.id);
    expect(await tablesOf(a.id)).toEqual(["ended"]);
    // The index waits for the other container, so it still holds its tables.
    expect((await responseIndexFor(env, responseId).info("default"))?.ended).toBeUndefined();
    const token = await signLink({ tenant: "default", responseId, path: f.path }, loadConfig(env).LINK_SECRETS);
    // Harvested moments ago in this isolate: the live objects are asked first (src/harvest/pin-hint.ts);
    // the tracker no longer knows the file, so the pin is read after them.
    noteNamed("default", responseId);
    const ctx = createExecutionContext();
    const res = await app.fetch(new Request(`https://files.unsandbox.test/files/${token}/early-end.txt`), env, ctx);
    const body = await res.arrayBuffer();
    await waitOnExecutionContext(ctx);
    expect(res.status).toBe(200);
    expect(await sha256Hex(body)).toBe((await sim.truth(f.id)).sha256);
  });

  it("deletion by request rewrites the pins and manifest: links answer 410 'deleted on request'", async () => {
    const a = (await unsandbox().responses.create({
      model: "gpt-5",
      input: "sim: scenario=one-file",
      tools: TOOLS,
    })) as unknown as Answer;
    const t = await truthOf(a.id);
    await endContainer(t.container_id!);
    const res = await exports.default.fetch(`https://unsandbox.test/v1/responses/${a.id}/files`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${UNSANDBOX_KEY}` },
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { data: { id: string }[] }).data.map((d) => d.id)).toEqual([t.written[0]!.file_id]);
    expect(await env.FILES.head(`t/default/c/${t.container_id}/f/${t.written[0]!.file_id}/v1`)).toBeNull();
    const got = await exports.default.fetch(urlsIn(a)[0]!);
    expect(got.status).toBe(410);
    expect(((await got.json()) as { error: { message: string } }).error.message).toMatch(/deleted on request on/);
    expect((await files(a.id)).data.map((f) => f.state)).toEqual(["deleted"]);
    expect(await tablesOf(t.container_id!)).toEqual(["ended"]);
  });
});
