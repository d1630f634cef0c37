/**
 * A vitest reporter that prints the `summary` annotations of every test, passed or not, after the
 * run: `silent: "passed-only"` (vitest.config.ts) hides a passing test's console output, but some
 * tests end with a line CI must show (the bad-input suite's `inputs tried: N, unexpected answers:
 * 0`). A test adds one with `await annotate(line, "summary")`.
 * https://vitest.dev/guide/test-annotations , https://vitest.dev/advanced/reporters
 */
import type { Reporter, TestCase, TestAnnotation } from "vitest/node";

export default class SummaryReporter implements Reporter {
  #lines: string[] = [];

  onTestCaseAnnotate(testCase: TestCase, annotation: TestAnnotation): void {
    if (annotation.type === "summary")
      this.#lines.push(
        `${testCase.project.name} ${testCase.module.relativeModuleId} > ${testCase.name}: ${annotation.message}`,
      );
  }

  onTestRunEnd(): void {
    if (this.#lines.length === 0) return;
    process.stdout.write(`\nSummaries\n${this.#lines.map((l) => `  ${l}\n`).join("")}`);
    this.#lines = [];
  }
}
