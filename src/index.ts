/**
 * unsandbox: the Worker entry point. Mounts the routes and exports the Durable Object classes.
 */
import { createApp } from "./app";
import { installSecurity } from "./auth/install";
import { filesRoute } from "./routes/files";
import { passthrough } from "./routes/passthrough";
import { responses } from "./routes/responses";
import { responsesRead } from "./routes/responses-read";
import { widget } from "./routes/widget";

export { ContainerTracker } from "./tracker/container-tracker";
export { ResponseIndex } from "./tracker/response-index";
export { TenantDirectory } from "./tenants/directory";
export { OwnershipLedger } from "./tenants/ownership";
export { RateCounter } from "./tenants/rate-counter";

const app = createApp();

app.get("/healthz", (c) => c.json({ ok: true }));
// Downloads: no bearer auth, the signed token in the path is the credential.
app.route("/", filesRoute);
// The widget script, its SRI hash and the demo page: public, no key.
app.route("/", widget);
// Body limits, CORS, authentication and the ownership guard on /v1/*; /admin/* and /widget/session.
installSecurity(app);
app.route("/", responses);
app.route("/", responsesRead);
// Last: whatever /v1 route unsandbox does not handle itself goes upstream as it is.
app.route("/", passthrough);

export default app;
