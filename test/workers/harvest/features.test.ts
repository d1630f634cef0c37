/**
 * A tenant's defaults for the opt-in request features (file instructions, managed containers,
 * repair), set through the admin API: without a header they apply to every request of the
 * tenant's keys; a request's own header still turns a feature on or off.
 */
import { describe, expect, it } from "vitest";
import { FILE_INSTRUCTIONS } from "../../../src/harvest/file-instructions";
import { resolveFeature } from "../../../src/harvest/features";
import { direct } from "../support/clients";
import { upstreamCopy } from "../support/scenario";
import { adminCall, makeTenant, sdk } from "../support/tenants";

const TOOLS = [{ type: "code_interpreter" as const, container: { type: "auto" as const } }];

describe("feature defaults per tenant", () => {
  it("resolves header over tenant over deployment", () => {
    expect(resolveFeature(undefined, undefined, false)).toBe(false);
    expect(resolveFeature(undefined, undefined, true)).toBe(true);
    expect(resolveFeature(undefined, true, false)).toBe(true);
    expect(resolveFeature(undefined, false, true)).toBe(false);
    expect(resolveFeature(" ON ", false, false)).toBe(true);
    expect(resolveFeature("0", true, true)).toBe(false);
    expect(resolveFeature("off", true, true)).toBe(false);
    // A word that is neither is no answer: the defaults decide.
    expect(resolveFeature("maybe", true, false)).toBe(true);
  });

  it("file instructions and managed containers on by default for a tenant, off again per request", async () => {
    const t = await makeTenant();
    const set = await adminCall("PATCH", `/admin/tenants/${t.id}`, { features: { file_instructions: true, managed_containers: true } });
    expect(set.status).toBe(200);
    expect(set.body.features).toEqual({ file_instructions: true, managed_containers: true });
    expect((await adminCall("GET", `/admin/tenants/${t.id}`)).body.features).toEqual({ file_instructions: true, managed_containers: true });

    // No header: both apply.
    const on = await sdk("multi", t.secret).responses.create({ model: "gpt-5", input: "Write a file.\nsim: scenario=one-file", instructions: "Be brief.", tools: TOOLS });
    const upstreamOn = await upstreamCopy(on.id);
    expect(upstreamOn.instructions).toBe(`Be brief.\n\n${FILE_INSTRUCTIONS}`);
    const call = upstreamOn.output.find((o) => o.type === "code_interpreter_call") as { container_id: string };
    expect((await direct().containers.retrieve(call.container_id)).name).toMatch(new RegExp(`^unsandbox-${t.id}-`));

    // The request's own headers win.
    const off = await sdk("multi", t.secret, { "x-unsandbox-file-instructions": "0", "x-unsandbox-managed-container": "off" }).responses.create({
      model: "gpt-5",
      input: "Write a file.\nsim: scenario=one-file",
      instructions: "Be brief.",
      tools: TOOLS,
    });
    const upstreamOff = await upstreamCopy(off.id);
    expect(upstreamOff.instructions).toBe("Be brief.");
    const offCall = upstreamOff.output.find((o) => o.type === "code_interpreter_call") as { container_id: string };
    expect((await direct().containers.retrieve(offCall.container_id)).name).not.toMatch(/^unsandbox-/);
  });

  it("a tenant without defaults keeps everything off; unknown feature names are refused", async () => {
    const t = await makeTenant();
    expect((await adminCall("GET", `/admin/tenants/${t.id}`)).body.features).toEqual({});
    const r = await sdk("multi", t.secret).responses.create({ model: "gpt-5", input: "sim: scenario=no-tool", instructions: "Be brief.", tools: TOOLS });
    expect((await upstreamCopy(r.id)).instructions).toBe("Be brief.");
    const bad = await adminCall("PATCH", `/admin/tenants/${t.id}`, { features: { file_instructionz: true } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.param).toContain("features");
  });
});
