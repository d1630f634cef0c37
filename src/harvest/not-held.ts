/**
 * @module harvest/not-held
 * A stream's terminal event lists its files before the trackers' `track` ran (harvest.ts,
 * `beside`): the manifests the trackers hold now, plus what the response itself names that they
 * do not hold yet. Pure.
 */
import type { Cited, ManifestEntry } from "../tracker/types";
import type { Discovery } from "./discover";

/**
 * What a response names that its trackers do not hold yet (their `track` still runs): each cited
 * file by its id and each linked path, `pending`, under the first container the response names
 * (a link names no container; the tracker that resolves it reports it once `track` ran). The
 * `cited` kinds of a file the trackers already hold are added to its entry.
 */
export function notHeldYet(found: Discovery, held: ManifestEntry[]): ManifestEntry[] {
  const out: ManifestEntry[] = [];
  const byId = new Map(held.flatMap((e) => (e.file_id ? [[e.file_id, e] as const] : [])));
  // A path two held versions share (an earlier turn's file rewritten) is left to the tracker.
  const byPath = new Map<string, ManifestEntry | null>();
  for (const e of held) byPath.set(e.path, byPath.has(e.path) ? null : e);
  const add = (containerId: string, fileId: string | null, path: string, cited: Cited) => {
    if (!fileId && byPath.get(path) === null) return;
    const known = fileId ? byId.get(fileId) : byPath.get(path);
    if (known) {
      if (!known.cited.includes(cited)) known.cited = [...known.cited, cited];
      return;
    }
    const entry: ManifestEntry = {
      container_id: containerId,
      file_id: fileId,
      version: null,
      path,
      filename: path.slice(path.lastIndexOf("/") + 1),
      state: "pending",
      bytes: null,
      content_type: null,
      sha256: null,
      cited: [cited],
      reason: null,
    };
    out.push(entry);
    if (fileId) byId.set(fileId, entry);
    byPath.set(path, entry);
  };
  for (const c of found.citations) {
    if (c.filename) add(c.containerId, c.fileId, `/mnt/data/${c.filename}`, c.figure ? "figure" : "annotation");
  }
  const first = found.containerIds[0];
  if (first) for (const l of found.links) add(first, null, l.path, "link");
  return out;
}
