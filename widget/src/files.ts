/**
 * @module widget/files
 * What a file card says for each state of a file in unsandbox's manifest
 * (`response.unsandbox.files`, and `GET /v1/responses/{id}/files`). Pure.
 *
 * States: `pending` and `copying` are the only ones that still change (the copy from the
 * short-lived container to durable storage is running); the card says "Saving…" and the widget
 * polls until every file has settled.
 */

/** One file of a response, as unsandbox reports it (fields the widget reads). */
export interface FileEntry {
  file_id: string | null;
  path: string;
  filename: string;
  state: string;
  url?: string | null;
  bytes: number | null;
  content_type: string | null;
  sha256?: string | null;
  cited?: string[];
  reason?: string | null;
}

export type CardTone = "busy" | "ready" | "problem";

export interface CardStatus {
  tone: CardTone;
  /** Short status text shown on the card (and announced to screen readers). */
  label: string;
  /** Whether the download button is offered. */
  downloadable: boolean;
}

/** True while a file may still change state. */
export function isSettling(state: string): boolean {
  return state === "pending" || state === "copying";
}

/** The card's wording for a state; unknown future states read as problems, not as ready. */
export function cardStatus(entry: Pick<FileEntry, "state" | "url">): CardStatus {
  const hasUrl = typeof entry.url === "string" && entry.url !== "";
  switch (entry.state) {
    case "pending":
    case "copying":
      // The link already works: unsandbox waits for the copy or serves from the container.
      return { tone: "busy", label: "Saving…", downloadable: hasUrl };
    case "stored":
      return { tone: "ready", label: "Ready", downloadable: hasUrl };
    case "missing":
      return { tone: "problem", label: "Not found: the model named this file but never wrote it", downloadable: false };
    case "lost":
      return {
        tone: "problem",
        label: "Lost: the sandbox expired before the file could be saved",
        downloadable: false,
      };
    case "skipped":
      return { tone: "problem", label: "Not saved (skipped by this service's limits)", downloadable: false };
    case "deleted":
      return { tone: "problem", label: "Deleted", downloadable: false };
    case "failed":
      return { tone: "problem", label: "Could not be saved", downloadable: false };
    default:
      return { tone: "problem", label: `Unavailable (${entry.state})`, downloadable: false };
  }
}

/** A stable key for a manifest line (a path never resolved has no file id). */
export function entryKey(entry: Pick<FileEntry, "file_id" | "path">): string {
  return entry.file_id ?? `path:${entry.path}`;
}
