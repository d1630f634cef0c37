// The import rule of src/ (docs/architecture.md explains each layer): no circular imports, and
// a module imports only from its own layer or the layers below it. Type-only imports count too,
// because a type names the module it comes from. Check with `npm run lint:layers` (CI runs it).
// @ts-check

/**
 * The layers, top to bottom. A module may import its own layer and any layer below it, never one
 * above. Paths are relative to the repository root.
 * @type {{ name: string; path: string; what: string }[]}
 */
const LAYERS = [
  {
    name: "entry",
    path: "^src/index[.]ts$",
    what: "the Worker entry: mounts every route, exports the Durable Object classes",
  },
  { name: "routes", path: "^src/routes/", what: "HTTP surfaces: parse, call the layer below, relay" },
  {
    name: "pipeline",
    path: "^src/harvest/",
    what: "the response pipeline: request edits, the harvest and the final answer",
  },
  { name: "auth", path: "^src/auth/", what: "the front door: who calls, what they may reach and name" },
  { name: "tracker", path: "^src/tracker/", what: "the file Durable Objects: ContainerTracker and ResponseIndex" },
  {
    name: "tenants",
    path: "^src/tenants/",
    what: "tenant state: directory, keys at rest, ownership, rate counters, takedowns",
  },
  { name: "storage", path: "^src/storage/", what: "R2 copies, limits, key layout, container reads" },
  { name: "upstream", path: "^src/upstream/", what: "calls to the OpenAI API and its SSE framing" },
  { name: "observability", path: "^src/observability/", what: "the request log line and copy-job events" },
  { name: "metering", path: "^src/metering/", what: "usage counters (UsageMeter) and the one call that records usage" },
  {
    name: "durable",
    path: "^src/durable/",
    what: "Durable Object plumbing: the SQLite schema-migration helper, the per-isolate lookup cache in front of shared objects",
  },
  {
    name: "core",
    path: "^src/(links|http|encoding|schemas)/",
    what: "pure code: the link engine, HTTP helpers, encodings, request schemas",
  },
  {
    name: "foundation",
    path: "^src/(app|config|errors|log|overload)([.]test)?[.]ts$",
    what: "the app's types and error mapping, the configuration contract, UnsandboxError, overload classification, the log-line writer",
  },
];

/** One rule per layer: nothing in it imports a layer above it. */
const upward = LAYERS.slice(1).map((layer, i) => {
  const above = LAYERS.slice(0, i + 1);
  return {
    name: `layer-${layer.name}`,
    comment: `${layer.name} (${layer.what}) must not import a layer above it: ${above.map((l) => l.name).join(", ")}`,
    severity: /** @type {const} */ ("error"),
    from: { path: layer.path },
    to: { path: above.map((l) => l.path) },
  };
});

/** @type {import("dependency-cruiser").IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      comment: "An import circle makes two modules one: neither can be read, tested or moved alone.",
      severity: "error",
      from: { path: "^src/" },
      to: { circular: true },
    },
    {
      name: "layer-unknown",
      comment:
        "Every module of src/ belongs to a layer: add a new folder to LAYERS in .dependency-cruiser.cjs and to docs/architecture.md.",
      severity: "error",
      from: { path: "^src/", pathNot: LAYERS.map((l) => l.path) },
      to: {},
    },
    ...upward,
  ],
  options: {
    // TypeScript 7 has no JavaScript API for dependency-cruiser to parse with, so swc parses; it
    // keeps `import type` in the graph (dependency type "type-only"), as the rules want.
    parser: "swc",
    tsConfig: { fileName: "tsconfig.json" },
    doNotFollow: { path: "node_modules" },
  },
};
