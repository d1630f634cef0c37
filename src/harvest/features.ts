/**
 * @module harvest/features
 * The opt-in request features: file instructions, managed containers, repair and URL citations
 * (links/url-citations.ts). A request's own
 * header decides (`1`/`true`/`on` or `0`/`false`/`off`); without one, the tenant's default (the
 * `features` of its record, set through the admin API), then the deployment's (off, except repair
 * under `UNSANDBOX_REPAIR`). So an app, or a widget whose page cannot add headers, can have them
 * on for every request, and a single request can still opt out.
 *
 * Publishable keys are the exception: their headers are ignored and the tenant's defaults decide
 * (a widget's page cannot add headers, so only someone calling with the public key by hand sends
 * them; repair is an extra model turn and a managed container can be asked to live 24 h). The
 * same holds for the other request headers that spend the operator's resources
 * ({@link optInHeader}).
 */
import type { Context } from "hono";
import type { AppEnv } from "../app";
import type { Features } from "../tenants/schema";
import { repairEnabled } from "./repair";

/** The request header of each feature. */
export const FEATURE_HEADERS = {
  file_instructions: "x-unsandbox-file-instructions",
  managed_containers: "x-unsandbox-managed-container",
  repair: "x-unsandbox-repair",
  url_citations: "x-unsandbox-url-citations",
} as const satisfies Record<keyof Features, string>;

/** Pure: an on/off header word wins, then the tenant's default, then the deployment's. Other words count as absent. */
export function resolveFeature(
  header: string | null | undefined,
  tenantDefault: boolean | undefined,
  deploymentDefault: boolean,
): boolean {
  const word = header?.trim().toLowerCase();
  if (word === "1" || word === "true" || word === "on") return true;
  if (word === "0" || word === "false" || word === "off") return false;
  return tenantDefault ?? deploymentDefault;
}

/**
 * The value of an opt-in request header (a feature, or a setting such as the managed container's
 * expiry), or undefined when the caller is a publishable key: its page cannot send them.
 */
export function optInHeader(c: Context<AppEnv>, name: string): string | undefined {
  return c.get("caller")?.kind === "publishable" ? undefined : c.req.header(name);
}

/** Whether `feature` is on for this request. */
export function featureOn(c: Context<AppEnv>, feature: keyof Features): boolean {
  const deployment = feature === "repair" ? repairEnabled(c.env) : false;
  return resolveFeature(optInHeader(c, FEATURE_HEADERS[feature]), c.get("caller")?.features?.[feature], deployment);
}
