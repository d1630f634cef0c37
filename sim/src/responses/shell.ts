/**
 * @module responses/shell
 * The hosted `shell` tool (OpenAI API reference, "Shell tool": `tools: [{"type": "shell",
 * "environment": …}]`; guide https://platform.openai.com/docs/guides/tools-shell). The model runs
 * shell commands in an OpenAI container, exactly the kind the code interpreter uses, so the
 * simulator reuses the same turn plan and container machinery (files written with `bytes: null`,
 * listed late) and only changes how the call is shown:
 * - the tool's `environment` is `container_auto` (a fresh container, or the conversation's) or
 *   `container_reference` (a container made with `POST /v1/containers`); `local` is the app's own
 *   machine, which the hosted model never runs;
 * - each tool step becomes a `shell_call` (`action.commands`, `environment:
 *   {"type": "container_reference", "container_id"}`) and a `shell_call_output` (`output[]` of
 *   `{stdout, stderr, outcome}`);
 * - streamed, the call emits `response.shell_call_command.added`/`.delta`/`.done` per command and
 *   the output `response.shell_call_output_content.delta`/`.done`, between the items'
 *   `output_item.added` and `.done`.
 * Skills (`environment.skills`) are mounted by the container; the `skill-document` scenario
 * (responses/model.ts) writes office documents the text does not all mention, as skills do.
 */
import { z } from "zod";
import { containerExpired } from "../errors";
import { addFile, createContainer, findContainer, isExpired } from "../containers";
import { itemId } from "../ids";
import type { SimContainer } from "../state";
import { randomHex32 } from "../uploads";

const NetworkPolicy = z.looseObject({ type: z.string() });
const Skill = z.looseObject({ type: z.string() });

export const ShellTool = z.strictObject({
  type: z.literal("shell"),
  environment: z
    .discriminatedUnion("type", [
      z.strictObject({
        type: z.literal("container_auto"),
        file_ids: z.array(z.string()).max(50).optional(),
        memory_limit: z.enum(["1g", "4g", "16g", "64g"]).nullish(),
        network_policy: NetworkPolicy.optional(),
        skills: z.array(Skill).max(200).optional(),
      }),
      z.strictObject({ type: z.literal("container_reference"), container_id: z.string() }),
      z.strictObject({ type: z.literal("local"), skills: z.array(Skill).max(200).optional() }),
    ])
    .nullish(),
  allowed_callers: z.array(z.string()).nullish(),
});
export type ShellTool = z.infer<typeof ShellTool>;

const Status = z.enum(["in_progress", "completed", "incomplete"]);

/** A `shell_call` sent back as input (the spec's `FunctionShellCallItemParam`), e.g. by a stateless app. */
export const ShellCallInput = z.strictObject({
  type: z.literal("shell_call"),
  id: z.string().nullish(),
  call_id: z.string(),
  caller: z.unknown().optional(),
  action: z.strictObject({
    commands: z.array(z.string()),
    timeout_ms: z.number().int().nullish(),
    max_output_length: z.number().int().nullish(),
  }),
  status: Status.nullish(),
  environment: z.looseObject({ type: z.string() }).nullish(),
  created_by: z.string().optional(),
});

/** A `shell_call_output` sent back as input (the spec's `FunctionShellCallOutputItemParam`). */
export const ShellCallOutputInput = z.strictObject({
  type: z.literal("shell_call_output"),
  id: z.string().nullish(),
  call_id: z.string(),
  caller: z.unknown().optional(),
  output: z.array(
    z.strictObject({
      stdout: z.string(),
      stderr: z.string(),
      outcome: z.looseObject({ type: z.enum(["exit", "timeout"]) }),
      created_by: z.string().optional(),
    }),
  ),
  status: Status.nullish(),
  max_output_length: z.number().int().nullish(),
  created_by: z.string().optional(),
});

/** Whether the tool runs in a hosted container (a `local` or missing environment is the app's machine). */
export function isHosted(tool: ShellTool): boolean {
  return tool.environment?.type === "container_auto" || tool.environment?.type === "container_reference";
}

/**
 * The container a shell turn runs in: the referenced one, else the conversation's (as the code
 * interpreter's auto mode does), else a fresh one with the tool's `file_ids` uploaded.
 */
export function resolveShellContainer(
  tool: ShellTool,
  inContext: string | null | undefined,
  dirty: boolean,
  org: string,
): SimContainer {
  const env = tool.environment!;
  const named = env.type === "container_reference" ? env.container_id : inContext;
  if (named) {
    const c = findContainer(named, env.type === "container_reference" ? org : undefined);
    if (isExpired(c)) throw containerExpired(400);
    return c;
  }
  const auto = env.type === "container_auto" ? env : { file_ids: [], memory_limit: undefined };
  const c = createContainer({ org, name: "Shell container", memory_limit: auto.memory_limit ?? undefined });
  for (const fid of auto.file_ids ?? []) addFile(c, { path: `/mnt/data/${fid}-input.csv`, size: 2048, source: "user" });
  if (dirty) addFile(c, { path: `/mnt/data/${randomHex32()}-input.csv`, size: 2048, source: "user" });
  return c;
}

/** The command a plan's Python code is run with: a heredoc, as a model using the shell writes it. */
function commandsFor(code: string): string[] {
  return ["mkdir -p /mnt/data && cd /mnt/data", `python3 - <<'PY'\n${code}\nPY`];
}

/**
 * The turn's output with every `code_interpreter_call` shown as the shell tool shows it: a
 * `shell_call` then its `shell_call_output`. Messages are unchanged (their citations name the
 * same container files).
 */
export function asShellOutput(output: Record<string, unknown>[]): Record<string, unknown>[] {
  return output.flatMap((item) => {
    if (item.type !== "code_interpreter_call") return [item];
    const callId = itemId("call");
    const logs = ((item.outputs as { type: string; logs?: string }[] | null) ?? []).flatMap((o) =>
      o.type === "logs" ? [o.logs ?? ""] : [],
    );
    const commands = commandsFor(String(item.code ?? ""));
    return [
      {
        type: "shell_call",
        id: itemId("sh"),
        call_id: callId,
        action: { commands, timeout_ms: null, max_output_length: null },
        status: "completed",
        environment: { type: "container_reference", container_id: item.container_id },
      },
      {
        type: "shell_call_output",
        id: itemId("sho"),
        call_id: callId,
        status: "completed",
        output: commands.map((_, i) => ({
          stdout: i === commands.length - 1 ? `${logs.join("\n")}\n` : "",
          stderr: "",
          outcome: { type: "exit", exit_code: 0 },
        })),
        max_output_length: null,
      },
    ];
  });
}

/** The events of a shell item after its `output_item.added` and before its `.done` (unnumbered). */
export function shellItemEvents(
  item: Record<string, unknown>,
  output_index: number,
  split: (text: string, id: string) => string[],
): Record<string, unknown>[] {
  const id = item.id as string;
  const ev: Record<string, unknown>[] = [];
  if (item.type === "shell_call") {
    const commands = (item.action as { commands: string[] }).commands;
    commands.forEach((command, command_index) => {
      ev.push({ type: "response.shell_call_command.added", output_index, command_index, command: "" });
      for (const delta of split(command, `${id}:${command_index}`))
        ev.push({ type: "response.shell_call_command.delta", output_index, command_index, delta });
      ev.push({ type: "response.shell_call_command.done", output_index, command_index, command });
    });
    return ev;
  }
  (item.output as { stdout: string; stderr: string }[]).forEach((content, command_index) => {
    if (content.stdout)
      ev.push({
        type: "response.shell_call_output_content.delta",
        item_id: id,
        output_index,
        command_index,
        delta: { stdout: content.stdout },
      });
    ev.push({
      type: "response.shell_call_output_content.done",
      item_id: id,
      output_index,
      command_index,
      output: [structuredClone(content)],
    });
  });
  return ev;
}

/** The item as `response.output_item.added` shows it: running, nothing run or printed yet. */
export function shellItemAdded(item: Record<string, unknown>): Record<string, unknown> {
  if (item.type === "shell_call")
    return { ...structuredClone(item), status: "in_progress", action: { ...(item.action as object), commands: [] } };
  return { ...structuredClone(item), status: "in_progress", output: [] };
}

/** The output item types of the shell tool. */
export const SHELL_ITEM_TYPES: ReadonlySet<string> = new Set(["shell_call", "shell_call_output"]);
