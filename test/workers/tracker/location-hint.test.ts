/**
 * Trackers are placed where TRACKER_LOCATION_HINT says (src/tracker/stubs.ts): the hint reaches
 * the namespace's `getByName` as `{ locationHint }`, unset means no options at all, and a value
 * that is not a Durable Objects location hint is a configuration error naming the setting.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { trackerFor } from "../../../src/tracker/stubs";
import { UnsandboxError } from "../../../src/errors";

/** The real env with a namespace that records how it was asked for a stub. */
function envWith(hint: string | undefined) {
  const asked: unknown[][] = [];
  const namespace = {
    getByName: (...args: unknown[]) => {
      asked.push(args);
      return env.CONTAINER_TRACKER.getByName(args[0] as string);
    },
  };
  const e = {
    ...(env as unknown as Record<string, unknown>),
    CONTAINER_TRACKER: namespace,
    TRACKER_LOCATION_HINT: hint,
  };
  return { e: e as unknown as typeof env & { TRACKER_LOCATION_HINT?: string }, asked };
}

describe("tracker location hint", () => {
  it("is passed to getByName when set", () => {
    const { e, asked } = envWith("weur");
    trackerFor(e, "cntr_hint");
    expect(asked).toEqual([["cntr_hint", { locationHint: "weur" }]]);
  });

  it("is left out when unset or empty", () => {
    for (const hint of [undefined, ""]) {
      const { e, asked } = envWith(hint);
      trackerFor(e, "cntr_nohint");
      expect(asked).toEqual([["cntr_nohint"]]);
    }
  });

  it("refuses a value that is not a location hint, naming the setting", () => {
    const { e } = envWith("mars");
    let caught: unknown;
    try {
      trackerFor(e, "cntr_bad");
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(UnsandboxError);
    expect((caught as Error).message).toContain("TRACKER_LOCATION_HINT must be one of wnam");
  });
});

describe("a hinted tracker in workerd", () => {
  it("answers like any other", async () => {
    const e = {
      ...(env as unknown as Record<string, unknown>),
      TRACKER_LOCATION_HINT: "wnam",
    } as unknown as typeof env;
    expect(await trackerFor(e, "cntr_hinted_real").manifest("resp_none")).toEqual([]);
  });
});
