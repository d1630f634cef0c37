/**
 * @module harvest/conversation
 * Turns of a conversation (OpenAI, "Conversation state":
 * https://platform.openai.com/docs/guides/conversation-state, and the `conversation` parameter of
 * "Create a model response"). A response made with `conversation` has no
 * `previous_response_id`, yet its links may name files an earlier turn of the conversation wrote.
 * The index named by the conversation id keeps the turns in order (tracker/response-index.ts), so
 * each turn is registered with the turn before it as its previous response and resolves links
 * through the earlier turns exactly as a `previous_response_id` chain does. It also knows which
 * turn made each output item, so the conversation's items read back are rewritten with the naming
 * of the response that wrote them.
 */
import { errorFields, logEvent } from "../log";
import type { Bindings } from "../config";
import { responseIndexFor } from "../tracker/stubs";

/** The conversation id of a create request's `conversation` (`"conv_…"` or `{"id": "conv_…"}`). */
export function conversationIdOf(value: unknown): string | undefined {
  const id =
    typeof value === "string" ? value : value && typeof value === "object" ? (value as { id?: unknown }).id : undefined;
  return typeof id === "string" && id.length > 0 && id.length <= 200 ? id : undefined;
}

/** One conversation's turns, as seen by one request. A failed index call is logged and never fails the request. */
export class ConversationTurns {
  readonly #previous = new Map<string, Promise<string | undefined>>();

  constructor(
    readonly env: Bindings,
    readonly tenant: string,
    readonly conversationId: string,
  ) {}

  #index() {
    return responseIndexFor(this.env, this.conversationId);
  }

  /** Records `responseId` as the conversation's next turn (once) and returns the turn before it. */
  previousOf(responseId: string): Promise<string | undefined> {
    let p = this.#previous.get(responseId);
    if (!p) {
      p = this.#call(
        async () => (await this.#index().conversationTurn({ tenant: this.tenant, responseId })) ?? undefined,
      );
      this.#previous.set(responseId, p);
    }
    return p;
  }

  /** Records which turn made these output items. */
  async noteItems(responseId: string, itemIds: string[]): Promise<void> {
    await this.previousOf(responseId);
    if (itemIds.length)
      await this.#call(() => this.#index().conversationTurn({ tenant: this.tenant, responseId, itemIds }));
  }

  /** Which turn made each item (unknown items left out), and the conversation's latest turn. */
  async owners(itemIds: string[]): Promise<{ owners: Record<string, string>; latest: string | null }> {
    return (
      (await this.#call(() => this.#index().conversationItems({ tenant: this.tenant, itemIds }))) ?? {
        owners: {},
        latest: null,
      }
    );
  }

  async #call<T>(work: () => Promise<T>): Promise<T | undefined> {
    try {
      return await work();
    } catch (err) {
      logEvent("error", "conversation_index_failed", {
        tenant: this.tenant,
        conversationId: this.conversationId,
        ...errorFields(err),
      });
      return undefined;
    }
  }
}
