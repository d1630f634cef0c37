/**
 * @module upstream/repair-turn
 * The one upstream call of optional repair (src/tracker/repair.ts): asks the model once more in
 * the same chain (`previous_response_id`) and container, forcing the code interpreter
 * (`tool_choice: {type: "code_interpreter"}`,
 * https://platform.openai.com/docs/api-reference/responses/create), to write the paths its previous
 * answer linked but never wrote.
 */
import { setUpstreamAuth, upstreamUrl, type UpstreamTarget } from "./fetch";

/** The instruction sent to the model; pure, so it can be checked on its own. */
export function repairPrompt(paths: string[]): string {
  const list = paths.map((p) => `- ${p}`).join("\n");
  return (
    "Your previous answer linked these files, but they were never written to the container:\n" +
    `${list}\n` +
    "Use the code interpreter to create each of them now, at exactly that path, with the content your previous answer described. " +
    "Do not rename them. Reply with one short sentence when they exist."
  );
}

/**
 * Starts the repair turn. Returns the repair response's id and creation time (unix s; `now` when
 * upstream did not say), or null when upstream refused. Never throws.
 */
export async function startRepairTurn(
  upstream: UpstreamTarget,
  input: { responseId: string; containerId: string; model: string; paths: string[] },
  now: () => number = Date.now,
): Promise<{ id: string; createdAt: number } | null> {
  const headers = setUpstreamAuth(new Headers({ "content-type": "application/json" }), upstream);
  const res = await fetch(upstreamUrl(upstream, "/responses"), {
    method: "POST",
    headers,
    body: JSON.stringify({
      model: input.model,
      previous_response_id: input.responseId,
      input: repairPrompt(input.paths),
      tools: [{ type: "code_interpreter", container: input.containerId }],
      tool_choice: { type: "code_interpreter" },
    }),
  }).catch(() => null);
  if (!res?.ok) {
    await res?.body?.cancel();
    return null;
  }
  const body = (await res.json()) as { id?: unknown; created_at?: unknown };
  if (typeof body.id !== "string") return null;
  return { id: body.id, createdAt: typeof body.created_at === "number" ? body.created_at : Math.floor(now() / 1000) };
}
