import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { MULTI_TENANT_ADMIN_SECRET, SIM_KEY, SIM_OTHER_ORG_KEY } from "./test/test-keys";

/**
 * Three projects, one command (`npm test`):
 * - `workers`: the Worker itself inside workerd, with real R2 and Durable Objects. Every outbound
 *   fetch (from the Worker, its Durable Objects and the tests) goes to the simulated upstream,
 *   bundled by test/global-setup.ts and run as the auxiliary worker `sim`, so production code has
 *   no test-only path.
 * - `workers-multi-tenant`: the same, deployed in multi-tenant mode (test/workers/multi-tenant).
 * - `node`: drives real processes (npm start, the simulator under wrangler dev, spec validation),
 *   and runs the unit tests of pure modules that sit beside them in src/ (e.g. src/tracker/policy.test.ts).
 */

// Every setting is pinned here so that a developer's .dev.vars never leaks into a test.
export const TEST_BINDINGS = {
  OPENAI_API_KEY: SIM_KEY,
  OPENAI_BASE_URL: "https://api.openai.com/v1",
  UNSANDBOX_API_KEY: "usk_test_0123456789abcdef",
  PUBLIC_FILES_ORIGIN: "https://files.unsandbox.test",
  LINK_SECRETS: "k2:test-secret-two-0123456789abcdef0123,k1:test-secret-one-0123456789abcdef0123",
  UNSANDBOX_PUBLISHABLE_KEY: "pk_test_widget",
  UNSANDBOX_ALLOWED_ORIGINS: "https://host.example",
  // No scenario writes these; the limits suite proves they are skipped.
  UNSANDBOX_BLOCKED_EXTENSIONS: "exe,.SCR",
  // Seals pass-through callers' keys for the trackers (the pass-through suite runs with these too).
  TENANT_KEY_ENCRYPTION_KEYS: "p1:passthrough-enc-0123456789abcdef0123",
  // Usage batches every 250 ms (production: 20 s), so suites that read usage back need not wait;
  // the call-budget suite runs a warm download with the default (test/workers/budgets).
  USAGE_FLUSH_MS: "250",
};

/**
 * A workerd project: the Worker with `bindings`, every outbound fetch answered by the simulator.
 * The Durable Objects read the same bindings, so a mode set here is the mode they run in.
 */
function workersProject(
  name: string,
  bindings: Record<string, string>,
  test: { include: string[]; exclude?: string[] },
) {
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          bindings,
          outboundService: "sim",
          workers: [
            {
              name: "sim",
              modules: true,
              scriptPath: "./test/.build/sim.mjs",
              compatibilityDate: "2026-11-01",
              bindings: { SIM_API_KEY: `${TEST_BINDINGS.OPENAI_API_KEY},${SIM_OTHER_ORG_KEY}` },
            },
          ],
        },
      }),
    ],
    test: { name, ...test, globalSetup: ["./test/global-setup.ts"], testTimeout: 60_000 },
  };
}

export default defineConfig({
  test: {
    // Every request and copy job writes a JSON log line; show them only for tests that fail.
    silent: "passed-only",
    // Lines a passing test must still show (its `summary` annotations) are printed after the run.
    reporters: ["default", "./test/reporters/summary.ts"],
    projects: [
      workersProject("workers", TEST_BINDINGS, {
        include: ["test/workers/**/*.test.ts"],
        exclude: ["test/workers/multi-tenant/**"],
      }),
      // The same Worker deployed in multi-tenant mode, Durable Objects included (the suites above
      // call the fetch handler with a mode's env, but the objects keep the deployment's bindings).
      workersProject(
        "workers-multi-tenant",
        { ...TEST_BINDINGS, UNSANDBOX_MODE: "multi-tenant", ADMIN_SECRET: MULTI_TENANT_ADMIN_SECRET },
        { include: ["test/workers/multi-tenant/**/*.test.ts"] },
      ),
      {
        test: {
          name: "node",
          environment: "node",
          // Pure modules keep their unit tests beside them (src/**/*.test.ts); they need no workerd.
          include: ["test/node/**/*.test.ts", "src/**/*.test.ts"],
          testTimeout: 180_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
