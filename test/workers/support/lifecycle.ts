// Helpers for the file-lifecycle tests (tracker/, routes/deletion, storage/limits): the tracker
// with time passing (its rows aged), signed links, and the Worker's download route. Built on the
// simulator and tracker helpers (./tracker.ts).
import { exports } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { loadConfig } from "../../../src/config";
import { signLink, type LinkClaims } from "../../../src/links/token";
import type { ContainerTracker } from "../../../src/tracker/container-tracker";
import { responseIndexFor } from "../../../src/tracker/stubs";
import type { FileRef } from "../../../src/tracker/types";
import { ageTo, agedNow, env, query, tablesOf, tracker, unaged } from "./tracker";

export const T = "default";

// `exports` is untyped without generated worker types.
const worker = (exports as unknown as { default: Fetcher }).default;

/** A request through the Worker's own fetch handler. */
export const fetchWorker = (url: string, init: RequestInit = {}) => worker.fetch(new Request(url, init));

/** The bearer key of single-tenant mode (vitest.config.ts TEST_BINDINGS). */
export const API_KEY = "usk_test_0123456789abcdef";

/** A download URL for `path` of `responseId`, as the proxy would issue it. */
export async function link(claims: Partial<LinkClaims> & { responseId: string; path: string }): Promise<string> {
  const token = await signLink({ tenant: T, ...claims }, loadConfig(env).LINK_SECRETS);
  return `https://files.unsandbox.test/files/${token}/${encodeURIComponent(claims.path.split("/").pop()!)}`;
}

/** What the proxy does when a response completes: register it with its index, then track its refs. */
export async function register(
  containerId: string,
  responseId: string,
  createdAt: number,
  refs: FileRef[],
  options: { sweep?: boolean; tenant?: string; linksExpireAt?: number | null } = {},
) {
  const tenant = options.tenant ?? T;
  await responseIndexFor(env, responseId).register({ tenant, responseId, createdAt, containerIds: [containerId] });
  return tracker(containerId).track({
    tenant,
    containerId,
    responseId,
    responseCreatedAt: createdAt,
    refs,
    sweep: options.sweep ?? refs.some((r) => !r.fileId),
    ...(options.linksExpireAt !== undefined ? { linksExpireAt: options.linksExpireAt } : {}),
  });
}

/** Lets `skewMs` pass for the tracker in total (since the test began) and runs its alarm once. */
export async function alarmAt(containerId: string, skewMs: number): Promise<void> {
  await ageTo(containerId, skewMs);
  await runInDurableObject(tracker(containerId), (inst: ContainerTracker) => inst.alarm());
}

/** The tracker's current time: the wall clock plus the time let pass with `alarmAt`. */
export async function trackerNow(containerId: string): Promise<number> {
  return agedNow(containerId);
}

/** The one copy job of a container, if any. */
export async function job(containerId: string) {
  // A tracker that emptied itself once its container was over has no job left.
  if (!(await tablesOf(containerId)).includes("files")) return undefined;
  const row = (
    await query<{ attempts: number; next_attempt_at: number; last_error: string | null }>(
      containerId,
      "SELECT attempts, next_attempt_at, last_error FROM jobs",
    )
  )[0];
  // On the same clock as `trackerNow`.
  return row && { ...row, next_attempt_at: unaged(containerId, row.next_attempt_at) };
}
