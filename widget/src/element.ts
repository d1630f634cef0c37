/**
 * @module widget/element
 * `<unsandbox-chat endpoint="https://unsandbox.example.com" key="pk_…">`: a chat that streams
 * answers from unsandbox and shows every file the model wrote as a card with a download button.
 *
 * Built for host pages it does not control: an open Shadow DOM (host CSS stays out, tests and
 * assistive tech can still reach in), a constructable stylesheet (no inline styles, so a strict
 * `style-src` is fine), no `eval`, and no `innerHTML` or other Trusted Types sink, so it runs
 * under `require-trusted-types-for 'script'` even with `trusted-types 'none'`: there is nothing a
 * policy would have to vouch for. The attributes and events are documented in README "Widget".
 */
import { WidgetClient, WidgetError, type StreamEvent } from "./api";
import { cardStatus, entryKey, isSettling, type FileEntry } from "./files";
import { formatBytes, isRasterImage, typeLabel } from "./format";
import { renderMarkdown } from "./render";
import { widgetSheet } from "./styles";

/** Replaced by the build (scripts/build-widget.mjs) with package.json's version. */
declare const __WIDGET_VERSION__: string;

/** Poll `GET /v1/responses/{id}/files` while copies run: quickly at first, then less often. */
const POLL_DELAYS_MS = [500, 1000, 1000, 2000, 2000, 3000, 5000];
const POLL_BUDGET_MS = 5 * 60_000;

interface Turn {
  article: HTMLElement;
  body: HTMLElement;
  files: HTMLUListElement;
  texts: Map<string, string>;
  cards: Map<string, HTMLLIElement>;
  ready: Set<string>;
  responseId: string | null;
  renderQueued: boolean;
}

export class UnsandboxChat extends HTMLElement {
  static readonly version: string = typeof __WIDGET_VERSION__ === "string" ? __WIDGET_VERSION__ : "dev";
  static readonly observedAttributes = ["endpoint", "key", "placeholder", "label"];

  readonly #root: ShadowRoot;
  #log!: HTMLElement;
  #status!: HTMLElement;
  #announce!: HTMLElement;
  #input!: HTMLTextAreaElement;
  #button!: HTMLButtonElement;
  #region!: HTMLElement;
  #client: WidgetClient | null = null;
  #previousResponseId: string | null = null;
  #abort: AbortController | null = null;
  #polls = new Set<AbortController>();

  constructor() {
    super();
    this.#root = this.attachShadow({ mode: "open" });
    this.#root.adoptedStyleSheets = [widgetSheet()];
    this.#build();
  }

  /** The id of the last completed response (the next prompt continues from it). */
  get previousResponseId(): string | null {
    return this.#previousResponseId;
  }

  connectedCallback() {
    this.#applyAttributes();
  }

  disconnectedCallback() {
    this.#abort?.abort();
    for (const poll of this.#polls) poll.abort();
    this.#polls.clear();
  }

  attributeChangedCallback(name: string) {
    if (name === "endpoint" || name === "key") this.#client = null;
    this.#applyAttributes();
  }

  /** Sends a prompt as if the visitor had typed it. */
  send(prompt: string): Promise<void> {
    return this.#send(prompt);
  }

  // --- DOM -----------------------------------------------------------------------------------

  #el<K extends keyof HTMLElementTagNameMap>(
    tag: K,
    props: Partial<Record<string, string>> = {},
    children: (Node | string)[] = [],
  ) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(props)) if (v !== undefined) node.setAttribute(k, v);
    node.append(...children);
    return node;
  }

  #build() {
    this.#log = this.#el("div", { class: "log", role: "log", "aria-label": "Conversation", tabindex: "0" }, [
      this.#el("p", { class: "empty" }, ["Ask for a document, a chart or a spreadsheet."]),
    ]);
    this.#status = this.#el("p", { class: "status", role: "alert" });
    this.#announce = this.#el("p", { class: "visually-hidden", role: "status" });
    this.#input = this.#el("textarea", { id: "prompt", rows: "1", name: "prompt", autocomplete: "off" });
    this.#button = this.#el("button", { type: "submit", class: "send" }, ["Send"]);
    const form = this.#el("form", { class: "composer" }, [
      this.#el("label", { for: "prompt", class: "visually-hidden" }, ["Message"]),
      this.#input,
      this.#button,
    ]);
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      if (this.#abort) this.#abort.abort();
      else void this.#send(this.#input.value);
    });
    this.#input.addEventListener("keydown", (e) => {
      // Enter sends, Shift+Enter is a new line; an IME composition's Enter is neither.
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        form.requestSubmit();
      }
    });
    this.#region = this.#el("section", { class: "chat", part: "chat" }, [
      this.#log,
      this.#status,
      this.#announce,
      form,
    ]);
    this.#root.append(this.#region);
  }

  #applyAttributes() {
    this.#input.placeholder = this.getAttribute("placeholder") ?? "Ask for a document…";
    this.#region.setAttribute("aria-label", this.getAttribute("label") ?? "Chat");
  }

  #filesOrigin(): string {
    const raw = this.getAttribute("files-origin") ?? this.getAttribute("endpoint") ?? location.href;
    try {
      return new URL(raw, location.href).origin;
    } catch {
      return "null";
    }
  }

  #getClient(): WidgetClient {
    const endpoint = (this.getAttribute("endpoint") ?? "").replace(/\/+$/, "");
    const key = this.getAttribute("key") ?? "";
    if (!/^https?:\/\//.test(endpoint))
      throw new WidgetError("The endpoint attribute must be unsandbox's absolute URL.", 0, "widget_misconfigured");
    if (!key.startsWith("pk_"))
      throw new WidgetError(
        "The key attribute must be a publishable key (pk_…), never a secret key.",
        0,
        "widget_misconfigured",
      );
    this.#client ??= new WidgetClient(endpoint, key);
    return this.#client;
  }

  // --- a turn --------------------------------------------------------------------------------

  async #send(raw: string) {
    const prompt = raw.trim();
    if (!prompt || this.#abort) return;
    this.#status.textContent = "";
    this.#log.querySelector(".empty")?.remove();
    this.#log.append(this.#el("article", { class: "msg user", "aria-label": "You" }, [prompt]));
    this.#input.value = "";
    const turn = this.#newTurn();
    const abort = (this.#abort = new AbortController());
    this.#button.textContent = "Stop";
    this.#button.setAttribute("aria-label", "Stop the answer");
    this.#log.setAttribute("aria-busy", "true");
    try {
      const client = this.#getClient();
      const body = {
        model: this.getAttribute("model") ?? "gpt-5",
        input: prompt,
        ...(this.#previousResponseId ? { previous_response_id: this.#previousResponseId } : {}),
      };
      let completed = false;
      for await (const event of client.stream(body, abort.signal)) {
        if (this.#onEvent(turn, event)) completed = true;
      }
      if (!completed && !abort.signal.aborted)
        throw new WidgetError("The answer ended before it was complete.", 0, "stream_ended");
    } catch (err) {
      if (!abort.signal.aborted) this.#fail(err);
    } finally {
      this.#abort = null;
      turn.article.setAttribute("aria-busy", "false");
      this.#log.setAttribute("aria-busy", "false");
      this.#button.textContent = "Send";
      this.#button.removeAttribute("aria-label");
    }
  }

  #newTurn(): Turn {
    const body = this.#el("div", { class: "body" });
    const files = this.#el("ul", { class: "files", "aria-label": "Files" });
    files.hidden = true;
    const article = this.#el("article", { class: "msg assistant", "aria-label": "Assistant", "aria-busy": "true" }, [
      body,
      files,
    ]);
    this.#log.append(article);
    return {
      article,
      body,
      files,
      texts: new Map(),
      cards: new Map(),
      ready: new Set(),
      responseId: null,
      renderQueued: false,
    };
  }

  /** Handles one stream event; true when it completed the response. */
  #onEvent(turn: Turn, event: StreamEvent): boolean {
    switch (event.type) {
      case "response.created":
      case "response.in_progress":
        turn.responseId = (event.response as { id?: string } | undefined)?.id ?? turn.responseId;
        return false;
      case "response.output_text.delta": {
        const id = String(event.item_id ?? "");
        turn.texts.set(id, (turn.texts.get(id) ?? "") + String(event.delta ?? ""));
        this.#queueRender(turn);
        return false;
      }
      case "response.output_text.done": {
        turn.texts.set(String(event.item_id ?? ""), String(event.text ?? ""));
        this.#queueRender(turn);
        return false;
      }
      case "response.completed":
      case "response.incomplete": {
        const response = event.response as CompletedResponse;
        this.#complete(turn, response, event.type === "response.incomplete");
        return true;
      }
      case "response.failed": {
        const message = (event.response as { error?: { message?: string } } | undefined)?.error?.message;
        throw new WidgetError(message ?? "The model could not answer.", 0, "response_failed");
      }
      case "error":
        throw new WidgetError(
          String(event.message ?? "The answer failed."),
          0,
          typeof event.code === "string" ? event.code : null,
        );
      default:
        return false;
    }
  }

  #queueRender(turn: Turn) {
    if (turn.renderQueued) return;
    turn.renderQueued = true;
    // One render per frame however fast deltas arrive; re-rendering the whole answer keeps
    // half-written Markdown (an open fence, a link without its URL yet) correct as it completes.
    requestAnimationFrame(() => {
      turn.renderQueued = false;
      this.#render(turn);
    });
  }

  #render(turn: Turn) {
    const text = [...turn.texts.values()].join("\n\n");
    turn.body.replaceChildren(renderMarkdown(text, { doc: document, filesOrigin: this.#filesOrigin() }));
    this.#log.scrollTop = this.#log.scrollHeight;
  }

  #complete(turn: Turn, response: CompletedResponse, incomplete: boolean) {
    turn.responseId = response.id;
    this.#previousResponseId = response.id;
    // The final text is authoritative: every link in it already points at unsandbox.
    const finalTexts = new Map<string, string>();
    for (const item of response.output ?? []) {
      if (item.type !== "message") continue;
      const text = (item.content ?? [])
        .filter((c) => c.type === "output_text")
        .map((c) => c.text ?? "")
        .join("");
      finalTexts.set(item.id ?? String(finalTexts.size), text);
    }
    if (finalTexts.size) turn.texts = finalTexts;
    this.#render(turn);
    if (incomplete) this.#status.textContent = "The answer was cut short.";
    const files = response.unsandbox?.files ?? [];
    this.#showFiles(turn, files);
    this.#announce.textContent = files.length
      ? `Answer complete, ${files.length} file${files.length > 1 ? "s" : ""}.`
      : "Answer complete.";
    this.dispatchEvent(
      new CustomEvent("response-completed", {
        bubbles: true,
        composed: true,
        detail: { responseId: response.id, text: [...turn.texts.values()].join("\n\n"), files },
      }),
    );
    if (files.some((f) => isSettling(f.state))) void this.#poll(turn);
  }

  // --- file cards ----------------------------------------------------------------------------

  #showFiles(turn: Turn, files: FileEntry[]) {
    for (const file of files) {
      const entry = { ...file, url: file.url ?? this.#urlFromText(turn, file.filename) };
      const key = entryKey(entry);
      let card = turn.cards.get(key);
      if (!card) {
        card = this.#el("li", { class: "card" });
        turn.cards.set(key, card);
        turn.files.append(card);
      }
      this.#fillCard(card, entry);
      if (entry.state === "stored" && !turn.ready.has(key)) {
        turn.ready.add(key);
        this.dispatchEvent(
          new CustomEvent("file-ready", {
            bubbles: true,
            composed: true,
            detail: { responseId: turn.responseId, file: entry },
          }),
        );
      }
    }
    turn.files.hidden = turn.cards.size === 0;
  }

  /** Older servers' manifests carry no `url`: the answer's own link to the file is the same. */
  #urlFromText(turn: Turn, filename: string): string | null {
    for (const a of turn.body.querySelectorAll<HTMLAnchorElement>("a.file-link")) {
      const last = new URL(a.href).pathname.split("/").pop() ?? "";
      try {
        if (decodeURIComponent(last) === filename) return a.href;
      } catch {}
    }
    return null;
  }

  #fillCard(card: HTMLLIElement, file: FileEntry) {
    const status = cardStatus(file);
    const url = status.downloadable ? file.url! : null;
    card.dataset.state = file.state;
    card.dataset.tone = status.tone;
    const info = [typeLabel(file.content_type, file.filename), formatBytes(file.bytes)].filter(Boolean).join(" · ");
    const parts: Node[] = [];
    const filesOrigin = this.#filesOrigin();
    if (url && file.state === "stored" && isRasterImage(file.content_type) && new URL(url).origin === filesOrigin) {
      const img = this.#el("img", {
        alt: `Preview of ${file.filename}`,
        loading: "lazy",
        referrerpolicy: "no-referrer",
      });
      img.src = url;
      parts.push(this.#el("div", { class: "preview" }, [img]));
    }
    parts.push(this.#el("span", { class: "name" }, [file.filename]));
    parts.push(this.#el("span", { class: "info" }, [info]));
    parts.push(
      this.#el("span", { class: "state" }, [
        file.reason && status.tone === "problem" ? `${status.label} (${file.reason})` : status.label,
      ]),
    );
    // Most files come as attachments, so following the link downloads without leaving the page.
    // Raster images are served inline (for previews), so their link opens a new tab instead.
    const target = isRasterImage(file.content_type) ? "_blank" : undefined;
    const action = url
      ? this.#el(
          "a",
          {
            class: "button download",
            href: url,
            download: file.filename,
            target,
            rel: "noopener",
            "aria-label": `Download ${file.filename}`,
          },
          ["Download"],
        )
      : this.#el(
          "span",
          {
            class: "button download",
            role: "link",
            "aria-disabled": "true",
            "aria-label": `Download ${file.filename} (unavailable)`,
          },
          ["Download"],
        );
    parts.push(this.#el("div", { class: "actions" }, [action]));
    // Keep keyboard focus on the download button across updates of the same card.
    const hadFocus = this.#root.activeElement !== null && card.contains(this.#root.activeElement);
    card.replaceChildren(...parts);
    if (hadFocus) (action as HTMLElement).focus();
  }

  async #poll(turn: Turn) {
    const id = turn.responseId;
    if (!id) return;
    const abort = new AbortController();
    this.#polls.add(abort);
    const started = Date.now();
    let notFoundCount = 0;
    try {
      for (let i = 0; Date.now() - started < POLL_BUDGET_MS; i++) {
        await new Promise((r) => setTimeout(r, POLL_DELAYS_MS[Math.min(i, POLL_DELAYS_MS.length - 1)]));
        if (abort.signal.aborted) return;
        let files: FileEntry[];
        try {
          files = await this.#getClient().files(id, abort.signal);
        } catch (err) {
          if (abort.signal.aborted) return;
          // unsandbox records a streamed response's files as the stream ends, so the first polls
          // may come before the record exists: a 404 is "not yet" for the first few tries.
          const notYet = err instanceof WidgetError && err.status === 404 && ++notFoundCount <= 5;
          if (err instanceof WidgetError && err.status >= 400 && err.status < 500 && err.status !== 429 && !notYet)
            throw err;
          continue; // a network blip, a 5xx or not recorded yet: try again at the next tick
        }
        this.#showFiles(turn, files);
        if (!files.some((f) => isSettling(f.state))) return;
      }
    } catch (err) {
      this.#fail(err);
    } finally {
      this.#polls.delete(abort);
    }
  }

  #fail(err: unknown) {
    const e =
      err instanceof WidgetError
        ? err
        : new WidgetError("The connection to the chat service failed.", 0, "network_error");
    this.#status.textContent = e.message;
    this.dispatchEvent(
      new CustomEvent("error", {
        bubbles: true,
        composed: true,
        detail: { message: e.message, status: e.status, code: e.code },
      }),
    );
  }
}

interface CompletedResponse {
  id: string;
  output?: { type: string; id?: string; content?: { type: string; text?: string }[] }[];
  unsandbox?: { files?: FileEntry[] };
}
