/**
 * The validator itself, before any traffic: it is wired to the real document (the spec's own
 * examples validate, a broken copy does not), and it maps every streamed event type to its schema.
 */
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { readFileSync } from "node:fs";
import { expectConforms, expectRejected } from "../support/conformance";
import { loadSpec, SPEC_MISSING, SPEC_PATH } from "../support/spec";

const spec = loadSpec();
if (!spec) console.warn(SPEC_MISSING);

describe.skipIf(!spec)(spec ? "the OpenAI spec validator" : SPEC_MISSING, () => {
  const s = spec!;

  it("maps each ResponseStreamEvent member to its event type", () => {
    expect(s.eventSchema("response.created")).toBe("ResponseCreatedEvent");
    expect(s.eventSchema("response.output_text.annotation.added")).toBe("ResponseOutputTextAnnotationAddedEvent");
    expect(s.eventSchema("response.code_interpreter_call_code.delta")).toBe(
      "ResponseCodeInterpreterCallCodeDeltaEvent",
    );
    expect(s.eventSchema("error")).toBe("ResponseErrorEvent");
    // Known deviation (facts §3.2): real streams carry `keepalive`, which no schema describes.
    expect(s.eventSchema("keepalive")).toBeUndefined();
    expect(s.eventTypes().length).toBeGreaterThan(40);
  });

  it("the spec's own container examples validate, and broken copies do not", () => {
    const doc = parse(readFileSync(SPEC_PATH, "utf8")) as {
      components: { schemas: Record<string, { "x-oaiMeta"?: { example?: string } }> };
    };
    for (const name of ["ContainerResource", "ContainerFileResource"]) {
      const example = JSON.parse(doc.components.schemas[name]!["x-oaiMeta"]!.example!);
      expectConforms(s, name, example);
      expectRejected(s, name, { ...example, id: 1 });
    }
  });

  it("the nested error event of real traffic fails the spec's flat ResponseErrorEvent (a known deviation)", () => {
    const flat = { type: "error", code: "insufficient_quota", message: "quota", param: null, sequence_number: 2 };
    expectConforms(s, "ResponseErrorEvent", flat);
    const nested = {
      type: "error",
      sequence_number: 2,
      error: { type: "insufficient_quota", code: "insufficient_quota", message: "quota", param: null },
    };
    expectRejected(s, "ResponseErrorEvent", nested);
  });
});
