/**
 * @module metering/record
 * The one call sites use to count usage: `meter(env, tenant, delta)`. It never throws (metering
 * must not fail a request or a copy) and it tells the tenant index about a tenant once per isolate.
 */
import type { Bindings } from "../config";
import { errorFields, logEvent } from "../log";
import type { UsageMeter } from "./meter";
import { TENANT_INDEX } from "./meter";
import { cleanDelta, type UsageDelta } from "./usage";

/** Tenants this isolate has already told the index about. */
const announced = new Set<string>();

/** The meter of one tenant (or the tenant index). */
export function meterFor(env: Pick<Bindings, "USAGE_METER">, name: string): DurableObjectStub<UsageMeter> {
  return env.USAGE_METER.getByName(name);
}

/** Adds `delta` to `tenant`'s counters for today. Errors are logged, never thrown. */
export async function meter(env: Pick<Bindings, "USAGE_METER">, tenant: string, delta: UsageDelta): Promise<void> {
  if (cleanDelta(delta).length === 0) return;
  try {
    if (!announced.has(tenant)) {
      await meterFor(env, TENANT_INDEX).remember(tenant);
      announced.add(tenant);
    }
    await meterFor(env, tenant).add(delta);
  } catch (err) {
    logEvent("error", "metering_error", { tenant, ...errorFields(err) });
  }
}
