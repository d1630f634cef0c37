/**
 * The official SDK's Responses WebSocket client in workerd. The SDK ships it for Node (`ResponsesWS`
 * over the `ws` package); its base class `ResponsesWSBase` takes any socket behind the SDK's small
 * socket interface. workerd opens a client WebSocket with `fetch` and `Upgrade: websocket` (the
 * only way to send the SDK's `Authorization` header), so this adapter connects that way, through
 * the given fetcher (the Worker's own handler in the tests), and speaks the interface: `open`,
 * `message` (data, isBinary), `close` (code, reason), `error`.
 */
import type OpenAI from "openai";
import { ResponsesWSBase } from "openai/resources/responses/ws-base";

type Listener = (...args: any[]) => void;

class FetchedSocket {
  readyState = 0;
  #ws: WebSocket | undefined;
  readonly #listeners = new Map<string, Set<Listener>>();

  constructor(url: URL, headers: Record<string, string>, fetcher: (req: Request) => Promise<Response>) {
    const http = new URL(url);
    http.protocol = url.protocol === "ws:" ? "http:" : "https:";
    fetcher(new Request(http, { headers: { ...headers, upgrade: "websocket" } })).then(
      (res) => {
        const ws = res.webSocket;
        if (!ws) {
          this.readyState = 3;
          this.#emit("error", new Error(`the upgrade was answered ${res.status}`));
          this.#emit("close", 1006, "");
          return;
        }
        ws.accept();
        this.#ws = ws;
        this.readyState = 1;
        ws.addEventListener("message", (m) => this.#emit("message", m.data, typeof m.data !== "string"));
        ws.addEventListener("close", (e) => {
          this.readyState = 3;
          this.#emit("close", e.code, e.reason);
        });
        ws.addEventListener("error", () => this.#emit("error", new Error("socket error")));
        this.#emit("open");
      },
      (err: unknown) => {
        this.readyState = 3;
        this.#emit("error", err instanceof Error ? err : new Error(String(err)));
        this.#emit("close", 1006, "");
      },
    );
  }

  send(data: string | ArrayBufferLike | ArrayBufferView): void {
    this.#ws!.send(data as string);
  }

  close(code = 1000, reason = ""): void {
    this.readyState = 2;
    this.#ws?.close(code, reason);
  }

  on(event: string, listener: Listener): void {
    if (!this.#listeners.has(event)) this.#listeners.set(event, new Set());
    this.#listeners.get(event)!.add(listener);
  }

  off(event: string, listener: Listener): void {
    this.#listeners.get(event)?.delete(listener);
  }

  once(event: string, listener: Listener): void {
    const wrapped: Listener = (...args) => {
      this.off(event, wrapped);
      listener(...args);
    };
    this.on(event, wrapped);
  }

  #emit(event: string, ...args: unknown[]): void {
    for (const listener of [...(this.#listeners.get(event) ?? [])]) listener(...args);
  }
}

/** `ResponsesWS` for workerd: the SDK's client, its socket opened through `fetcher`. */
export class WorkerdResponsesWS extends ResponsesWSBase<FetchedSocket> {
  readonly #fetcher: (req: Request) => Promise<Response>;

  constructor(client: OpenAI, fetcher: (req: Request) => Promise<Response>) {
    super(client);
    this.#fetcher = fetcher;
    this._connectInitial();
  }

  protected _createSocket(url: URL, authHeaders: Record<string, string>): FetchedSocket {
    return new FetchedSocket(url, authHeaders, this.#fetcher);
  }
}
