/**
 * @module widget/api
 * The widget's calls to unsandbox, with a publishable key:
 * - `POST /widget/session` (the browser adds `Origin`; unsandbox checks it against the key's
 *   allowed origins) → `{ session, expires_at }`, kept until shortly before it expires;
 * - `POST /v1/responses` with `stream: true`, read as Server-Sent Events (widget/src/sse.ts);
 * - `GET /v1/responses/{id}/files`, polled while copies run.
 * Every call sends `Authorization: Bearer pk_…` and `x-unsandbox-session`. A 401 refreshes the
 * session once (it may have expired while the tab slept).
 */
import type { FileEntry } from "./files";
import { readSse } from "./sse";

/** An error with what the visitor may be told (never upstream internals: unsandbox hides those). */
export class WidgetError extends Error {
  override readonly name = "WidgetError";
  constructor(
    message: string,
    readonly status: number,
    readonly code: string | null,
  ) {
    super(message);
  }
}

/** One streamed Responses API event, parsed from its `data:` JSON. */
export interface StreamEvent {
  type: string;
  [field: string]: unknown;
}

export interface CreateBody {
  model: string;
  input: string;
  previous_response_id?: string;
}

/**
 * unsandbox checks the `Origin` of publishable-key calls. A page with `Referrer-Policy: no-referrer`
 * (a common hardening header) makes the browser send `Origin: null` on same-origin POSTs (Fetch
 * standard, "append a request Origin header"), which no allow list can match; a per-request
 * policy overrides the page's, and sends no more than the origin cross-origin.
 */
const REFERRER_POLICY: ReferrerPolicy = "strict-origin-when-cross-origin";

export class WidgetClient {
  #session: { token: string; expiresAt: number } | null = null;
  #pending: Promise<string> | null = null;

  constructor(
    readonly endpoint: string,
    readonly key: string,
  ) {}

  /** A valid session token, fetched once and shared by concurrent callers. */
  session(force = false): Promise<string> {
    const now = Date.now() / 1000;
    if (!force && this.#session && this.#session.expiresAt - 30 > now) return Promise.resolve(this.#session.token);
    this.#pending ??= (async () => {
      try {
        const res = await fetch(`${this.endpoint}/widget/session`, {
          method: "POST",
          headers: { authorization: `Bearer ${this.key}` },
          credentials: "omit",
          referrerPolicy: REFERRER_POLICY,
        });
        if (!res.ok) throw await errorFrom(res);
        const body = (await res.json()) as { session?: unknown; expires_at?: unknown };
        if (typeof body.session !== "string")
          throw new WidgetError("unsandbox answered the session request without a session", res.status, null);
        this.#session = {
          token: body.session,
          expiresAt: typeof body.expires_at === "number" ? body.expires_at : now + 600,
        };
        return body.session;
      } finally {
        this.#pending = null;
      }
    })();
    return this.#pending;
  }

  async #fetch(path: string, init: RequestInit): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      const token = await this.session(attempt > 0);
      const headers = new Headers(init.headers);
      headers.set("authorization", `Bearer ${this.key}`);
      headers.set("x-unsandbox-session", token);
      const res = await fetch(`${this.endpoint}${path}`, {
        ...init,
        headers,
        credentials: "omit",
        referrerPolicy: REFERRER_POLICY,
      });
      if (res.status === 401 && attempt === 0) {
        await res.body?.cancel();
        continue;
      }
      if (!res.ok) throw await errorFrom(res);
      return res;
    }
  }

  /** Streams one turn: yields each event of `POST /v1/responses` with `stream: true`. */
  async *stream(body: CreateBody, signal: AbortSignal): AsyncGenerator<StreamEvent> {
    const res = await this.#fetch("/v1/responses", {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream" },
      body: JSON.stringify({
        ...body,
        stream: true,
        tools: [{ type: "code_interpreter", container: { type: "auto" } }],
      }),
      signal,
    });
    if (!res.body) throw new WidgetError("unsandbox sent an empty stream", res.status, null);
    for await (const ev of readSse(res.body, signal)) {
      if (ev.data === "[DONE]") return;
      let parsed: unknown;
      try {
        parsed = JSON.parse(ev.data);
      } catch {
        continue; // not an event of the Responses API; nothing to show
      }
      if (parsed && typeof parsed === "object" && typeof (parsed as StreamEvent).type === "string")
        yield parsed as StreamEvent;
    }
  }

  /** The current states of a response's files. */
  async files(responseId: string, signal?: AbortSignal): Promise<FileEntry[]> {
    const res = await this.#fetch(`/v1/responses/${encodeURIComponent(responseId)}/files`, { method: "GET", signal });
    const body = (await res.json()) as { data?: FileEntry[]; files?: FileEntry[] };
    return body.data ?? body.files ?? [];
  }
}

async function errorFrom(res: Response): Promise<WidgetError> {
  let message = `unsandbox answered ${res.status}`;
  let code: string | null = null;
  try {
    const body = (await res.json()) as { error?: { message?: string; code?: string | null } };
    if (body.error?.message) message = body.error.message;
    code = body.error?.code ?? null;
  } catch {}
  return new WidgetError(message, res.status, code);
}
