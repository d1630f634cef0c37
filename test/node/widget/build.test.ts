import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { bundleWidget, GENERATED_PATH } from "../../../scripts/build-widget.mjs";

describe("widget build", () => {
  it("the committed bundle module is what the build makes from widget/src now", async () => {
    const out = await bundleWidget();
    expect(
      readFileSync(GENERATED_PATH, "utf8"),
      "run `npm run build:widget` and commit src/routes/widget-bundle.generated.ts",
    ).toBe(out.module);
  });

  it("publishes the SRI hash of exactly the served bytes, stays under 25 KB gzipped, and has no eval", async () => {
    const out = await bundleWidget();
    expect(out.integrity).toBe(`sha384-${createHash("sha384").update(out.code).digest("base64")}`);
    expect(out.gzipBytes).toBeLessThan(25 * 1024);
    expect(out.code).not.toMatch(/\beval\(|new Function\(|innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
  });
});
