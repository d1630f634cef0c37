/**
 * unsandbox: the Worker entry point. Mounts the routes and exports the Durable Object classes.
 */
import { createApp } from "./app";
import { installSecurity } from "./auth/install";
import { installBackgroundHarvest } from "./harvest/background";
import { requestLog } from "./observability/request-log";
import { frontDoor } from "./http/front-door";
import { filesRoute } from "./routes/files";
import { health } from "./routes/health";
import { metering } from "./routes/metering";
import { openapi } from "./routes/openapi";
import { containers } from "./routes/containers";
import { deletion } from "./routes/deletion";
import { passthrough } from "./routes/passthrough";
import { admin } from "./routes/admin";
import { responses } from "./routes/responses";
import { responsesSocket } from "./routes/responses-socket";
import { widgetSession } from "./routes/widget-session";
import { responsesRead } from "./routes/responses-read";
import { widget } from "./routes/widget";

export { ContainerTracker } from "./tracker/container-tracker";
export { ResponseIndex } from "./tracker/response-index";
export { TenantDirectory } from "./tenants/directory";
export { OwnershipLedger } from "./tenants/item-sets";
export { RateCounter } from "./tenants/rate-counter";
export { UsageMeter } from "./metering/meter";

// A ResponseIndex that sees a background response end hands it to the harvest (a layer above it).
installBackgroundHarvest();

const app = createApp();

// One structured log line per request, and usage metering (src/observability/).
app.use("*", requestLog);
// The front door: a /v1 or /files path spelled any way but the canonical one is refused here,
// before any route, check or upstream call (src/http/canonical-path.ts).
app.use("*", frontDoor);
// R2 and Durable Object checks.
app.route("/", health);
// GET /openapi.json and its page GET /docs: public, like the widget.
app.route("/", openapi);
// Downloads: no bearer auth, the sealed token in the path is the credential; the route itself
// answers 410 for taken-down links and bytes (POST /admin/takedowns).
app.route("/", filesRoute);
// The widget script, its SRI hash and the demo page: public, no key.
app.route("/", widget);
// Body limits, CORS, authentication and the ownership guard on /v1/*; /admin/* and /widget/session.
// Usage report (ADMIN_SECRET); before installSecurity, whose /admin/* middleware is multi-tenant only.
app.route("/", metering);
installSecurity(app);
// The tenant admin API (ADMIN_SECRET, multi-tenant) and visitor sessions for publishable keys.
app.route("/", admin);
app.route("/", widgetSession);
app.route("/", responses);
// WebSocket mode: GET /v1/responses with Upgrade: websocket (without it, the pass-through answers).
app.route("/", responsesSocket);
app.route("/", responsesRead);
app.route("/", containers);
// DELETE of unsandbox's copies (?upstream=true also deletes upstream): before the pass-through.
app.route("/", deletion);
// Last: whatever /v1 route unsandbox does not handle itself goes upstream as it is.
app.route("/", passthrough);

export default app;
