/**
 * Helpers for scenario tests: what upstream really said (the simulator's stored response and its
 * ground truth), and the checks every answer of unsandbox must pass against it.
 */
import { env, exports } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { expect } from "vitest";
import { findSandboxRefs } from "../../../src/links/find";
import type { ContainerTracker } from "../../../src/tracker/container-tracker";
import { trackerFor } from "../../../src/tracker/stubs";
import { age } from "./tracker";
import { direct, download, sim, UNSANDBOX_KEY } from "./clients";

export const TOOLS = [{ type: "code_interpreter" as const, container: { type: "auto" as const } }];
export const FILES_ORIGIN = "https://files.unsandbox.test";

export interface Truth {
  id: string;
  container_id: string | null;
  written: { file_id: string; path: string; bytes: number; sha256: string }[];
  claimed: string[];
  cited: string[];
}

export interface AnswerFile {
  file_id: string | null;
  container_id: string;
  path: string;
  url: string;
  state: string;
  sha256: string | null;
  cited: string[];
}

type Part = {
  type: string;
  text?: string;
  annotations?: {
    type: string;
    start_index?: number;
    end_index?: number;
    url?: string;
    filename?: string;
    file_id?: string;
  }[];
};
type Item = { type: string; content?: Part[] };

export const truthOf = (id: string) => sim<Truth>(`/responses/${id}`);

/** Output-text parts in order. */
export function textsOf(response: { output?: unknown[] }): Part[] {
  return ((response.output as Item[] | undefined) ?? []).flatMap((i) =>
    i.type === "message" ? (i.content ?? []).filter((p) => p.type === "output_text") : [],
  );
}

/** Upstream's own copy of the response (the simulator stores it), outputs included. */
export async function upstreamCopy(id: string) {
  return direct().responses.retrieve(id, { include: ["code_interpreter_call.outputs"] });
}

const URL_RE = new RegExp(`${FILES_ORIGIN.replace(/[.]/g, "\\.")}/files/[A-Za-z0-9_-]+/[A-Za-z0-9._~%-]*`, "g");

/**
 * The rewritten text equals upstream's text with exactly its sandbox destinations replaced, as
 * many as upstream had, and no sandbox destination is left outside code.
 */
export function expectOnlyLinksRewritten(ours: { output?: unknown[] }, theirs: { output?: unknown[] }) {
  const a = textsOf(ours);
  const b = textsOf(theirs);
  expect(a.length).toBe(b.length);
  let links = 0;
  b.forEach((part, i) => {
    const text = a[i]!.text!;
    const urls = [...text.matchAll(URL_RE)].map((m) => m[0]);
    const refs = findSandboxRefs(part.text!);
    expect(urls.length).toBe(refs.length);
    let expected = "";
    let at = 0;
    refs.forEach((ref, k) => {
      expected += part.text!.slice(at, ref.start) + urls[k];
      at = ref.end;
    });
    expected += part.text!.slice(at);
    expect(text).toBe(expected);
    expect(findSandboxRefs(text)).toEqual([]);
    links += refs.length;
  });
  return links;
}

/** Expires the container upstream, then downloads every stored file: bytes equal upstream's. */
export async function expectDownloadsAfterExpiry(files: AnswerFile[], truth: Truth) {
  if (truth.container_id) await sim(`/containers/${truth.container_id}/expire`, { body: {} });
  for (const w of truth.written) {
    const entry = files.find((f) => f.file_id === w.file_id);
    expect(entry, `manifest lists ${w.path}`).toBeTruthy();
    const got = await download(entry!.url);
    expect(got.status, `${w.path} downloads`).toBe(200);
    expect(got.sha256).toBe(w.sha256);
  }
}

/** Lets the container's tracker finish its sweep window now (ten minutes pass for it). */
export async function closeSweepWindow(containerId: string) {
  await age(containerId, 10 * 60_000);
  await runDurableObjectAlarm(trackerFor(env, containerId));
}

/**
 * Drives the response's trackers (runs their due alarm work now, as the platform would later)
 * and polls the manifest route until every file upstream wrote is stored. Bounded by rounds,
 * not by a time budget; the real alarms keep running meanwhile.
 */
export async function converge(id: string, truth: Truth, rounds = 120): Promise<AnswerFile[]> {
  let files: AnswerFile[] = [];
  for (let i = 0; i < rounds; i++) {
    const r = await exports.default.fetch(`https://unsandbox.test/v1/responses/${id}/files`, {
      headers: { authorization: `Bearer ${UNSANDBOX_KEY}` },
    });
    if (r.ok) files = ((await r.json()) as { data: AnswerFile[] }).data;
    if (truth.written.every((w) => files.find((f) => f.file_id === w.file_id)?.state === "stored")) return files;
    if (truth.container_id) await runDurableObjectAlarm(trackerFor(env, truth.container_id));
    await new Promise((r) => setTimeout(r, 250));
  }
  return files;
}
