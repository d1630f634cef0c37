/**
 * @module storage/copy
 * The copy engine: one step of moving a container file's bytes into R2, with bounded memory and
 * progress that survives eviction. The Durable Object owns the job table and the schedule; this
 * module owns the byte handling and reports what happened. Its I/O (the upstream body, R2, and
 * saving progress) comes in through `CopyHooks`, so every decision is made in one place.
 *
 * Why the two shapes (R2 `put` needs a known length:
 * https://developers.cloudflare.com/r2/api/workers/workers-api-reference/#bucket-method-definitions;
 * multipart parts: https://developers.cloudflare.com/r2/objects/multipart-objects/):
 * - R2 `put` only accepts a stream of known length. When upstream gives a trustworthy
 *   `Content-Length` (no content encoding) below ~100 MB, the body is piped through a
 *   `FixedLengthStream` of that length into one `put`, which is atomic: a failure stores nothing
 *   and the next attempt simply starts again.
 * - Otherwise (large, or length unknown) the body is cut into parts of a multipart upload, 8 MiB
 *   or more: the part size grows with the file (`partSizeFor`) so that R2's 10,000 parts per
 *   upload never bind below the bytes the tenant may store. Every part but the last must have the
 *   same size, so each part is buffered whole (memory is a few parts) and the size chosen when the
 *   upload starts is saved with it (`uploadStarted`) for every later step. Each part's number and
 *   etag are reported as soon as R2 accepts it, so a later step can resume after the last stored part.
 *
 * Copies that share an isolate share its memory: at most COPY_SLOTS_PER_ISOLATE steps run at
 * once in one isolate, whichever Durable Objects start them; the others wait (`copySlots`).
 */
import { classifyFailure, errorMessageOf, retryAfterMs, type FailureClass } from "../upstream/containers";
import { Slots } from "./slots";

/** The smallest part, and every part of a file up to 78 GiB (R2 wants uniform parts of at least 5 MiB). */
export const PART_SIZE = 8 * 1024 * 1024;
/** R2's limit of parts per multipart upload (https://developers.cloudflare.com/r2/platform/limits/). */
export const MAX_PARTS = 10_000;
const MIB = 1024 * 1024;

/**
 * The part size for a file of (at most) `bytes`: `minimum` (8 MiB) until the file would need more
 * than MAX_PARTS parts, then the smallest whole number of MiB that fits it in MAX_PARTS.
 */
export function partSizeFor(bytes: number, minimum = PART_SIZE): number {
  const needed = Math.ceil(Math.max(0, bytes) / MAX_PARTS / MIB) * MIB;
  return Math.max(minimum, needed);
}

/**
 * Copy steps one isolate runs at once. Each holds up to UPLOADS_IN_FLIGHT + 1 parts in memory
 * (24 MiB at 8 MiB parts), and trackers that share an isolate share its 128 MB
 * (https://developers.cloudflare.com/workers/platform/limits/#memory).
 */
export const COPY_SLOTS_PER_ISOLATE = 4;
/** The isolate-wide cap on running copy steps (module state: one per isolate). */
export const copySlots = new Slots(COPY_SLOTS_PER_ISOLATE);
/** Part uploads a copy keeps in flight while it reads the next part. */
const UPLOADS_IN_FLIGHT = 2;
/** R2's guidance: a single `put` below ~100 MB, multipart above (docs:r2/objects/upload-objects). */
export const SINGLE_PUT_LIMIT = 100_000_000;

/** A part that R2 has accepted. */
export interface StoredPart {
  partNumber: number;
  etag: string;
  size: number;
}

/** What the step needs to know about the job, as saved in the tracker's SQLite. */
export interface CopyState {
  key: string;
  partSize: number;
  /** The open multipart upload, if one was started. */
  uploadId: string | null;
  /** Stored parts in order (1..n), each `partSize` bytes. */
  parts: StoredPart[];
  httpMetadata: R2HTTPMetadata;
  customMetadata: Record<string, string>;
}

/** The step's I/O and its progress reports (the tracker persists each report synchronously). */
export interface CopyHooks {
  /** Starts the upstream download, from `rangeStart` when given (a `Range: bytes=N-` request). */
  fetchContent(rangeStart: number | null): Promise<Response>;
  /** A multipart upload began, with the part size every part but the last of it will have. */
  uploadStarted(uploadId: string, partSize: number): void;
  partStored(part: StoredPart): void;
  /** The upload and its parts were abandoned; the next step starts from byte 0. */
  uploadDiscarded(): void;
  /** A resume began at `offset`; `rangeHonoured` says whether upstream answered with a matching 206. */
  resumed(info: { offset: number; rangeHonoured: boolean }): void;
}

export type CopyResult =
  | { kind: "stored"; bytes: number; sha256: string; etag: string; multipart: boolean }
  /** The part budget of this step is spent and bytes remain: run another step. */
  | { kind: "partial"; bytesStored: number }
  /** Nothing new is durable beyond saved parts; try again later (`retryAfterMs` when upstream said). */
  | { kind: "retry"; reason: string; status?: number; retryAfterMs?: number }
  /** Upstream says the file or container no longer exists, or has no such route (classified). */
  | { kind: "gone"; reason: string; status: number; failure: FailureClass }
  /** The file is larger than `maxBytes` allows; nothing of it is kept. */
  | { kind: "too_large"; reason: string; limit: number };

export interface CopyOptions {
  /** At most this many parts are uploaded per step (subrequest and wall-clock budget per alarm). */
  maxParts: number;
  /** Bytes the file may have (per-file and per-tenant limits); a larger file is `too_large`. */
  maxBytes?: number;
}

/** The refusal when a file outgrows `opts.maxBytes` (checked on Content-Length and while streaming). */
const tooLarge = (limit: number): CopyResult => ({
  kind: "too_large",
  reason: `larger than the ${limit}-byte limit`,
  limit,
});

const hex = (buf: ArrayBuffer) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, "0")).join("");

/** Classifies a non-success upstream answer (after releasing its body). Never stores it. */
async function refusal(res: Response): Promise<CopyResult> {
  // The error message tells "Container is expired." from "not found on container" (both 404).
  const message = await errorMessageOf(res);
  const failure = classifyFailure(res.status, message);
  if (failure === "expired" || failure === "file_gone" || failure === "no_api") {
    return {
      kind: "gone",
      reason: `upstream answered ${res.status}${message ? `: ${message.slice(0, 120)}` : ""}`,
      status: res.status,
      failure,
    };
  }
  return {
    kind: "retry",
    reason: `upstream answered ${res.status}`,
    status: res.status,
    retryAfterMs: retryAfterMs(res.headers),
  };
}

/** The length a body will have, when it can be trusted: a Content-Length with no content encoding. */
export function trustedLength(headers: Headers): number | null {
  const encoding = (headers.get("content-encoding") ?? "identity").trim().toLowerCase();
  if (encoding !== "identity" && encoding !== "") return null;
  const raw = headers.get("content-length");
  if (raw === null || !/^\d+$/.test(raw.trim())) return null;
  const n = Number(raw);
  return Number.isSafeInteger(n) ? n : null;
}

/** Parses `Content-Range: bytes a-b/total` (total may be `*`). */
export function parseContentRange(raw: string | null): { start: number; end: number; total: number | null } | null {
  const m = raw ? /^\s*bytes\s+(\d+)-(\d+)\/(\d+|\*)\s*$/i.exec(raw) : null;
  if (!m) return null;
  return { start: Number(m[1]), end: Number(m[2]), total: m[3] === "*" ? null : Number(m[3]) };
}

/** Bytes a skip reads at a time (a scratch buffer, reused). */
const SKIP_BUFFER = 1024 * 1024;

/**
 * Reads a byte stream in exact-size slices.
 *
 * A fetch body is a byte stream, and locally it arrives in chunks of a few KiB: read one chunk at a
 * time, an 8 MiB part costs thousands of promise round trips, and measured that way the reads,
 * not R2, bounded a copy. So a byte stream is read with a BYOB reader and `min`, which has the
 * runtime fill the whole slice natively in one call (`readAtLeast`). Any other stream (a JS-made one) falls back
 * to chunk reads, with chunks that straddle a slice boundary split and the remainder kept.
 */
export class SliceReader {
  #byob: ReadableStreamBYOBReader | null = null;
  #reader: ReadableStreamDefaultReader<Uint8Array> | null = null;
  #carry: Uint8Array | null = null;
  #done = false;
  /** Bytes handed out or skipped so far. */
  consumed = 0;

  constructor(stream: ReadableStream<Uint8Array>) {
    try {
      this.#byob = stream.getReader({ mode: "byob" });
    } catch {
      // Not a byte stream: getReader threw before locking it.
      this.#reader = stream.getReader();
    }
  }

  /** Fills `view` from a byte stream; returns the filled part (shorter only at the end). */
  async #fill(view: Uint8Array): Promise<Uint8Array> {
    let buffer = view.buffer as ArrayBuffer;
    const start = view.byteOffset;
    let filled = 0;
    while (filled < view.byteLength && !this.#done) {
      const want = view.byteLength - filled;
      // The read transfers the buffer; the result views the same memory in a new ArrayBuffer.
      // (`readAtLeast` is the runtime's typed form of the standard `read(view, { min })`.)
      const { value, done } = await this.#byob!.readAtLeast(want, new Uint8Array(buffer, start + filled, want));
      if (value) {
        buffer = value.buffer as ArrayBuffer;
        filled += value.byteLength;
      }
      if (done) this.#done = true;
    }
    return new Uint8Array(buffer, start, filled);
  }

  async #next(): Promise<Uint8Array | null> {
    if (this.#carry) {
      const c = this.#carry;
      this.#carry = null;
      return c;
    }
    if (this.#done) return null;
    const { value, done } = await this.#reader!.read();
    if (done) {
      this.#done = true;
      return null;
    }
    return value;
  }

  /**
   * Up to `size` bytes, shorter only at the end of the stream. `reuse`, a buffer of exactly `size`
   * bytes the caller is done with, is filled instead of a fresh one: a fresh 8 MiB buffer costs
   * page faults and zeroing, measurable on a thread that also runs the upload.
   */
  async read(size: number, reuse?: ArrayBuffer): Promise<Uint8Array> {
    if (this.#byob) {
      const slice = await this.#fill(reuse?.byteLength === size ? new Uint8Array(reuse) : new Uint8Array(size));
      this.consumed += slice.byteLength;
      return slice;
    }
    const buf = new Uint8Array(size);
    let filled = 0;
    while (filled < size) {
      const chunk = await this.#next();
      if (!chunk) break;
      const take = Math.min(chunk.byteLength, size - filled);
      buf.set(chunk.subarray(0, take), filled);
      filled += take;
      if (take < chunk.byteLength) this.#carry = chunk.subarray(take);
    }
    this.consumed += filled;
    return filled === size ? buf : buf.subarray(0, filled);
  }

  /** Discards up to `n` bytes; returns how many were discarded. */
  async skip(n: number): Promise<number> {
    let skipped = 0;
    if (this.#byob) {
      let scratch = new Uint8Array(Math.min(n, SKIP_BUFFER));
      while (skipped < n && !this.#done) {
        const got = await this.#fill(scratch.subarray(0, Math.min(scratch.byteLength, n - skipped)));
        skipped += got.byteLength;
        scratch = new Uint8Array(got.buffer as ArrayBuffer);
      }
      this.consumed += skipped;
      return skipped;
    }
    while (skipped < n) {
      const chunk = await this.#next();
      if (!chunk) break;
      const take = Math.min(chunk.byteLength, n - skipped);
      skipped += take;
      if (take < chunk.byteLength) this.#carry = chunk.subarray(take);
    }
    this.consumed += skipped;
    return skipped;
  }

  async cancel(): Promise<void> {
    await (this.#byob ?? this.#reader)!.cancel().catch(() => {});
  }
}

/** Streams an R2 object through SHA-256 (used after a resumed copy, whose digest state was lost). */
export async function hashObject(bucket: R2Bucket, key: string): Promise<string> {
  const obj = await bucket.get(key);
  if (!obj) throw new Error(`object ${key} vanished before it could be hashed`);
  const digest = new crypto.DigestStream("SHA-256");
  await obj.body.pipeTo(digest);
  return hex(await digest.digest);
}

/**
 * Runs one step of a copy. Call it again while it answers `partial`; after `retry` call it again
 * later (saved parts are kept); `stored` and `gone` are final. Waits for one of the isolate's
 * copy slots first (`copySlots`).
 */
export function copyStep(bucket: R2Bucket, state: CopyState, hooks: CopyHooks, opts: CopyOptions): Promise<CopyResult> {
  return copySlots.run(() => step(bucket, state, hooks, opts));
}

async function step(bucket: R2Bucket, state: CopyState, hooks: CopyHooks, opts: CopyOptions): Promise<CopyResult> {
  if (state.parts.length > 0 && state.uploadId) return resume(bucket, state, hooks, opts);
  if (state.uploadId) {
    // An upload was opened but no part landed: nothing worth keeping.
    await bucket
      .resumeMultipartUpload(state.key, state.uploadId)
      .abort()
      .catch(() => {});
    hooks.uploadDiscarded();
    state.uploadId = null;
    state.parts = [];
  }
  let res: Response;
  try {
    res = await hooks.fetchContent(null);
  } catch (err) {
    return { kind: "retry", reason: `content fetch failed: ${String(err)}` };
  }
  if (res.status !== 200 || !res.body) return refusal(res);
  const length = trustedLength(res.headers);
  if (length !== null && opts.maxBytes !== undefined && length > opts.maxBytes) {
    await res.body.cancel();
    return tooLarge(opts.maxBytes);
  }
  if (length !== null && length < SINGLE_PUT_LIMIT) return singlePut(bucket, state, res.body, length);
  // A fresh upload: its part size grows with the file (or, length unknown, with the most it may be).
  state.partSize = partSizeFor(length ?? opts.maxBytes ?? 0, state.partSize);
  return multipart(bucket, state, hooks, opts, new SliceReader(res.body), { expectedTotal: length, resumed: false });
}

/**
 * A SHA-256 DigestStream whose result may be abandoned: when a copy fails midway its writer is
 * aborted and nobody awaits `digest` any more, which would otherwise surface as an unhandled
 * rejection. Awaiting `digest` still sees the rejection.
 */
function sha256Stream(): DigestStream {
  const digest = new crypto.DigestStream("SHA-256");
  digest.digest.catch(() => {});
  return digest;
}

/** Bytes a single put moves per step: each is hashed, then written to the put's stream. */
const SINGLE_PUT_CHUNK = 1024 * 1024;

async function singlePut(
  bucket: R2Bucket,
  state: CopyState,
  body: ReadableStream<Uint8Array>,
  length: number,
): Promise<CopyResult> {
  const digest = sha256Stream();
  const hashWriter = digest.getWriter();
  const reader = new SliceReader(body);
  const fixed = new FixedLengthStream(length);
  const writer = fixed.writable.getWriter();
  // Hash the bytes as they pass on their way to R2: no second read, and at most a chunk or two in
  // memory (each write waits until the put has taken the chunk before it).
  const feed = async () => {
    for (;;) {
      const chunk = await reader.read(SINGLE_PUT_CHUNK);
      if (chunk.byteLength === 0) break;
      await hashWriter.write(chunk);
      await writer.write(chunk);
      if (chunk.byteLength < SINGLE_PUT_CHUNK) break;
    }
    await writer.close();
  };
  try {
    const [obj] = await Promise.all([
      bucket.put(state.key, fixed.readable, { httpMetadata: state.httpMetadata, customMetadata: state.customMetadata }),
      feed().catch(async (err: unknown) => {
        await writer.abort(err).catch(() => {});
        throw err;
      }),
    ]);
    await hashWriter.close();
    // FixedLengthStream already refuses a short or long body; the count is checked anyway.
    if (!obj || reader.consumed !== length) throw new Error(`saw ${reader.consumed} of ${length} bytes`);
    return { kind: "stored", bytes: length, sha256: hex(await digest.digest), etag: obj.httpEtag, multipart: false };
  } catch (err) {
    await reader.cancel();
    await hashWriter.abort().catch(() => {});
    return { kind: "retry", reason: `single put failed: ${String(err)}` };
  }
}

async function resume(bucket: R2Bucket, state: CopyState, hooks: CopyHooks, opts: CopyOptions): Promise<CopyResult> {
  const offset = state.parts.reduce((n, p) => n + p.size, 0);
  let res: Response;
  try {
    res = await hooks.fetchContent(offset);
  } catch (err) {
    return { kind: "retry", reason: `content fetch failed: ${String(err)}` };
  }
  if (res.status === 416) {
    // The stored parts already hold the whole file (it ended exactly on a part boundary).
    const range = parseContentRange(res.headers.get("content-range"));
    await res.body?.cancel();
    if (range?.total === offset) {
      hooks.resumed({ offset, rangeHonoured: true });
      return complete(bucket, state, hooks, { expectedTotal: offset, resumed: true, digest: null });
    }
    return { kind: "retry", reason: "upstream refused the resume range", status: 416 };
  }
  if (res.status === 206 && res.body) {
    const range = parseContentRange(res.headers.get("content-range"));
    if (range && range.start === offset) {
      hooks.resumed({ offset, rangeHonoured: true });
      return multipart(bucket, state, hooks, opts, new SliceReader(res.body), {
        expectedTotal: range.total,
        resumed: true,
      });
    }
    // A 206 for some other range cannot be spliced in: start a plain download instead.
    await res.body.cancel();
    try {
      res = await hooks.fetchContent(null);
    } catch (err) {
      return { kind: "retry", reason: `content fetch failed: ${String(err)}` };
    }
  }
  if (res.status !== 200 || !res.body) return refusal(res);
  // Upstream ignored Range: read past the bytes already stored, never append a whole body.
  hooks.resumed({ offset, rangeHonoured: false });
  const reader = new SliceReader(res.body);
  const skipped = await reader.skip(offset).catch(() => -1);
  if (skipped !== offset) {
    await reader.cancel();
    return { kind: "retry", reason: `upstream body ended after ${skipped} bytes, before the ${offset} already stored` };
  }
  return multipart(bucket, state, hooks, opts, reader, { expectedTotal: trustedLength(res.headers), resumed: true });
}

async function multipart(
  bucket: R2Bucket,
  state: CopyState,
  hooks: CopyHooks,
  opts: CopyOptions,
  reader: SliceReader,
  run: { expectedTotal: number | null; resumed: boolean },
): Promise<CopyResult> {
  // The digest only sees every byte when this step started at byte 0.
  const digest = run.resumed ? null : sha256Stream();
  const hashWriter = digest?.getWriter() ?? null;
  let upload = state.uploadId ? bucket.resumeMultipartUpload(state.key, state.uploadId) : null;
  let startedThisStep = 0;
  let nextPart = state.parts.length + 1;
  // Parts upload while the next is read, so the copy runs at the slower of the two legs rather
  // than their sum. Two uploads in flight, not one: the read and the upload share one thread, and
  // with a single upload queued R2 sat idle whenever the body's next bytes had not arrived yet.
  // At most UPLOADS_IN_FLIGHT + 1 parts are in memory. Parts are still recorded in order: each
  // part's record waits for the one before it, and the first failure is what every later one reports.
  const window: Promise<CopyResult | null>[] = [];
  let recorded: Promise<CopyResult | null> = Promise.resolve(null);
  // The buffer of a part R2 has accepted is free again: a later read fills it.
  const spare: ArrayBuffer[] = [];
  /** Waits for every started part to be recorded; the first failure, if any. */
  const settle = async (): Promise<CopyResult | null> => {
    window.length = 0;
    return recorded;
  };
  /** Ends the step: waits out the uploads still running (so none lands after a retry began), stops reading. */
  const fail = async (result: CopyResult): Promise<CopyResult> => {
    await settle();
    await reader.cancel();
    await hashWriter?.abort().catch(() => {});
    return result;
  };
  try {
    for (;;) {
      let slice: Uint8Array;
      try {
        slice = await reader.read(state.partSize, spare.pop());
      } catch (err) {
        await settle();
        await reader.cancel();
        return { kind: "retry", reason: `upstream body failed after ${reader.consumed} bytes: ${String(err)}` };
      }
      while (window.length >= UPLOADS_IN_FLIGHT) {
        const failed = await window.shift()!;
        if (failed) return fail(failed);
      }
      if (opts.maxBytes !== undefined && reader.consumed > opts.maxBytes) {
        // No trustworthy length up front (gzip, chunked): the limit is enforced as bytes arrive.
        await fail(tooLarge(opts.maxBytes));
        if (state.uploadId)
          await bucket
            .resumeMultipartUpload(state.key, state.uploadId)
            .abort()
            .catch(() => {});
        hooks.uploadDiscarded();
        return tooLarge(opts.maxBytes);
      }
      if (hashWriter && slice.byteLength > 0) await hashWriter.write(slice);
      const ended = slice.byteLength < state.partSize;

      if (state.parts.length === 0 && startedThisStep === 0 && ended) {
        // The whole body fit in the first part: one put of a buffer (its length is known).
        if (run.expectedTotal !== null && slice.byteLength !== run.expectedTotal) {
          return {
            kind: "retry",
            reason: `body had ${slice.byteLength} bytes, Content-Length said ${run.expectedTotal}`,
          };
        }
        const obj = await bucket.put(state.key, slice, {
          httpMetadata: state.httpMetadata,
          customMetadata: state.customMetadata,
        });
        await hashWriter!.close();
        return {
          kind: "stored",
          bytes: slice.byteLength,
          sha256: hex(await digest!.digest),
          etag: obj!.httpEtag,
          multipart: false,
        };
      }

      if (slice.byteLength > 0) {
        if (!upload) {
          upload = await bucket.createMultipartUpload(state.key, {
            httpMetadata: state.httpMetadata,
            customMetadata: state.customMetadata,
          });
          state.uploadId = upload.uploadId;
          hooks.uploadStarted(upload.uploadId, state.partSize);
        }
        const partNumber = nextPart++;
        const size = slice.byteLength;
        const uploaded = upload.uploadPart(partNumber, slice);
        // Its rejection is read below, possibly only after an earlier part's failure ended the step.
        uploaded.catch(() => {});
        startedThisStep++;
        recorded = recorded.then(async (failed) => {
          if (failed) return failed;
          try {
            const part = { partNumber, etag: (await uploaded).etag, size };
            state.parts.push(part);
            hooks.partStored(part);
            spare.push(slice.buffer as ArrayBuffer);
            return null;
          } catch (err) {
            return { kind: "retry", reason: `part ${partNumber} upload failed: ${String(err)}` } satisfies CopyResult;
          }
        });
        window.push(recorded);
      }

      if (ended) {
        const last = await settle();
        if (last) {
          await hashWriter?.abort().catch(() => {});
          return last;
        }
        if (hashWriter) await hashWriter.close();
        return complete(bucket, state, hooks, { expectedTotal: run.expectedTotal, resumed: run.resumed, digest });
      }
      if (startedThisStep >= opts.maxParts) {
        const last = await settle();
        const partial: CopyResult = { kind: "partial", bytesStored: state.parts.reduce((n, p) => n + p.size, 0) };
        return fail(last ?? partial);
      }
    }
  } catch (err) {
    await settle().catch(() => null);
    await reader.cancel();
    await hashWriter?.abort().catch(() => {});
    return { kind: "retry", reason: `copy failed: ${String(err)}` };
  }
}

async function complete(
  bucket: R2Bucket,
  state: CopyState,
  hooks: CopyHooks,
  run: { expectedTotal: number | null; resumed: boolean; digest: DigestStream | null },
): Promise<CopyResult> {
  const total = state.parts.reduce((n, p) => n + p.size, 0);
  const upload = bucket.resumeMultipartUpload(state.key, state.uploadId!);
  if (run.expectedTotal !== null && total !== run.expectedTotal) {
    // The stored parts do not add up to the file upstream describes: start over from scratch.
    await upload.abort().catch(() => {});
    hooks.uploadDiscarded();
    return { kind: "retry", reason: `stored ${total} bytes, upstream length is ${run.expectedTotal}` };
  }
  let obj: R2Object;
  try {
    obj = await upload.complete(state.parts.map(({ partNumber, etag }) => ({ partNumber, etag })));
  } catch (err) {
    // An earlier run may have completed the upload and been evicted before saving that fact.
    const head = await bucket.head(state.key).catch(() => null);
    if (head && head.size === total) {
      return {
        kind: "stored",
        bytes: total,
        sha256: await hashObject(bucket, state.key),
        etag: head.httpEtag,
        multipart: true,
      };
    }
    return { kind: "retry", reason: `completing the upload failed: ${String(err)}` };
  }
  const sha256 = run.digest && !run.resumed ? hex(await run.digest.digest) : await hashObject(bucket, state.key);
  return { kind: "stored", bytes: total, sha256, etag: obj.httpEtag, multipart: true };
}
