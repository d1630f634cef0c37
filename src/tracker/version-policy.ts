/**
 * @module tracker/version-policy
 * The tracker's rules for file versions, pure (part of ./policy.ts, which re-exports them, and
 * unit tested in ./policy.test.ts): when a listed file is a version already recorded, a new one,
 * or a later turn's own; and whether a version's copy may have read upstream's bytes before a
 * turn ended. Why a later turn may need its own version although upstream describes the file
 * unchanged: the real API may keep a file's id and `created_at` when a later turn writes its path
 * again (docs/assumptions.md §4; docs/storage.md, "Versions").
 */
import type { ContainerFile } from "../upstream/containers";
import type { FileState } from "./types";

/**
 * A response's place in the container's order of responses: its `created_at` (unix s), then the
 * order in which the tracker first heard of it (two turns often start within the same second).
 */
export type TurnOrder = readonly [createdAt: number, seq: number];

/** Whether turn `a` started before turn `b`. */
export function startedBefore(a: TurnOrder, b: TurnOrder): boolean {
  return a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);
}

/** A known version of a file id, as far as the version decision needs it. */
export interface KnownVersion {
  version: number;
  upstreamCreatedAt: number | null;
  path: string;
  state: FileState;
  /** The turn that recorded this version (null: unknown, e.g. its response row is gone). */
  recordedBy?: TurnOrder | null;
  /**
   * Whether its copy may have read upstream's bytes before the turn decided for ended
   * (`copyBeganBefore`); absent: assumed so.
   */
  copyBegan?: boolean;
}

/**
 * When a turn ended, as the tracker saw it: the moment its `track` arrived (ms), and the versions
 * (`<file id>/<version>`) being copied at that moment. Undefined for work after `track` (a later
 * sweep), where the end is not known.
 */
export interface TurnEnd {
  at: number;
  copying: ReadonlySet<string>;
}

/**
 * Whether a version's copy may have read upstream's bytes before a turn ended: it was being copied
 * then, or it had begun (a copy's state time is when it began, a settled one's when it settled,
 * both after it began). A copy not begun by then reads the bytes as that turn left them, or later.
 * With the end unknown, any copy begun counts.
 */
export function copyBeganBefore(
  v: { fileId: string; version: number; state: FileState; stateAt: number },
  end: TurnEnd | undefined,
): boolean {
  if (end?.copying.has(`${v.fileId}/${v.version}`)) return true;
  if (v.state === "pending") return false;
  return end === undefined || v.stateAt < end.at;
}

/** The response a version is decided for. */
export interface VersionTurn {
  /** Its place in the container's order. */
  order: TurnOrder;
  /** The newest version of this file id it already cites, if any. */
  own?: KnownVersion;
  /** It names the file (a citation, or a linked path that resolved to it), not just lists it. */
  named: boolean;
}

export type VersionDecision =
  /** Upstream still describes the same bytes; `requeue` when that version had failed. */
  | { kind: "same"; version: number; requeue: boolean }
  /** Another `created_at` or path, or a file id never seen: new bytes under a new version. */
  | { kind: "new"; version: number }
  /**
   * Upstream describes the file exactly as an earlier turn's version (same id, path and
   * `created_at`), whose copy began before this later turn ended, and the later turn names it: it
   * may have written the file again in place, so it gets a version of its own, copied after it
   * ended, and each turn's link keeps the bytes of its own end.
   */
  | { kind: "later_turn"; version: number }
  /** A listed file an earlier turn recorded and this one did not write (by time) nor name: not this turn's. */
  | { kind: "not_own" };

/**
 * Same path and `created_at` = the same version; anything else is a new version with its own
 * copy. With `turn`: the version the response already cites stays its own; a version an earlier
 * turn recorded is reused by a later turn that names the file only while its copy has not begun
 * (it will read the later turn's bytes), else the later turn gets its own (`later_turn`). The real
 * API may keep a file's id and `created_at` when a later turn rewrites its path
 * (docs/assumptions.md §4): no listing field tells that rewrite apart, only the later turn naming
 * the file again. Only listed, such a file is the later turn's when written since it started (the
 * earlier turn recorded it before it knew of the later one), else the earlier turn's (`not_own`).
 */
export function versionDecision(
  latest: KnownVersion | undefined,
  f: Pick<ContainerFile, "created_at" | "path">,
  turn?: VersionTurn,
): VersionDecision {
  const describes = (v: KnownVersion) => v.upstreamCreatedAt === f.created_at && v.path === f.path;
  const same = (v: KnownVersion): VersionDecision => ({
    kind: "same",
    version: v.version,
    requeue: v.state === "failed",
  });
  if (turn?.own && describes(turn.own)) return same(turn.own);
  if (!latest || !describes(latest)) return { kind: "new", version: (latest?.version ?? 0) + 1 };
  if (!turn || !latest.recordedBy || !startedBefore(latest.recordedBy, turn.order)) return same(latest);
  if (!turn.named) return f.created_at < turn.order[0] ? { kind: "not_own" } : same(latest);
  return latest.copyBegan === false ? same(latest) : { kind: "later_turn", version: latest.version + 1 };
}
