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
 * answers as before, falling back itself to the pins of the earlier responses in R2. A response
 * harvested in this isolate moments ago is asked the other way round (./pin-hint.ts).
 */
import type { Bindings } from "../config";
import { readPin } from "../tracker/outlive";
import { livesFirst } from "./pin-hint";
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
 * Resolves a link, waiting up to `waitMs` while the response's harvest is still running and then,
 * for the rest of that time, while its file is still being copied.
 *
 * The link's pin first (one R2 `get`, no Durable Object: the path once the container is over),
 * then the live objects; but a response this isolate handed to its trackers moments ago cannot
 * have a pin yet (./pin-hint.ts), so its links ask the live objects first and read the pin only
 * when they found nothing (a container that ended early, whose tracker no longer knows the file).
 */
export async function resolveLink(
  env: Bindings,
  claims: { tenant: string; responseId: string; path: string },
  waitMs: number,
): Promise<LinkResolution> {
  const deadline = Date.now() + waitMs;
  const pinFirst = !livesFirst(claims.tenant, claims.responseId, Date.now());
  if (pinFirst) {
    const pinned = await readPin(env.FILES, claims);
    if (pinned) return { kind: "file", file: pinned };
  }
  const live = await fromObjects(env, claims, deadline);
  if (pinFirst || live.kind !== "not_produced") return live;
  const pinned = await readPin(env.FILES, claims);
  return pinned ? { kind: "file", file: pinned } : live;
}

/** What the response's index and the file's tracker say, waiting until `deadline`. */
async function fromObjects(
  env: Bindings,
  claims: { tenant: string; responseId: string; path: string },
  deadline: number,
): Promise<LinkResolution> {
  // One call, answered when the index knows: it waits for its response to be registered and for
  // the tracker's harvest of the path (ResponseIndex.resolve, `waitMs`), instead of being asked
  // again with backoff (was 100 ms doubling to 2 s: up to 9 index calls, each asking the tracker
  // again, in an 8 s wait). Downloads share one wait per link and isolate (./download-cache.ts).
  const r = await responseIndexFor(env, claims.responseId).resolve({
    tenant: claims.tenant,
    path: claims.path,
    waitMs: Math.max(0, deadline - Date.now()),
  });
  if (r.kind === "pending") return { kind: "pending" };
  if (r.kind === "pinned") return { kind: "file", file: r.file };
  if (r.kind !== "file") return { kind: "not_produced" };
  const file = await trackerFor(env, r.containerId).waitForFile(
    { tenant: claims.tenant, fileId: r.fileId, version: r.version },
    Math.max(0, deadline - Date.now()),
  );
  return file ? { kind: "file", file } : { kind: "not_produced" };
}
