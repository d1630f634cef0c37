// Small helpers over the simulator's control API (sim/README.md) and the tracker's SQLite.
import { env as workersEnv } from "cloudflare:workers";
import type { Bindings } from "../../../src/config";
import { runInDurableObject } from "cloudflare:test";
import type { ContainerTracker } from "../../../src/tracker/container-tracker";
import { responseIndexFor, trackerFor } from "../../../src/tracker/stubs";
import type { FileRef } from "../../../src/tracker/types";

/** The test env as the Worker sees it: its bindings (Durable Objects typed by the generated Env) and its settings. */
export const env = workersEnv as unknown as Bindings;

const SIM = "https://api.openai.com";
const AUTH = { authorization: "Bearer sk-sim-test", "content-type": "application/json" };

export interface SimFile {
  id: string;
  path: string;
  created_at: number;
  bytes: number | null;
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${SIM}${path}`, {
    method,
    headers: AUTH,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

export const sim = {
  container: (
    files: {
      path: string;
      size: number;
      source?: "assistant" | "user";
      seed?: number;
      visible_after_ms?: number;
    }[] = [],
    quirks?: Record<string, boolean>,
  ) =>
    call<{ id: string; created_at: number; files: SimFile[] }>("POST", "/__sim/containers", {
      files,
      ...(quirks ? { quirks } : {}),
    }),
  addFile: (
    cid: string,
    spec: { path: string; size: number; source?: "assistant" | "user"; seed?: number; visible_after_ms?: number },
  ) => call<SimFile>("POST", `/__sim/containers/${cid}/files`, spec),
  expire: (cid: string) => call<unknown>("POST", `/__sim/containers/${cid}/expire`, { after_ms: 0 }),
  fault: (f: Record<string, unknown>) => call<{ id: string }>("POST", "/__sim/faults", f),
  faultState: (id: string) => call<{ hits: number; paused: boolean }>("GET", `/__sim/faults/${id}`),
  release: (id: string) => call<unknown>("POST", `/__sim/faults/${id}/release`, {}),
  truth: (fileId: string) => call<{ bytes: number; sha256: string }>("GET", `/__sim/files/${fileId}`),
  counters: () =>
    call<{
      content_fetches: Record<string, number>;
      list_calls: Record<string, number>;
      container_reads: Record<string, number>;
    }>("GET", "/__sim/counters"),
};

export const tracker = (cid: string) => trackerFor(env, cid);

/**
 * What the harvest does for one response and one container, by hand (so a test can time each
 * half): the index learns the response, then the tracker its references.
 */
export const harvestByHand = {
  register: (responseId: string, cid: string, createdAt: number) =>
    responseIndexFor(env, responseId).register({ tenant: "default", responseId, createdAt, containerIds: [cid] }),
  track: (responseId: string, cid: string, createdAt: number, refs: FileRef[], sweep?: boolean) =>
    tracker(cid).track({
      tenant: "default",
      containerId: cid,
      responseId,
      responseCreatedAt: createdAt,
      refs,
      ...(sweep === undefined ? {} : { sweep }),
    }),
};

/** The tracker's own tables (an emptied tracker keeps only `ended`; one never written to, none). */
export function tablesOf(cid: string): Promise<string[]> {
  return runInDurableObject(tracker(cid), (_inst: ContainerTracker, state) =>
    state.storage.sql
      .exec<{ name: string }>(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '_cf_%' ORDER BY name",
      )
      .toArray()
      .map((r) => r.name),
  );
}

/** Runs a query inside the tracker (its real SQLite). */
export function query<T = Record<string, SqlStorageValue>>(
  cid: string,
  sql: string,
  ...args: SqlStorageValue[]
): Promise<T[]> {
  return runInDurableObject(
    tracker(cid),
    (_inst: ContainerTracker, state) => state.storage.sql.exec(sql, ...args).toArray() as T[],
  );
}

/** Polls `check` until it returns a truthy value (bounded by the test timeout). */
export async function until<T>(check: () => Promise<T>, intervalMs = 100): Promise<NonNullable<T>> {
  for (;;) {
    const v = await check();
    if (v) return v as NonNullable<T>;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export async function sha256Hex(body: ArrayBuffer | ReadableStream): Promise<string> {
  const digest = new crypto.DigestStream("SHA-256");
  if (body instanceof ArrayBuffer) {
    const w = digest.getWriter();
    await w.write(new Uint8Array(body));
    await w.close();
  } else await body.pipeTo(digest);
  return [...new Uint8Array(await digest.digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Every column of the tracker that holds a time on its own clock (ms since the epoch; docs/storage.md). */
const CLOCK_COLUMNS: Record<string, string[]> = {
  // The container's row is the `_schema` row (src/tracker/schema.ts).
  _schema: ["opened_at", "checked_at", "client_active_at", "final_sweep_at", "final_swept_at", "tenant_checked_at"],
  // A copy job is columns of its file version's row (`next_attempt_at`; `jobs` is a view).
  files: ["state_at", "first_seen_at", "retain_until", "next_attempt_at"],
  citations: ["seen_at"],
  claims: ["claimed_at"],
  responses: ["sweep_next_at", "sweep_until", "swept_at", "links_until", "repair_attempted_at", "repair_due_at"],
  parts: ["stored_at"],
  // An emptied tracker's only rows: the R2 deletions it still owes (src/tracker/outlive.ts).
  ended: ["at"],
};

/** How far each tracker has been aged in this test file (see `age`). */
const aged = new Map<string, number>();

/**
 * Lets `ms` pass for a tracker without waiting: every time it recorded moves `ms` into the past
 * (the tracker reads the wall clock; its schedule, expiry, retention and link deadlines are all
 * rows). Upstream's own times (unix seconds) stay as they are, as they would.
 */
export async function age(cid: string, ms: number): Promise<void> {
  if (ms <= 0) return;
  await runInDurableObject(tracker(cid), (_inst: ContainerTracker, state) => {
    const present = new Set(
      state.storage.sql
        .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")
        .toArray()
        .map((r) => r.name),
    );
    for (const [table, columns] of Object.entries(CLOCK_COLUMNS)) {
      if (!present.has(table)) continue; // an emptied tracker keeps only `ended`
      state.storage.sql.exec(`UPDATE ${table} SET ${columns.map((c) => `${c} = ${c} - ${ms}`).join(", ")}`);
    }
  });
  aged.set(cid, (aged.get(cid) ?? 0) + ms);
}

/** The time the tracker's rows have reached: the wall clock plus how far it was aged. */
export const agedNow = (cid: string) => Date.now() + (aged.get(cid) ?? 0);

/** Ages the tracker until `ms` have passed in total since its first row (once; later calls only add the difference). */
export async function ageTo(cid: string, ms: number): Promise<void> {
  await age(cid, ms - (aged.get(cid) ?? 0));
}

/** A row's time as it was before the tracker was aged (comparable with `agedNow`). */
export const unaged = (cid: string, at: number) => at + (aged.get(cid) ?? 0);
