/**
 * The bench's call counting from outside the isolate (bench/lib/do-calls.mjs): which methods get a
 * counting breakpoint in an esbuild bundle, and how the counts are summed (per class, per shared
 * object) for the downloads and scale cases. Pure functions, on a bundle-shaped fixture; the
 * breakpoints themselves are exercised by `npm run bench`.
 */
import { describe, expect, it } from "vitest";
import { splitRoundCalls } from "../../bench/cases/downloads.mjs";
import { sharedObjects } from "../../bench/cases/scale.mjs";
import { durableObjectMethods, perClass, tallyMinus } from "../../bench/lib/do-calls.mjs";

const BUNDLE = [
  "var helper = class {",
  "  notCounted() {",
  "  }",
  "};",
  "var ResponseIndex = class extends DurableObject2 {",
  "  constructor(ctx, env) {",
  "    super(ctx, env);",
  "  }",
  "  #store;",
  "  async register(input) {",
  "    return this.info();",
  "  }",
  "  info() {",
  "    return 1;",
  "  }",
  "  #privateHelper() {",
  "  }",
  "  async alarm() {",
  "    const nested = { inner() {",
  "    } };",
  "  }",
  "};",
  "var RateCounter = class extends DurableObject {",
  "  hit(limit, windowMs = 60) {",
  "    return limit;",
  "  }",
  "};",
].join("\n");

describe("durableObjectMethods", () => {
  it("finds every method of every Durable Object class, just inside its brace, and nothing else", () => {
    const { sites, selfCalls } = durableObjectMethods(BUNDLE);
    expect(sites.map((s) => `${s.cls}.${s.method}`)).toEqual([
      "ResponseIndex.register",
      "ResponseIndex.info",
      "ResponseIndex.alarm",
      "RateCounter.hit",
    ]);
    const lines = BUNDLE.split("\n");
    for (const s of sites) expect(lines[s.line]!.slice(0, s.column).endsWith("{")).toBe(true);
    expect(selfCalls).toEqual(["ResponseIndex.info"]);
  });
});

describe("tallies", () => {
  const before = { methods: { "A.x": 1 }, objects: { "A:one": 1 }, internal: {} };
  const after = {
    methods: { "A.x": 3, "A.y": 1, "B.z": 2 },
    objects: { "A:one": 2, "A:two": 2, "B:b": 2 },
    internal: { "A.y": 4 },
  };
  it("subtracts per key, leaving zeros out, and sums per class", () => {
    const d = tallyMinus(after, before);
    expect(d).toEqual({
      methods: { "A.x": 2, "A.y": 1, "B.z": 2 },
      objects: { "A:one": 1, "A:two": 2, "B:b": 2 },
      internal: { "A.y": 4 },
    });
    expect(perClass(d)).toEqual({ A: 3, B: 2 });
  });

  it("reports each shared object per request, all instances and the busiest, item sets apart from per-id ledgers", () => {
    const shared = sharedObjects(
      {
        methods: {},
        internal: {},
        objects: {
          "TenantDirectory:directory": 5,
          "UsageMeter:t1:s1": 4,
          "UsageMeter:t1:s2": 6,
          "RateCounter:key:abc": 10,
          "OwnershipLedger:items:shop": 8,
          "OwnershipLedger:resp_1": 100,
          "ResponseIndex:resp_1": 50,
        },
      },
      10,
    );
    expect(shared).toEqual({
      TenantDirectory: { calls_per_request: 0.5, instances: 1, busiest: "directory", busiest_calls_per_request: 0.5 },
      UsageMeter: { calls_per_request: 1, instances: 2, busiest: "t1:s2", busiest_calls_per_request: 0.6 },
      RateCounter: { calls_per_request: 1, instances: 1, busiest: "key:abc", busiest_calls_per_request: 1 },
      OwnershipLedger_item_set: {
        calls_per_request: 0.8,
        instances: 1,
        busiest: "items:shop",
        busiest_calls_per_request: 0.8,
      },
    });
  });
});

describe("the downloads case's round, split", () => {
  it("keeps usage batches and tracker alarms apart from the calls on a download's path", () => {
    expect(
      splitRoundCalls({
        "UsageMeter.apply": 2,
        "ContainerTracker.alarm": 3,
        "ResponseIndex.resolve": 1,
        "ContainerTracker.waitForFile": 1,
      }),
    ).toEqual({
      request_path: { "ResponseIndex.resolve": 1, "ContainerTracker.waitForFile": 1 },
      request_path_total: 2,
      usage_batches: 2,
      tracker_alarms: 3,
    });
    expect(splitRoundCalls({})).toEqual({
      request_path: {},
      request_path_total: 0,
      usage_batches: 0,
      tracker_alarms: 0,
    });
  });
});
