/**
 * @module harvest/managed
 * Managed containers (opt-in: request header `x-unsandbox-managed-container: 1`): unsandbox
 * creates the code_interpreter or shell container itself (`POST /containers` upstream) and passes
 * its id as the tool's `container` (code_interpreter) or `environment: {type: "container_reference"}`
 * (shell), instead of letting the model's call create one in auto mode.
 *
 * Why: the id is known before the model runs (and is the one the stream's tool call names); the expiry (`x-unsandbox-container-expiry-minutes`, else 20) and memory (the tool's
 * `memory_limit`, else a publishable key's widget setting, else upstream's 1g) are unsandbox's
 * choice; and a conversation keeps one container across turns: a turn with `previous_response_id`
 * reuses the newest container of that chain (from the response index, which records every
 * container a response used), and gets a fresh one only when that container expired, where auto
 * mode would fail with 400 "Container is expired." A container expires after 20 idle minutes
 * (https://platform.openai.com/docs/guides/tools-code-interpreter); how an expired one
 * answers is an observation, docs/assumptions.md §3 and §6.
 */
import type { Context } from "hono";
import type { AppEnv } from "../app";
import { getCaller, ownedBy } from "../auth/caller";
import { badRequest, UnsandboxError } from "../errors";
import { FEATURE_HEADERS, featureOn, optInHeader } from "./features";
import { retrieveContainer } from "../upstream/containers";
import { recordOwner } from "../tenants/ownership";
import { responseIndexFor } from "../tracker/stubs";
import { MAX_CHAIN } from "../tracker/response-index";
import { targetOf, upstreamFetch } from "../upstream/fetch";

/** The opt-in request header (or the tenant's default: harvest/features.ts). */
const MANAGED_HEADER = FEATURE_HEADERS.managed_containers;
/** Optional idle expiry of a container unsandbox creates, in minutes (1-1440 upstream). */
export const EXPIRY_HEADER = "x-unsandbox-container-expiry-minutes";
export const DEFAULT_EXPIRY_MINUTES = 20;

type Body = Record<string, unknown>;
type AutoContainer = {
  type: "auto" | "container_auto";
  file_ids?: string[];
  memory_limit?: string | null;
  network_policy?: unknown;
  skills?: unknown[];
};

/** The auto-mode container a tool asks for: code_interpreter's `container: {type: "auto"}`, the shell tool's `environment: {type: "container_auto"}`. */
function autoContainerOf(t: unknown): AutoContainer | undefined {
  const tool = t as { type?: unknown; container?: unknown; environment?: unknown } | null;
  const c = (
    tool?.type === "code_interpreter" ? tool.container : tool?.type === "shell" ? tool.environment : undefined
  ) as AutoContainer | undefined;
  const auto = tool?.type === "code_interpreter" ? "auto" : "container_auto";
  return typeof c === "object" && c !== null && c.type === auto ? c : undefined;
}

/** Pure: the indexes of code_interpreter and shell tools in auto mode (the ones a managed container replaces). */
export function autoToolIndexes(body: Body): number[] {
  const tools = Array.isArray(body.tools) ? (body.tools as unknown[]) : [];
  return tools.flatMap((t, i) => (autoContainerOf(t) ? [i] : []));
}

/** The tool with the managed container in place of its auto container. */
function withContainer(tool: Body, containerId: string): Body {
  return tool.type === "shell"
    ? { ...tool, environment: { type: "container_reference", container_id: containerId } }
    : { ...tool, container: containerId };
}

/**
 * Returns the body to forward: unchanged unless the request opted in and a code_interpreter or
 * shell tool is in auto mode; then that tool's container is the id of a container unsandbox created or
 * reused for this conversation.
 * @throws UnsandboxError 400 for a malformed expiry header, 502 when upstream refuses to create one.
 */
export async function applyManagedContainer(c: Context<AppEnv>, body: Body): Promise<Body> {
  if (!featureOn(c, "managed_containers")) return body;
  const indexes = autoToolIndexes(body);
  if (indexes.length === 0) return body;
  const tools = [...(body.tools as Body[])];
  const auto = autoContainerOf(tools[indexes[0]!])!;

  const tenant = c.get("tenant");
  const previous = typeof body.previous_response_id === "string" ? body.previous_response_id : null;
  let containerId = previous ? await chainContainer(c, tenant, previous) : null;
  if (!containerId) containerId = await createContainer(c, auto);
  for (const i of indexes) tools[i] = withContainer(tools[i]!, containerId);
  return { ...body, tools };
}

/** The newest container of the chain that upstream still runs, or null. */
async function chainContainer(c: Context<AppEnv>, tenant: string, responseId: string): Promise<string | null> {
  let id: string | null = responseId;
  for (let depth = 0; id && depth < MAX_CHAIN; depth++) {
    const info = await responseIndexFor(c.env, id).info(tenant);
    if (!info) return null;
    const newest = info.containerIds.at(-1);
    if (newest) {
      const live = await retrieveContainer(targetOf(c.get("config")), newest).catch(() => null);
      return live && live.status !== "expired" && live.status !== "deleted" ? newest : null;
    }
    id = info.previousResponseId;
  }
  return null;
}

async function createContainer(c: Context<AppEnv>, auto: AutoContainer): Promise<string> {
  const caller = getCaller(c);
  const raw = optInHeader(c, EXPIRY_HEADER);
  const minutes = raw === undefined ? DEFAULT_EXPIRY_MINUTES : Number(raw);
  if (!Number.isInteger(minutes) || minutes < 1 || minutes > 1440) {
    throw badRequest(`${EXPIRY_HEADER} must be an integer from 1 to 1440`, EXPIRY_HEADER, "invalid_header");
  }
  const memory = auto.memory_limit ?? caller.widget?.memory_limit;
  const payload = {
    name: `unsandbox-${caller.tenant}-${crypto.randomUUID().slice(0, 8)}`,
    expires_after: { anchor: "last_active_at", minutes },
    ...(memory ? { memory_limit: memory } : {}),
    ...(auto.file_ids?.length ? { file_ids: auto.file_ids } : {}),
    ...(auto.network_policy !== undefined ? { network_policy: auto.network_policy } : {}),
    // A shell environment's skills are mounted by the container (Containers API: `skills`).
    ...(auto.skills?.length ? { skills: auto.skills } : {}),
  };
  const res = await upstreamFetch(c.get("config"), {
    method: "POST",
    path: "/containers",
    headers: new Headers({ "content-type": "application/json" }),
    body: JSON.stringify(payload),
  });
  const created = res.ok
    ? ((await res.json().catch(() => null)) as { id?: unknown } | null)
    : (await res.body?.cancel(), null);
  if (!created || typeof created.id !== "string") {
    throw new UnsandboxError(
      502,
      `unsandbox could not create a managed container upstream (HTTP ${res.status}); send the request without ${MANAGED_HEADER} to let the model create one`,
      {
        code: "managed_container_failed",
      },
    );
  }
  await recordOwner(c.env, ownedBy(caller, "container", created.id));
  return created.id;
}
