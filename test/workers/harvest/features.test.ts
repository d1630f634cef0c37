/**
 * A tenant's defaults for the opt-in request features (file instructions, managed containers,
 * repair, URL citations), set through the admin API: without a header they apply to every request of the
 * tenant's keys; a request's own header still turns a feature on or off.
 */
import { describe, expect, it } from "vitest";
import { SESSION_HEADER } from "../../../src/auth/authenticate";
import { FILE_INSTRUCTIONS } from "../../../src/harvest/file-instructions";
import { resolveFeature } from "../../../src/harvest/features";
import { direct } from "../support/clients";
import { upstreamCopy } from "../support/scenario";
import { adminCall, as, makeTenant, sdk, session } from "../support/tenants";

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
    const set = await adminCall("PATCH", `/admin/tenants/${t.id}`, {
      features: { file_instructions: true, managed_containers: true },
    });
    expect(set.status).toBe(200);
    expect(set.body.features).toEqual({ file_instructions: true, managed_containers: true });
    expect((await adminCall("GET", `/admin/tenants/${t.id}`)).body.features).toEqual({
      file_instructions: true,
      managed_containers: true,
    });

    // No header: both apply.
    const on = await sdk("multi", t.secret).responses.create({
      model: "gpt-5",
      input: "Write a file.\nsim: scenario=one-file",
      instructions: "Be brief.",
      tools: TOOLS,
    });
    const upstreamOn = await upstreamCopy(on.id);
    expect(upstreamOn.instructions).toBe(`Be brief.\n\n${FILE_INSTRUCTIONS}`);
    const call = upstreamOn.output.find((o) => o.type === "code_interpreter_call") as { container_id: string };
    expect((await direct().containers.retrieve(call.container_id)).name).toMatch(new RegExp(`^unsandbox-${t.id}-`));

    // The request's own headers win.
    const off = await sdk("multi", t.secret, {
      "x-unsandbox-file-instructions": "0",
      "x-unsandbox-managed-container": "off",
    }).responses.create({
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
    const r = await sdk("multi", t.secret).responses.create({
      model: "gpt-5",
      input: "sim: scenario=no-tool",
      instructions: "Be brief.",
      tools: TOOLS,
    });
    expect((await upstreamCopy(r.id)).instructions).toBe("Be brief.");
    const bad = await adminCall("PATCH", `/admin/tenants/${t.id}`, { features: { file_instructionz: true } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.param).toContain("features");
  });

  it("URL citations: the tenant's default for its secret and publishable keys; only a secret key's header overrides it", async () => {
    const input = "Write a file.\nsim: scenario=one-file";
    type Output = { type: string; content?: { annotations?: { type: string }[] }[] }[];
    const types = (r: { output?: unknown[] }) =>
      (r.output as Output).flatMap((i) =>
        i.type === "message" ? i.content!.flatMap((p) => (p.annotations ?? []).map((a) => a.type)) : [],
      );
    const create = (key: string, headers: Record<string, string> = {}) =>
      sdk("multi", key, headers).responses.create({ model: "gpt-5", input, tools: TOOLS });
    const widgetCall = async (t: { publishable: string; origin: string }) => {
      const s = await session("multi", t.publishable, t.origin);
      const res = await as("multi", t.publishable, "/v1/responses", {
        method: "POST",
        headers: {
          origin: t.origin,
          [SESSION_HEADER]: s,
          "x-unsandbox-wait-ms": "0",
          "x-unsandbox-url-citations": "on",
        },
        json: { model: "gpt-5", input, tools: TOOLS },
      });
      expect(res.status).toBe(200);
      return types((await res.json()) as { output: unknown[] });
    };

    const plain = await makeTenant();
    // Without a default: a secret key turns it on per request; a publishable key's header is ignored.
    expect(types(await create(plain.secret))).toEqual(["container_file_citation"]);
    expect(types(await create(plain.secret, { "x-unsandbox-url-citations": "on" }))).toEqual(["url_citation"]);
    expect(await widgetCall(plain)).toEqual(["container_file_citation"]);

    const t = await makeTenant();
    const set = await adminCall("PATCH", `/admin/tenants/${t.id}`, { features: { url_citations: true } });
    expect(set.status).toBe(200);
    expect(set.body.features).toEqual({ url_citations: true });
    expect(types(await create(t.secret))).toEqual(["url_citation"]);
    expect(types(await create(t.secret, { "x-unsandbox-url-citations": "off" }))).toEqual(["container_file_citation"]);
    expect(await widgetCall(t)).toEqual(["url_citation"]);
    expect((await adminCall("PATCH", `/admin/tenants/${t.id}`, { features: { url_citations: "yes" } })).status).toBe(
      400,
    );
  });
});
