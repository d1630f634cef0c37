/**
 * Keys and secrets of the test runs (no imports: read by vitest.config.ts and by tests in workerd).
 * SIM_KEY is the deployment's OPENAI_API_KEY; SIM_OTHER_ORG_KEY is another organisation's key, e.g.
 * a pass-through caller's or a tenant's own OpenAI key, whose containers SIM_KEY cannot see
 * (sim/src/orgs.ts).
 */
export const SIM_KEY = "sk-sim-test";
export const SIM_OTHER_ORG_KEY = "sk-sim-test-org2";
/** ADMIN_SECRET of the multi-tenant project (its tests create tenants through the admin API). */
export const MULTI_TENANT_ADMIN_SECRET = "admin-secret-for-tests-0123456789abcdef";
