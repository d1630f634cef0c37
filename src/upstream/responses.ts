/**
 * @module upstream/responses
 * Reading one response back from upstream (`GET /v1/responses/{id}`,
 * https://platform.openai.com/docs/api-reference/responses/get), with the code interpreter's
 * outputs included: how a background response is polled until it ends. Polling a response (not
 * a container) does not refresh any container's `last_active_at`.
 */
import type { Config } from "../config";
import { upstreamFetch } from "./fetch";

/** A response as read back: its id and status, the rest left as upstream sent it. */
export interface PolledResponse {
  id: string;
  status?: string;
  model?: unknown;
  created_at?: unknown;
  output?: unknown;
}

export type PollResult =
  | { kind: "response"; response: PolledResponse }
  /** Upstream does not know the response (404): it will not appear later. */
  | { kind: "gone"; error: string }
  /** Any other failure: worth another poll. */
  | { kind: "failed"; error: string };

/** Reads the response once. Never throws. */
export async function pollResponse(config: Config, responseId: string): Promise<PollResult> {
  try {
    const res = await upstreamFetch(config, {
      method: "GET",
      path: `/responses/${encodeURIComponent(responseId)}?include[]=code_interpreter_call.outputs`,
    });
    if (res.status === 404) {
      await res.body?.cancel();
      return { kind: "gone", error: `upstream answered 404 for ${responseId}` };
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new Error(`upstream answered ${res.status}`);
    }
    return { kind: "response", response: (await res.json()) as PolledResponse };
  } catch (err) {
    return { kind: "failed", error: String(err) };
  }
}
