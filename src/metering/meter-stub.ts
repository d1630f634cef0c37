/**
 * @module metering/meter-stub
 * The stub of one UsageMeter object by name (a shard of a tenant's meter, or the tenant index).
 */
import type { Bindings } from "../config";
import type { UsageMeter } from "./meter";

export function meterFor(env: Pick<Bindings, "USAGE_METER">, name: string): DurableObjectStub<UsageMeter> {
  return env.USAGE_METER.getByName(name);
}
