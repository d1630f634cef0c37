/**
 * @module harvest/background
 * Harvests a background response once its ResponseIndex has seen it end. The index (a Durable
 * Object, a layer below) polls upstream and hands the ended response over through
 * `setBackgroundHarvester`; this module installs the harvest there, so the dependency points down.
 */
import { setBackgroundHarvester } from "../tracker/response-index";
import { harvest } from "./harvest";
import { namingFor } from "./naming";

/** Installs the background harvest; called once from src/index.ts, so it runs in every isolate. */
export function installBackgroundHarvest(): void {
  setBackgroundHarvester(async ({ env, config, response, tenant, previousResponseId, upstreamKeySealed, index }) => {
    await harvest(
      env,
      response,
      namingFor(config, tenant, response.id),
      {
        tenant,
        previousResponseId: previousResponseId ?? undefined,
        clientWantsOutputs: true,
        waitMs: 0,
        upstreamKeySealed,
      },
      index,
    );
  });
}
