/**
 * The simulator's keys in the tests (no imports: read by vitest.config.ts and by tests inside workerd).
 * The first is the deployment's OPENAI_API_KEY; the second is another organisation's key, e.g. a
 * pass-through caller's own OpenAI key, whose containers the first key cannot see (sim/src/orgs.ts).
 */
export const SIM_KEY = "sk-sim-test";
export const SIM_OTHER_ORG_KEY = "sk-sim-test-org2";
