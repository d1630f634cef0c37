/**
 * @module responses/engine
 * `POST /v1/responses`: checks the request as strictly as the real API, resolves the
 * container (`{"type":"auto"}` creates one or reuses the one of `previous_response_id`; a
 * string names one; the hosted shell tool's `environment` likewise: responses/shell.ts), runs the simulated model's plan and stores the result.
 */
import { addFile, containerQuirks, createContainer, findContainer, isExpired } from "../containers";
import { containerExpired, SimError } from "../errors";
import { itemId, nowSeconds } from "../ids";
import { hash32 } from "../prng";
import { parseDirective, type Directive } from "../scenario";
import { state, type SimContainer } from "../state";
import { randomHex32 } from "../uploads";
import { parseOr400 } from "../validate";
import { planTurn, type TurnPlan } from "./model";
import { CodeInterpreterTool, CreateResponseBody, InputItem, type CodeInterpreterTool as CiTool } from "./schemas";
import { getResponse, putResponse, type StoredResponse } from "./store";
import { conversationParam } from "../conversations";
import {
  asShellOutput,
  isHosted,
  resolveShellContainer,
  SHELL_ITEM_TYPES,
  ShellCallInput,
  ShellCallOutputInput,
  ShellTool,
  type ShellTool as ShellToolParam,
} from "./shell";
import { runTurn } from "./turn";
import { z } from "zod";

const MessageLike = z.looseObject({ type: z.literal("message").optional(), role: z.string() });

/** Checks each input item with the schema its `type` names, so nested errors carry their path. */
export function checkInput(input: unknown): void {
  if (!Array.isArray(input)) return;
  input.forEach((item, i) => {
    const type = item && typeof item === "object" ? (item as { type?: unknown }).type : undefined;
    if (type === "shell_call" || type === "shell_call_output") {
      parseOr400(type === "shell_call" ? ShellCallInput : ShellCallOutputInput, item, `input[${i}]`);
      return;
    }
    if (type !== undefined && type !== "message" && type !== "code_interpreter_call" && type !== "item_reference") {
      throw new SimError(
        400,
        `Invalid value: '${String(type)}'. Supported values are: 'message', 'code_interpreter_call' and 'item_reference'.`,
        {
          param: `input[${i}].type`,
          code: "invalid_value",
        },
      );
    }
    parseOr400(
      InputItem.options[type === "code_interpreter_call" ? 1 : type === "item_reference" ? 2 : 0],
      item,
      `input[${i}]`,
    );
    if (type === "item_reference") findItem((item as { id: string }).id, i);
  });
}

function findItem(id: string, i: number): void {
  let unstored = false;
  for (const r of state.responses.values()) {
    const sr = r as StoredResponse;
    if (!sr.output.some((o) => o.id === id)) continue;
    if (sr.body.store !== false) return;
    unstored = true;
  }
  const hint = unstored
    ? " Items are not persisted when `store` is set to false. Try again with `store` set to true, or remove this item from your input."
    : "";
  throw new SimError(404, `Item with id '${id}' not found.${hint}`, { param: `input[${i}]` });
}

/** The text of the last user message, where a directive may be. */
export function lastUserText(input: unknown): string {
  if (typeof input === "string") return input;
  if (!Array.isArray(input)) return "";
  for (let i = input.length - 1; i >= 0; i--) {
    const m = MessageLike.safeParse(input[i]);
    if (!m.success || m.data.role !== "user") continue;
    const content = (input[i] as { content: unknown }).content;
    if (typeof content === "string") return content;
    if (Array.isArray(content)) return content.map((p) => (p && typeof p.text === "string" ? p.text : "")).join("\n");
  }
  return "";
}

/** The input items as `/input_items` lists them (each with an id). */
export function normaliseInput(input: unknown): Record<string, unknown>[] {
  if (input === undefined) return [];
  if (typeof input === "string") {
    return [
      {
        id: itemId("msg"),
        type: "message",
        status: "completed",
        content: [{ type: "input_text", text: input }],
        role: "user",
      },
    ];
  }
  return (input as Record<string, unknown>[]).map((item) => {
    if (
      item.type === "item_reference" ||
      item.type === "code_interpreter_call" ||
      SHELL_ITEM_TYPES.has(item.type as string)
    )
      return structuredClone(item);
    const role = item.role as string;
    const content =
      typeof item.content === "string"
        ? [
            {
              type: role === "assistant" ? "output_text" : "input_text",
              text: item.content,
              ...(role === "assistant" ? { annotations: [], logprobs: [] } : {}),
            },
          ]
        : item.content;
    return { id: (item.id as string) ?? itemId("msg"), type: "message", status: "completed", content, role };
  });
}

/** The chain of earlier responses, newest first. */
function chain(prevId: string | null | undefined): StoredResponse[] {
  const out: StoredResponse[] = [];
  let id = prevId;
  while (id) {
    const r = state.responses.get(id) as StoredResponse | undefined;
    if (!r) break;
    out.push(r);
    id = r.body.previous_response_id;
  }
  return out;
}

/** Applies a directive's `status=503x2` fault: the first N attempts of this exact request fail. */
function requestFault(d: Directive, rawBody: string): void {
  if (!d.status) return;
  const key = String(hash32(rawBody));
  const n = (state.requestAttempts.get(key) ?? 0) + 1;
  state.requestAttempts.set(key, n);
  if (n > d.status.times) return;
  const s = d.status.status;
  const headers: Record<string, string> = d.retry_after !== undefined ? { "retry-after": String(d.retry_after) } : {};
  throw new SimError(
    s,
    s === 429
      ? "Rate limit reached for requests (simulated)."
      : `The server had an error while processing your request (simulated ${s}).`,
    {
      type: s === 429 ? "requests" : s >= 500 ? "server_error" : "invalid_request_error",
      code: s === 429 ? "rate_limit_exceeded" : null,
      headers,
    },
  );
}

/** Resolves the container a turn runs in (creating one for `{"type":"auto"}` when none is in context). */
function resolveContainer(tool: CiTool, earlier: StoredResponse[], dirty: boolean, org: string): SimContainer {
  if (typeof tool.container === "string") {
    const c = findContainer(tool.container, org);
    if (isExpired(c)) throw containerExpired(400);
    return c;
  }
  const inContext = earlier.find((r) => r.container_id)?.container_id;
  if (inContext) {
    const c = findContainer(inContext);
    if (isExpired(c)) throw containerExpired(400);
    return c;
  }
  const c = createContainer({ org, memory_limit: tool.container.memory_limit ?? undefined });
  for (const fid of tool.container.file_ids ?? [])
    addFile(c, { path: `/mnt/data/${fid}-input.csv`, size: 2048, source: "user" });
  if (dirty) {
    // A user upload under a renamed path, as real containers list them.
    addFile(c, { path: `/mnt/data/${randomHex32()}-input.csv`, size: 2048, source: "user" });
  }
  return c;
}

/** Validates, runs and stores one response: one turn for `org` (the organisation of the caller's key). */
export function createResponse(raw: unknown, rawText: string, org: string): StoredResponse {
  const body = parseOr400(CreateResponseBody, raw);
  const tools = body.tools ?? [];
  let ciTool: CiTool | undefined;
  let shellTool: ShellToolParam | undefined;
  tools.forEach((t, i) => {
    if (t.type === "shell") {
      const parsed = parseOr400(ShellTool, t, `tools[${i}]`);
      if (isHosted(parsed)) shellTool ??= parsed;
      return;
    }
    if (t.type !== "code_interpreter") return;
    const parsed = parseOr400(CodeInterpreterTool, t, `tools[${i}]`);
    ciTool ??= parsed;
  });
  checkInput(body.input);
  if (body.previous_response_id && body.conversation !== undefined) {
    throw new SimError(
      400,
      "Mutually exclusive parameters: Ensure you are only providing one of: 'previous_response_id' or 'conversation'.",
      { param: "conversation", code: "mutually_exclusive_parameters" },
    );
  }
  if (body.previous_response_id) {
    const prev = state.responses.get(body.previous_response_id) as StoredResponse | undefined;
    if (!prev || prev.org !== org || prev.body.store === false) {
      throw new SimError(400, `Previous response with id '${body.previous_response_id}' not found.`, {
        param: "previous_response_id",
        code: "previous_response_not_found",
      });
    }
  }
  if (body.stream_options && !body.stream) {
    throw new SimError(400, "stream_options may only be set when stream is true.", {
      param: "stream_options",
      code: "invalid_value",
    });
  }

  const directive = parseDirective(lastUserText(body.input));
  requestFault(directive, rawText);

  // A conversation's earlier turns play the part of the previous-response chain (newest first).
  const conversation = conversationParam(body.conversation, org);
  const earlier = conversation
    ? conversation.responses
        .map((id) => state.responses.get(id) as StoredResponse | undefined)
        .filter((x): x is StoredResponse => !!x)
        .reverse()
    : chain(body.previous_response_id);
  const hasTool = !!(ciTool ?? shellTool) && body.tool_choice !== "none";
  const earlierFiles = earlier
    .slice()
    .reverse()
    .flatMap((r) =>
      r.written.map((fid) => state.files.get(fid)).filter((f) => f && !f.deleted && f.source === "assistant"),
    )
    .map((f) => ({ path: f!.path, file_id: f!.id }));
  const plan: TurnPlan = planTurn({ directive, hasTool, earlierFiles });
  const needsContainer = plan.steps.some((s) => s.kind === "tool");

  let container: SimContainer | null = null;
  const globalQ = containerQuirks(undefined, directive.quirks);
  if (needsContainer && ciTool) container = resolveContainer(ciTool, earlier, globalQ.dirty_listing, org);
  else if (needsContainer && shellTool)
    container = resolveShellContainer(
      shellTool,
      earlier.find((r) => r.container_id)?.container_id,
      globalQ.dirty_listing,
      org,
    );
  else if (directive.scenario === "later-turn-link") {
    const cid = earlier.find((r) => r.container_id)?.container_id;
    if (cid) {
      const c = findContainer(cid);
      if (isExpired(c)) throw containerExpired(400);
      container = c;
    }
  }
  if (container) container.last_active_ms = Date.now();
  const quirks = containerQuirks(container ?? undefined, directive.quirks);

  const now = Date.now();
  const background = body.background ?? false;
  const bgMs = state.settings.background_ms;
  const pace = directive.pace_ms ?? state.settings.pace_ms;
  const completes = background ? now + bgMs : now;
  // The citing message starts near the end of the stream; files are listed some time after that.
  const messageStartMs = completes + pace * 20;

  const lateListingMs = directive.late_listing_ms ?? state.settings.late_listing_ms;
  const result = runTurn({
    plan,
    container,
    quirks,
    overrides: directive.quirks,
    earlier: earlierFiles,
    messageStartMs,
    lateListingMs,
  });
  if (container && quirks.dirty_listing && result.written.length > 0) {
    // A junk entry: several paths run together, no size, no content.
    const paths = result.written.map((fid) => state.files.get(fid)!.path);
    const junk = addFile(container, {
      path: paths.length > 1 ? paths.slice(0, 2).join("") : `${paths[0]}${paths[0]}`,
      size: 0,
      source: "assistant",
      body: { kind: "junk" },
      visible_from_ms: quirks.late_listing ? messageStartMs + lateListingMs : now,
    });
    void junk;
  }

  const inputText = typeof body.input === "string" ? body.input : JSON.stringify(body.input ?? "");
  // Without a code interpreter, the hosted shell ran the plan's tool steps.
  if (!ciTool && shellTool) result.output = asShellOutput(result.output);
  const outputText = JSON.stringify(result.output);
  const r: StoredResponse = {
    org,
    id: itemId("resp"),
    created_ms: now,
    created_at: nowSeconds(),
    body,
    quirks,
    pace_ms: pace,
    background,
    starts_ms: now + Math.floor(bgMs / 3),
    completes_ms: completes,
    cancelled: false,
    container_id: container?.id ?? null,
    output: result.output,
    input_items: normaliseInput(body.input),
    error: plan.fail ? { code: "server_error", message: "The model failed to generate a response (simulated)." } : null,
    usage: { input_tokens: Math.ceil(inputText.length / 4), output_tokens: Math.ceil(outputText.length / 8) },
    written: result.written,
    written_bodies: result.bodies,
    claimed: plan.claimed,
    cited: result.cited,
  };
  if (conversation) r.conversation_id = conversation.id;
  putResponse(r);
  state.counters.responses_created++;
  if (conversation) {
    // Input and output items are added to the conversation once the response is done.
    conversation.responses.push(r.id);
    conversation.items.push(...structuredClone(r.input_items), ...structuredClone(r.output));
  }
  return r;
}

export { getResponse };
