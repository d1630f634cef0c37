/**
 * @module auth/bearer
 * `requireSecretKey`, kept as the name of the `/v1/*` authentication (see auth/authenticate.ts
 * for what it checks in each mode), and `constantTimeEqual` (now in auth/keys.ts).
 */
import { authenticate } from "./authenticate";

export { constantTimeEqual } from "./keys";

/** Authentication for `/v1/*`: secret keys, or publishable keys with a visitor session. */
export const requireSecretKey = authenticate({ session: "required" });
