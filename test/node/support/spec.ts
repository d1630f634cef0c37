/**
 * @module test/node/support/spec
 * Validates bodies against the official OpenAI OpenAPI document (`../shared/reference/openapi.yaml`
 * beside the clone; never copied into the repo). OpenAPI 3.1 schemas are JSON Schema 2020-12, so
 * the whole document is added to ajv under one `$id` and each schema is compiled as a `$ref` into it.
 */
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { parse } from "yaml";

/** Where the spec sits: beside the clone, as in this project's CI. */
export const SPEC_PATH = resolve(
  fileURLToPath(new URL("../../..", import.meta.url)),
  "..",
  "shared",
  "reference",
  "openapi.yaml",
);

/** The message a suite skips with when the spec is absent. */
export const SPEC_MISSING = `OpenAI spec not found at ${SPEC_PATH}: spec conformance tests skipped (place openapi.yaml there to run them)`;

const SPEC_ID = "https://unsandbox.test/openai-openapi.json";

export interface SpecValidator {
  /** `info.version` of the loaded document. */
  version: string;
  /** Validation errors of `value` against `components.schemas[name]` (empty when valid). */
  errors(name: string, value: unknown): string[];
  /** The `ResponseStreamEvent` member named for an event `type`, e.g. `response.created` → `ResponseCreatedEvent`. */
  eventSchema(type: string): string | undefined;
  /** Every event type the spec's `ResponseStreamEvent` union lists. */
  eventTypes(): string[];
  /** The top-level `required` list of `components.schemas[name]` (for negative controls). */
  required(name: string): string[];
}

interface SchemaObject {
  required?: string[];
  anyOf?: { $ref?: string }[];
  properties?: { type?: { enum?: string[]; const?: string } };
}

/** Loads and wires the spec, or returns `null` when the file is absent. */
export function loadSpec(path = SPEC_PATH): SpecValidator | null {
  if (!existsSync(path)) return null;
  const doc = parse(readFileSync(path, "utf8")) as {
    info: { version: string };
    components: { schemas: Record<string, SchemaObject> };
  };
  // strict: false because the document carries OpenAPI keywords ajv does not know
  // (`discriminator`, `x-oaiMeta`, `x-stainless-*`, `example`).
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  // ajv-formats is CommonJS; its default export arrives wrapped under Node's ESM interop.
  const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ??
    addFormatsModule) as (a: Ajv2020) => void;
  addFormats(ajv);
  // OpenAI's own format for timestamps: unix seconds.
  ajv.addFormat("unixtime", { type: "number", validate: (n: number) => Number.isInteger(n) && n >= 0 });
  ajv.addSchema({ ...doc, $id: SPEC_ID });

  const compiled = new Map<string, ValidateFunction>();
  const validator = (name: string) => {
    let v = compiled.get(name);
    if (!v) {
      if (!doc.components.schemas[name]) throw new Error(`the spec has no components.schemas.${name}`);
      v = ajv.compile({ $ref: `${SPEC_ID}#/components/schemas/${name}` });
      compiled.set(name, v);
    }
    return v;
  };

  const events = new Map<string, string>();
  for (const member of doc.components.schemas.ResponseStreamEvent?.anyOf ?? []) {
    const name = member.$ref?.split("/").pop();
    const schema = name ? doc.components.schemas[name] : undefined;
    const type = schema?.properties?.type?.enum?.[0] ?? schema?.properties?.type?.const;
    if (name && type) events.set(type, name);
  }

  return {
    version: doc.info.version,
    errors(name, value) {
      const v = validator(name);
      if (v(value)) return [];
      return (v.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message ?? ""} ${JSON.stringify(e.params)}`);
    },
    eventSchema: (type) => events.get(type),
    eventTypes: () => [...events.keys()],
    required: (name) => [...(doc.components.schemas[name]?.required ?? [])],
  };
}
