/**
 * @module faults
 * Faults a test injects through `/__sim/faults`, per file or per container: a status for the
 * first N attempts (with `retry-after`), a body cut at a byte, a slow body, a body that pauses at
 * a byte until released, and a container that expires when its body reaches a byte.
 *
 * A paused body waits by polling `released` rather than awaiting a promise: the release comes in
 * through another request, and workerd does not let one request's promise be settled from
 * another request's context.
 */
import { SimError } from "./errors";
import { itemId } from "./ids";
import { state, type SimContainer, type SimFault } from "./state";

export type FaultRoute = "content" | "list" | "retrieve";

export interface FaultInput {
  file_id?: string;
  container_id?: string;
  kind: SimFault["kind"];
  on?: SimFault["on"];
  status?: number;
  times?: number;
  retry_after?: number;
  at_byte?: number;
  bytes_per_sec?: number;
}

/** Registers a fault. */
export function addFault(input: FaultInput): SimFault {
  if (!input.file_id && !input.container_id) throw new SimError(400, "a fault needs file_id or container_id");
  const kinds = ["status", "cut", "slow", "pause", "expire"];
  if (!kinds.includes(input.kind)) throw new SimError(400, `fault kind must be one of ${kinds.join(", ")}`);
  const f: SimFault = {
    id: itemId("fault"),
    file_id: input.file_id,
    container_id: input.container_id,
    kind: input.kind,
    on: input.on ?? (input.file_id ? "content" : "any"),
    status: input.status ?? 500,
    times: input.times ?? (input.kind === "slow" ? Number.MAX_SAFE_INTEGER : 1),
    retry_after: input.retry_after,
    at_byte: input.at_byte ?? 0,
    bytes_per_sec: input.bytes_per_sec ?? 64 * 1024,
    hits: 0,
    paused: false,
    released: false,
  };
  state.faults.set(f.id, f);
  return f;
}

function matches(f: SimFault, fileId: string | undefined, containerId: string): boolean {
  if (f.file_id) return f.file_id === fileId;
  return f.container_id === containerId;
}

/** Throws the first pending status fault for this route, counting the hit. */
export function checkStatusFault(route: FaultRoute, containerId: string, fileId?: string): void {
  for (const f of state.faults.values()) {
    if (f.kind !== "status" || f.hits >= f.times || !matches(f, fileId, containerId)) continue;
    if (f.on !== "any" && f.on !== route) continue;
    f.hits++;
    const headers: Record<string, string> = {};
    if (f.retry_after !== undefined) headers["retry-after"] = String(f.retry_after);
    const message =
      f.status === 429
        ? "Rate limit reached for requests (simulated)."
        : `The server had an error while processing your request (simulated ${f.status}).`;
    throw new SimError(f.status, message, {
      type: f.status === 429 ? "requests" : "server_error",
      code: f.status === 429 ? "rate_limit_exceeded" : null,
      headers,
    });
  }
}

/** The body faults (cut, slow, pause, expire) that apply to this fetch of a file; counts hits. */
export function takeBodyFaults(containerId: string, fileId: string): SimFault[] {
  const out: SimFault[] = [];
  for (const f of state.faults.values()) {
    if (f.kind === "status" || f.hits >= f.times || !matches(f, fileId, containerId)) continue;
    f.hits++;
    out.push(f);
  }
  return out;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Wraps a body with its faults. `cut` and `expire` end the body early at `at_byte` (the
 * client sees fewer bytes than promised), `pause` holds it at `at_byte` until released, `slow`
 * paces it at `bytes_per_sec`.
 */
export function applyBodyFaults(
  body: ReadableStream<Uint8Array>,
  faults: SimFault[],
  container: SimContainer,
): ReadableStream<Uint8Array> {
  if (faults.length === 0) return body;
  const reader = body.getReader();
  const stopAt = Math.min(
    ...faults.filter((f) => f.kind === "cut" || f.kind === "expire").map((f) => f.at_byte),
    Infinity,
  );
  const pauses = faults.filter((f) => f.kind === "pause").sort((a, b) => a.at_byte - b.at_byte);
  const slow = faults.find((f) => f.kind === "slow");
  let sent = 0;
  let pending: Uint8Array | undefined;

  const boundary = () =>
    Math.min(stopAt, ...pauses.filter((p) => !p.released && p.at_byte >= sent).map((p) => p.at_byte));

  return new ReadableStream<Uint8Array>(
    {
      async pull(ctl) {
        // A pause that sits exactly here: wait for its release.
        for (const p of pauses) {
          if (!p.released && p.at_byte === sent) {
            p.paused = true;
            while (!p.released) await sleep(10);
            p.paused = false;
          }
        }
        if (sent >= stopAt) {
          if (faults.some((f) => f.kind === "expire" && f.at_byte === stopAt)) container.expire_at_ms = Date.now();
          await reader.cancel().catch(() => {});
          ctl.close();
          return;
        }
        if (!pending || pending.length === 0) {
          const r = await reader.read();
          if (r.done) {
            ctl.close();
            return;
          }
          pending = r.value;
        }
        let n = Math.min(pending.length, boundary() - sent);
        if (slow) n = Math.min(n, Math.max(1, Math.floor(slow.bytes_per_sec / 20)));
        const piece = pending.subarray(0, n);
        pending = pending.subarray(n);
        sent += n;
        ctl.enqueue(piece);
        if (slow) await sleep((n / slow.bytes_per_sec) * 1000);
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

/** `{hits, paused}` and the rest of a fault, as `/__sim/faults/{id}` shows it. */
export function faultView(f: SimFault) {
  return { ...f, times: f.times === Number.MAX_SAFE_INTEGER ? null : f.times };
}
