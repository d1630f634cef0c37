/**
 * @module harvest/resolve-link
 * What a download link's claims stand for now: the response index turns (response, path) into a
 * file version, and the container tracker says where that version stands. The download route and
 * admin takedowns resolve through this one function, so a takedown covers exactly the stored
 * object a download would serve.
 *
 * Once the link's container is over, its objects emptied themselves and left a pin in R2 for the
 * link (src/tracker/outlive.ts): that pin is read first, one R2 `get` and no Durable Object. Without
 * one (the container still works, or the link resolves through an earlier response) the index
 * answers as before, falling back itself to the pins of the earlier responses in R2.
 */
import type { Bindings } from "../config";
import { readPin } from "../tracker/outlive";
import { responseIndexFor, trackerFor } from "../tracker/stubs";
import type { FileRecord } from "../tracker/types";

/** What a link resolves to. */
export type LinkResolution =
  /** The response's harvest (or the file's copy) is still running: the file may yet appear. */
  | { kind: "pending" }
  /** Nothing was written at that path (or the response is unknown to this tenant). */
  | { kind: "not_produced" }
  /** A file version, in whatever state it is (the caller decides what each state answers). */
  | { kind: "file"; file: FileRecord };

/**
 * While the response is not registered yet (or its harvest runs), the index is asked again after
 * POLL_FIRST_MS, then after twice as long each time up to POLL_MAX_MS: a link asked for just
 * before the answer completes resolves within ~100 ms, and an 8 s wait costs 9 index calls, not
 * 17 as a fixed 500 ms period did. Downloads share one wait per link and isolate
 * (harvest/download-cache.ts).
 */
const POLL_FIRST_MS = 100;
const POLL_MAX_MS = 2_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Resolves a link, waiting up to `waitMs` while the response's harvest is still running and then,
 * for the rest of that time, while its file is still being copied.
 */
export async function resolveLink(
  env: Bindings,
  claims: { tenant: string; responseId: string; path: string },
  waitMs: number,
): Promise<LinkResolution> {
  const deadline = Date.now() + waitMs;
  const pinned = await readPin(env.FILES, claims);
  if (pinned) return { kind: "file", file: pinned };
  const index = responseIndexFor(env, claims.responseId);
  let r = await index.resolve({ tenant: claims.tenant, path: claims.path });
  for (
    let wait = POLL_FIRST_MS;
    r.kind === "pending" && Date.now() < deadline;
    wait = Math.min(wait * 2, POLL_MAX_MS)
  ) {
    await sleep(Math.min(wait, Math.max(0, deadline - Date.now())));
    r = await index.resolve({ tenant: claims.tenant, path: claims.path });
  }
  if (r.kind === "pending") return { kind: "pending" };
  if (r.kind === "pinned") return { kind: "file", file: r.file };
  if (r.kind !== "file") return { kind: "not_produced" };
  const file = await trackerFor(env, r.containerId).waitForFile(
    { tenant: claims.tenant, fileId: r.fileId, version: r.version },
    Math.max(0, deadline - Date.now()),
  );
  return file ? { kind: "file", file } : { kind: "not_produced" };
}
