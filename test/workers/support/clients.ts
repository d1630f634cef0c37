/**
 * Clients for the workerd tests: the official openai SDK pointed at unsandbox (through the
 * Worker's own fetch handler) and straight at the simulated upstream (every outbound fetch in
 * the test worker goes to the simulator).
 */
import { exports } from "cloudflare:workers";
import OpenAI from "openai";

export const UNSANDBOX_KEY = "usk_test_0123456789abcdef";
export const SIM = "https://api.openai.com";

/** The SDK as an app would use it, with only `baseURL` and the key changed. */
export function unsandbox(options: { headers?: Record<string, string> } = {}): OpenAI {
  return new OpenAI({
    apiKey: UNSANDBOX_KEY,
    baseURL: "https://unsandbox.test/v1",
    maxRetries: 0,
    defaultHeaders: options.headers,
    fetch: (input, init) => exports.default.fetch(new Request(input as RequestInfo, init as RequestInit)),
  });
}

/** The SDK straight to the simulator, as the ground truth. */
export function direct(): OpenAI {
  return new OpenAI({ apiKey: "sk-sim-test", baseURL: `${SIM}/v1`, maxRetries: 0 });
}

export async function sim<T = unknown>(path: string, init?: { method?: string; body?: unknown }): Promise<T> {
  const res = await fetch(`${SIM}/__sim${path}`, {
    method: init?.method ?? (init?.body === undefined ? "GET" : "POST"),
    headers: { "content-type": "application/json" },
    body: init?.body === undefined ? undefined : JSON.stringify(init.body),
  });
  if (!res.ok) throw new Error(`sim ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** Downloads a URL through unsandbox's own fetch handler; returns status, headers and sha256. */
export async function download(url: string, init?: RequestInit) {
  const res = await exports.default.fetch(url, init);
  const bytes = new Uint8Array(await res.arrayBuffer());
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  const sha256 = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
  return { status: res.status, headers: res.headers, bytes, sha256 };
}
