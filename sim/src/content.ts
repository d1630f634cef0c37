/**
 * @module content
 * Deterministic file bytes, produced as a stream in 64 KiB chunks so a file of hundreds of MB is
 * never held in memory. A file's bytes are a function of its seed (from its id) and its name:
 * `.pdf` starts with a minimal valid PDF, `.png` with a small valid PNG, `.csv` is fixed-width
 * rows, text-like names get fixed-width lines, anything else is pseudo-random bytes (an AES-CTR
 * keystream keyed by the seed). Every byte
 * is computable from its offset, so a `Range` answer does not have to generate what it skips.
 */
import { Prng, mix } from "./prng";
import type { SimFile } from "./state";

const CHUNK = 64 * 1024;
const enc = new TextEncoder();

/** A 16×16 RGB gradient PNG (valid, 463 bytes); also the "figure" the tool call shows. */
export const PNG_BASE64 =
  "iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAIAAACQkWg2AAABlklEQVR42hXRURVEIQhFUSMYgQhGMAIRiGCEE8EIRiACEYhABCLMG7/ZrMt1jMEcyGAN9kAHNjgDBnfwBj6IQQ5q0IMxJnMikzXZE53Y5EyY3Mmb+CQmOalJzw8IUxBhCVtQwYQjIFzhCS6EkEIJLR9YzIUs1mIvdGGLs2BxF2/hi1jkoha9PrCZG9mszd7oxjZnw+Zu3sY3sclNbXp/QJmKKEvZiiqmHAXlKk9xJZRUSmn9gDENMZaxDTXMOAbGNZ7hRhhplNH2gcM8yGEd9kEPdjgHDvfwDn6IQx7q0OcD/wK/Sr4jv9hfkG/1N/x/Fx44BCQU9Pc94zIvclmXfdGLXc79j9/Lu/glLnmpS98PPOZDHuuxH/qwx3n/5ffxHv6IRz7q0e8DznTEWc521DHn+D/KdZ7jTjjplNP+gWAGEqxgBxpYcOIf/AYv8CCCDCro+EAyE0lWshNNLDn5P/MmL/Ekkkwq6fxAMQspVrELLaw49S/lFq/wIoosquj6QDMbaVazG22sOf2v8Dav8SaabKrp5geIAnAQC3NfwAAAAABJRU5ErkJggg==";

export const PNG_BYTES = Uint8Array.from(atob(PNG_BASE64), (c) => c.charCodeAt(0));

/** How the bytes after the header are made. */
type Filler = { kind: "random" } | { kind: "lines"; width: number; line: (i: number) => string }; // fixed-width ASCII lines

interface Layout {
  prefix: Uint8Array;
  filler: Filler;
}

const TEXT_EXT = new Set(["txt", "md", "json", "log", "html", "xml", "py", "js", "ts", "yaml", "yml", "tsv"]);

/** The extension of a path, lower-case, without the dot ("" when none). */
export function extOf(path: string): string {
  const base = path.slice(path.lastIndexOf("/") + 1);
  const dot = base.lastIndexOf(".");
  return dot > 0 ? base.slice(dot + 1).toLowerCase() : "";
}

/** A minimal one-page PDF whose xref offsets are right; readers ignore what follows `%%EOF`. */
function minimalPdf(title: string): Uint8Array {
  const text = title
    .replace(/[()\\]/g, "")
    .replace(/[^\x20-\x7e]/g, "?")
    .slice(0, 60);
  const stream = `BT /F1 18 Tf 72 720 Td (${text}) Tj ET`;
  const objects = [
    "<< /Type /Catalog /Pages 2 0 R >>",
    "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
    `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`,
    "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
  ];
  let out = "%PDF-1.4\n";
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const o of offsets) out += `${String(o).padStart(10, "0")} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return enc.encode(out);
}

const LETTERS = "abcdefghijklmnopqrstuvwxyz";

function layoutFor(file: Pick<SimFile, "path" | "body">): Layout {
  const seed = file.body.kind === "generated" ? file.body.seed : 1;
  const ext = extOf(file.path);
  const name = file.path.slice(file.path.lastIndexOf("/") + 1);
  if (ext === "pdf") {
    // Padding after %%EOF: comment lines, so the document stays readable.
    return {
      prefix: minimalPdf(`unsandbox sim: ${name} #${seed.toString(16).padStart(8, "0")}`),
      filler: { kind: "lines", width: 64, line: () => "%" },
    };
  }
  if (ext === "png") return { prefix: PNG_BYTES, filler: { kind: "random" } };
  if (ext === "csv") {
    const header = enc.encode("row,value,square\n");
    // 32-byte rows: "00000001,1234567890,000000000001\n" (row number, a seeded value, row²).
    const line = (i: number) => {
      const n = i + 1;
      const v = new Prng(mix(seed, n)).next() % 1e10;
      return `${String(n).padStart(8, "0")},${String(v).padStart(10, "0")},${String((n * n) % 1e12).padStart(12, "0")}`;
    };
    return { prefix: header, filler: { kind: "lines", width: 33, line } };
  }
  if (TEXT_EXT.has(ext)) {
    const header = enc.encode(`unsandbox simulated file ${name}\n`);
    const line = (i: number) => {
      const r = new Prng(mix(seed, i + 1));
      let words = `${String(i + 1).padStart(8, "0")}:`;
      while (words.length < 60) {
        let w = " ";
        for (let k = r.int(2, 8); k > 0; k--) w += LETTERS[r.int(0, 25)];
        words += w;
      }
      return words.slice(0, 63);
    };
    return { prefix: header, filler: { kind: "lines", width: 64, line } };
  }
  return { prefix: new Uint8Array(0), filler: { kind: "random" } };
}

/** The natural size of a document type (its header alone), used when a scenario gives no size. */
export function naturalSize(path: string): number {
  const ext = extOf(path);
  // The seed shows in the PDF's text as 8 hex digits at most; a PNG gets 16 seeded bytes after IEND.
  if (ext === "pdf") return layoutFor({ path, body: { kind: "generated", seed: 0xffffffff } }).prefix.length;
  if (ext === "png") return PNG_BYTES.length + 16;
  if (ext === "csv") return 17 + 33 * 64; // header + 64 rows
  return 2048;
}

/** The key of a file's pseudo-random filler, derived from its seed. */
function fillerKey(seed: number): Promise<CryptoKey> {
  const raw = new Uint32Array([mix(seed, 1), mix(seed, 2), mix(seed, 3), mix(seed, 4)]);
  return crypto.subtle.importKey("raw", raw, { name: "AES-CTR" }, false, ["encrypt"]);
}

const ZEROS = new Uint8Array(CHUNK + 16);

/**
 * Bytes [from, from + length) of the file's AES-CTR keystream (length ≤ CHUNK). Native crypto makes
 * gigabytes a second where a JS generator made about a hundred megabytes, so a download from the
 * simulator is never the slow side of a benchmark; the counter is the 16-byte block number, so any
 * offset is reachable without generating what comes before it.
 */
async function keystream(key: CryptoKey, from: number, length: number): Promise<Uint8Array> {
  const block = Math.floor(from / 16);
  const skip = from - block * 16;
  const counter = new Uint8Array(16);
  new DataView(counter.buffer).setBigUint64(8, BigInt(block));
  const out = await crypto.subtle.encrypt(
    { name: "AES-CTR", counter, length: 64 },
    key,
    ZEROS.subarray(0, skip + length),
  );
  return new Uint8Array(out, skip, length);
}

/** Writes the bytes at [offset, offset + out.length) of a text-like file (prefix, then fixed-width lines). */
function fillLines(layout: Layout, f: Extract<Filler, { kind: "lines" }>, offset: number, out: Uint8Array) {
  let pos = offset;
  let w = 0;
  const pre = layout.prefix;
  while (w < out.length && pos < pre.length) out[w++] = pre[pos++]!;
  let q = pos - pre.length;
  while (w < out.length) {
    const i = Math.floor(q / f.width);
    const text =
      f
        .line(i)
        .padEnd(f.width - 1, " ")
        .slice(0, f.width - 1) + "\n";
    for (let k = q - i * f.width; k < f.width && w < out.length; k++, q++) out[w++] = text.charCodeAt(k) & 0x7f;
  }
}

/**
 * The bytes [start, end) of a file as a stream of ≤ 64 KiB chunks, generated on demand (pull),
 * so backpressure from a slow reader stops generation.
 */
export function contentStream(file: SimFile, start = 0, end = file.size): ReadableStream<Uint8Array> {
  if (file.body.kind === "stored") {
    const bytes = file.body.bytes.subarray(start, end);
    return new ReadableStream({
      start(ctl) {
        if (bytes.length) ctl.enqueue(bytes.slice());
        ctl.close();
      },
    });
  }
  const layout = layoutFor(file);
  const seed = file.body.kind === "generated" ? file.body.seed : 1;
  const pre = layout.prefix;
  const filler = layout.filler;
  let key: Promise<CryptoKey> | undefined;
  let pos = start;
  return new ReadableStream<Uint8Array>(
    {
      async pull(ctl) {
        if (pos >= end) {
          ctl.close();
          return;
        }
        const n = Math.min(CHUNK, end - pos);
        let chunk: Uint8Array;
        if (filler.kind === "lines") {
          chunk = new Uint8Array(n);
          fillLines(layout, filler, pos, chunk);
        } else if (pos >= pre.length) {
          chunk = await keystream(await (key ??= fillerKey(seed)), pos - pre.length, n);
        } else {
          chunk = new Uint8Array(n);
          const head = Math.min(n, pre.length - pos);
          chunk.set(pre.subarray(pos, pos + head));
          if (head < n) chunk.set(await keystream(await (key ??= fillerKey(seed)), 0, n - head), head);
        }
        pos += n;
        ctl.enqueue(chunk);
      },
    },
    { highWaterMark: 0 },
  );
}

/** sha256 (hex) of a file's bytes, computed by streaming and cached on the file. */
export async function fileSha256(file: SimFile): Promise<string> {
  if (file.sha256) return file.sha256;
  const digest = new crypto.DigestStream("SHA-256");
  await contentStream(file).pipeTo(digest);
  const hex = Array.from(new Uint8Array(await digest.digest), (b) => b.toString(16).padStart(2, "0")).join("");
  file.sha256 = hex;
  return hex;
}
