/**
 * @module test/node/support/conformance
 * Assertions shared by the spec conformance tests: a body conforms, and a deliberately broken
 * copy does not (the negative control that proves the validator is wired to that schema).
 */
import { expect } from "vitest";
import type { SpecValidator } from "./spec";

/** Asserts `value` validates against `components.schemas[name]`, printing ajv's errors if not. */
export function expectConforms(spec: SpecValidator, name: string, value: unknown): void {
  const errors = spec.errors(name, value);
  expect(errors, `${name}: ${errors.slice(0, 8).join("; ")} in ${JSON.stringify(value).slice(0, 300)}`).toEqual([]);
}

/** Asserts the validator rejects `broken` against `components.schemas[name]`. */
export function expectRejected(spec: SpecValidator, name: string, broken: unknown): void {
  expect(
    spec.errors(name, broken).length,
    `${name} accepted a broken sample: ${JSON.stringify(broken).slice(0, 400)}`,
  ).toBeGreaterThan(0);
}

/**
 * Negative controls from a conforming sample: for each property the schema requires at the top
 * level, a copy without it must be rejected. Returns how many controls ran (so a caller can assert
 * that some did).
 */
export function expectEachRequiredEnforced(spec: SpecValidator, name: string, sample: Record<string, unknown>): number {
  const required = spec.required(name);
  for (const key of required) {
    const broken = structuredClone(sample);
    delete broken[key];
    expectRejected(spec, name, broken);
  }
  return required.length;
}
