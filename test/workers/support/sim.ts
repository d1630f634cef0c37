/**
 * Helpers for the simulator's own tests: the official `openai` SDK pointed at the simulator
 * (every outbound fetch from the test reaches the auxiliary worker `sim`), and the control API.
 */
import OpenAI from "openai";
import { SIM_KEY } from "../../test-keys";

export { SIM_KEY };
export const BASE = "https://api.openai.com";

/** The official SDK, as an app would configure it, without retries so faults stay visible. */
export function client(opts: { maxRetries?: number; apiKey?: string } = {}): OpenAI {
  return new OpenAI({ apiKey: opts.apiKey ?? SIM_KEY, baseURL: `${BASE}/v1`, maxRetries: opts.maxRetries ?? 0 });
}

/** Calls the control API and returns its JSON (throws on a non-2xx). */
export async function control<T = any>(path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${BASE}/__sim${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`control ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json as T;
}

/** A raw authenticated request to the simulated API. */
export function api(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set("authorization", `Bearer ${SIM_KEY}`);
  return fetch(`${BASE}/v1${path}`, { ...init, headers });
}

/** sha256 hex of bytes. */
export async function sha256(bytes: ArrayBuffer | Uint8Array): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", bytes);
  return Array.from(new Uint8Array(d), (b) => b.toString(16).padStart(2, "0")).join("");
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Reads a body fully, returning the bytes read and whether the read failed midway. */
export async function drain(body: ReadableStream<Uint8Array> | null): Promise<{ bytes: Uint8Array; failed: boolean }> {
  const chunks: Uint8Array[] = [];
  let failed = false;
  if (body) {
    const reader = body.getReader();
    try {
      for (;;) {
        const r = await reader.read();
        if (r.done) break;
        chunks.push(r.value);
      }
    } catch {
      failed = true;
    }
  }
  const total = chunks.reduce((n, c) => n + c.length, 0);
  const bytes = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    bytes.set(c, o);
    o += c.length;
  }
  return { bytes, failed };
}

/** Parses an SSE body into its events. */
export async function sseEvents(res: Response): Promise<{ event: string; data: any }[]> {
  const text = await res.text();
  return text
    .split("\n\n")
    .filter((f) => f.trim())
    .map((frame) => {
      const event = /^event: (.*)$/m.exec(frame)?.[1] ?? "";
      const data = JSON.parse(/^data: (.*)$/m.exec(frame)?.[1] ?? "null");
      return { event, data };
    });
}
