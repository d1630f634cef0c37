/**
 * @module harvest/unindexed
 * A response with neither containers, links nor a previous response has nothing for a response
 * index to keep, so none is created for it (harvest.ts): no Durable Object at all. Routes that
 * read the index (`GET`/`DELETE /v1/responses/{id}/files`) then tell such a response from an id
 * that does not exist without it: by its owner record (tenants/ownership.ts; every caller whose
 * ids are recorded), or, for the single-tenant secret key, whose answers record no owner, by
 * asking upstream once (`GET /v1/responses/{id}`, which refreshes no container).
 */
import type { Context } from "hono";
import type { AppEnv } from "../app";
import { getCaller } from "../auth/caller";
import { overloadError, UNAVAILABLE_RETRY_AFTER_S } from "../overload";
import { ownerOf } from "../tenants/ownership";
import { pollResponse } from "../upstream/responses";

/**
 * Whether a response unsandbox keeps no index for exists for this caller (the guard has already
 * refused ids the caller does not own).
 * @throws UnsandboxError 503 when upstream cannot say.
 */
export async function existsUnindexed(c: Context<AppEnv>, responseId: string): Promise<boolean> {
  const caller = getCaller(c);
  if (!(caller.mode === "single-tenant" && caller.kind === "secret"))
    return (await ownerOf(c.env, responseId)) !== null;
  const polled = await pollResponse(c.get("config"), responseId);
  if (polled.kind === "failed") throw overloadError({ kind: "unavailable", retryAfterS: UNAVAILABLE_RETRY_AFTER_S });
  return polled.kind === "response";
}
