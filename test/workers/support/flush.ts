/**
 * The usage flush interval the test deployment runs with (`USAGE_FLUSH_MS`, pinned in
 * vitest.config.ts; production's default is src/metering/record.ts FLUSH_MS).
 */
import { env } from "cloudflare:workers";

export const FLUSH_MS = Number((env as unknown as { USAGE_FLUSH_MS: string }).USAGE_FLUSH_MS);
if (!(FLUSH_MS >= 0)) throw new Error("USAGE_FLUSH_MS is not pinned in vitest.config.ts");
