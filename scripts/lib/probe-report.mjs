// @ts-check
/**
 * @module scripts/lib/probe-report
 * Writes docs/assumptions.md: each assumption about the upstream, the code that depends on it, how
 * the simulator models it, and what the last `npm run probe:real` observed (or that it has not run).
 */

/** @typedef {import("./probe.mjs").ProbeReport} ProbeReport */

/**
 * @typedef {object} Assumption
 * @property {string} title
 * @property {string} assumed      what unsandbox assumes (or must cope with)
 * @property {string} code         the code that depends on it
 * @property {string} sim          how the simulator models it (switch names from sim/README.md)
 * @property {(r: ProbeReport) => string} answer   the probe's answer, in words
 */

/** @type {Assumption[]} */
export const ASSUMPTIONS = [
  {
    title: "The content endpoint and `Range`",
    assumed:
      "`GET /containers/{id}/files/{file_id}/content` may ignore `Range` and answer 200 with the whole body; a resumed copy must then skip the bytes it already has.",
    code: "`src/storage/copy.ts` (`copyStep`: resume with `Range: bytes=N-`, `parseContentRange`, `SliceReader` skipping a 200 body) and the tracker's `resumed` hook recording `range_honoured` (`src/tracker/copies.ts`).",
    sim: "Switch `honour_range`, **off** by default (Range ignored, 200 with the full body); on: 206 with `Content-Range`, 416 when unsatisfiable.",
    answer: (r) => `${r.range.honoured ? "**Honoured**" : "**Ignored**"}: ${r.range.detail}.`,
  },
  {
    title: "The unit of annotation indices",
    assumed:
      "`container_file_citation` `start_index`/`end_index` count Unicode code points (observed), not UTF-16 code units as JavaScript strings do; unsandbox detects the unit per response by the exact span and recomputes indices after rewriting.",
    code: '`src/links/annotations.ts` (`IndexUnit`, `DEFAULT_INDEX_UNIT = "cp"`, `AnnotationRemapper`, `rewriteAnnotations`) and `src/links/reverse.ts`.',
    sim: "Switch `codepoint_indices`, **on** by default (code points); off: UTF-16 code units. Scenario `link-forms` puts emoji before the links so the two differ.",
    answer: (r) =>
      `**${r.indexUnit.unit === "codepoints" ? "Code points" : r.indexUnit.unit === "utf16" ? "UTF-16 code units" : "Undetermined"}**: ${r.indexUnit.detail}.`,
  },
  {
    title: "Does listing a container refresh `last_active_at`?",
    assumed:
      "A container expires about 20 minutes after its last activity. The tracker lists containers while a response is harvested; if a listing counts as activity, sweeps keep a container alive (and cost its idle minutes), if not, an idle container expires on schedule while unsandbox watches it.",
    code: "The tracker's sweeps and watch window (`SWEEP_WINDOW_MS`, `WATCH_WINDOW_MS`, `nextSweep` in `src/tracker/policy.ts`, run by `src/tracker/sweeps.ts`) and the expiry handling (`endContainer` with cause `gone` in `src/tracker/store.ts`); managed containers' reuse check (`src/harvest/managed.ts`).",
    sim: "Every container-scoped call (listing, retrieve, content) refreshes `last_active_at`; `expire_idle_ms` sets the idle expiry.",
    answer: (r) =>
      `Retrieving the container ${r.lastActive.retrieveRefreshes ? "**refreshes** it by itself, so a listing's own effect cannot be isolated this way" : "does not refresh it"}; a listing ${r.lastActive.listRefreshes === null ? "is therefore **undetermined**" : r.lastActive.listRefreshes ? "**refreshes** it" : "**does not** refresh it"} (${r.lastActive.detail}).`,
  },
  {
    title: "Overwriting a file: same id or a new one?",
    assumed:
      "Unknown either way: writing the same path again in a later turn may give a new file id (the old id's content gone) or keep the id and `created_at` with new bytes. unsandbox is right in both cases: each turn's link serves the bytes as they were at the end of that turn, and each turn's manifest reports that turn's sha256. A new id is a new file; a later turn that names (cites, links or resolves a linked path to) a file id an earlier turn already holds unchanged gets a version of its own, copied after that turn ended, unless the earlier version's copy had not begun yet (then both share it, since it will read the later bytes).",
    code: "`versionDecision` and `copyBeganBefore` in `src/tracker/version-policy.ts` (part of the policy), applied by `ensureVersion` in `src/tracker/sweeps.ts` (a new version when `created_at` or path differ under one id, or when a later turn names the id after the earlier copy began), `resolvePath` in `src/tracker/container-tracker.ts` (a link resolves to its own response's version, and is pending while that response's harvest runs) and the pinned resolutions of `src/tracker/response-index.ts`; R2 keys per version (`docs/storage.md`).",
    sim: "Scenario `rewrite-same-path`: a new id and new bytes at the same path; the older file is deleted (gone from the listing, content 404). Switch `same_id_rewrite`, **off** by default; on: the rewrite keeps the file's id, `created_at` and listing position, and only its bytes change.",
    answer: (r) =>
      `${r.overwrite.sameId ? "**Same id** (overwritten in place)" : "**New id**"}; ${r.overwrite.detail}.`,
  },
  {
    title: "How late files appear in the listing",
    assumed:
      "A file the model wrote may be missing from `GET /containers/{id}/files` for a while after it is cited, so a sweep lists again with backoff for up to 45 s before a linked path counts as missing.",
    code: "`SWEEP_WINDOW_MS` and `nextSweep` (`src/tracker/policy.ts`), `applyListing` (`src/tracker/sweeps.ts`); annotation file ids are used first and need no listing.",
    sim: "Switch `late_listing`, **on** by default: a generated file is listed only `late_listing_ms` (default 2000) after the citing message starts; off: listed at once.",
    answer: (r) =>
      `${r.listing.listedAtOnce ? "**Listed at once**" : r.listing.delayMs === null ? "**Never listed** within 30 s" : `**Late**, by about ${r.listing.delayMs} ms`}: ${r.listing.detail}.`,
  },
  {
    title: "Telling an expired container, a missing file and a missing API apart",
    assumed:
      'A 404 names what is missing in `error.message`: "Container is expired." or "Container with id … not found." (the container is over), "File … not found on container …" (that file only); a 404 naming neither means the route does not exist (a gateway without the Containers API), and files become `unavailable` instead of being retried.',
    code: "`classifyFailure` in `src/upstream/containers.ts` and the tracker store's `endContainer` (`src/tracker/store.ts`, causes `gone` and `unavailable`).",
    sim: 'Expired container: 404 "Container is expired." on file endpoints; unknown file: 404 "File … not found on container …"; unknown route: 404 "Invalid URL (METHOD /path)".',
    answer: (r) =>
      `An unknown file answered ${r.errors.unknownFile.status} ${JSON.stringify(r.errors.unknownFile.message)} (read as **${r.errors.unknownFile.reads}**); ` +
      `the deleted container's listing answered ${r.errors.deletedContainer.status} ${JSON.stringify(r.errors.deletedContainer.message)} (read as **${r.errors.deletedContainer.reads}**).`,
  },
];

/**
 * The whole docs/assumptions.md.
 * @param {ProbeReport | null} report  the last real probe, or null when it has not run
 */
export function assumptionsMarkdown(report) {
  const out = [
    "# Assumptions about the upstream",
    "",
    "unsandbox was built and tested offline, against the simulator (`sim/`). These are the behaviours of the real",
    "OpenAI API it could not verify there. `npm run probe:real` asks the real API each question and rewrites this file;",
    'run it with a real key (see the README, "Probing the real API").',
    "",
    report
      ? `**Last probe:** ${report.date} against \`${report.upstream}\` with model \`${report.model}\`.`
      : "**Last probe:** not yet run against the real API. The answers below are empty until someone runs `npm run probe:real`.",
    "",
  ];
  ASSUMPTIONS.forEach((a, i) => {
    out.push(
      `## ${i + 1}. ${a.title}`,
      "",
      `- **Assumed:** ${a.assumed}`,
      `- **Code that depends on it:** ${a.code}`,
      `- **Simulator:** ${a.sim}`,
    );
    out.push(
      `- **Probe answer${report ? ` (${report.date.slice(0, 10)})` : ""}:** ${report ? a.answer(report) : "not yet probed."}`,
      "",
    );
  });
  return out.join("\n");
}
