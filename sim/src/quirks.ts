/**
 * @module quirks
 * The quirks of real traffic (those the real API has not confirmed yet are listed in
 * docs/assumptions.md), each on by default and each with a switch, plus the simulator's numeric
 * settings. Switches resolve from
 * the most specific place that sets them: a request's directive, then the container, then the
 * global config (`/__sim/config`).
 */
import { SimError } from "./errors";

/** Every quirk switch, with its default. `true` means "behave like real traffic". */
export const QUIRK_DEFAULTS = {
  /** `annotation.added` events come after the last text delta of their part. */
  annotations_after_text: true,
  /** Text deltas are 1–4 characters, cut anywhere; off: one delta per word. */
  tiny_deltas: true,
  /** Delta events carry an `obfuscation` padding field. */
  obfuscation: true,
  /** The stream carries undocumented `keepalive` events. */
  keepalive: true,
  /** The `error` event nests its payload (`{error:{type,code,message,param}}`); off: flat, as the spec says. */
  nested_error_event: true,
  /** A shown figure gets a zero-span citation `cfile_<id>.png` and a `data:image/png;base64,…` output. */
  figure_citation: true,
  /** Generated (`source: "assistant"`) files report `bytes: null`. */
  null_bytes: true,
  /** The content endpoint sends no `Content-Type`. */
  no_content_type: true,
  /** The content endpoint's ASCII `filename=` is a placeholder `file.<ext>` (the real name only in `filename*`). */
  placeholder_filename: true,
  /** A generated file is listed only `late_listing_ms` after the message citing it starts. */
  late_listing: true,
  /** Listings hold a user upload with a renamed path and a junk entry (several paths joined). */
  dirty_listing: true,
  /** The content endpoint answers gzip-encoded when `Accept-Encoding` allows it. */
  gzip: true,
  /** Gzip even when the client asks for `identity` (some gateways do). Off by default. */
  force_gzip: false,
  /** Answer `Range` with 206; the real endpoint ignores it. Off by default. */
  honour_range: false,
  /** Annotation indices count code points; off: UTF-16 code units. */
  codepoint_indices: true,
  /** Links come without their `container_file_citation` (it happens, not always). Off by default. */
  missing_citations: false,
  /**
   * Writing an existing path again keeps the file's id and `created_at` (only the bytes change);
   * off: a new id, as assumed (docs/assumptions.md §4). Off by default: unconfirmed either way.
   */
  same_id_rewrite: false,
} as const;

export type QuirkName = keyof typeof QUIRK_DEFAULTS;
export type Quirks = { [K in QuirkName]: boolean };
export type QuirkOverrides = Partial<Quirks>;

/** Numeric settings (global only, except where a container or directive says otherwise). */
export interface Settings {
  /** Delay between the start of the citing message and a generated file appearing in listings. */
  late_listing_ms: number;
  /** Idle time after which a container expires (the real API: 20 minutes). */
  expire_idle_ms: number;
  /** Pause between SSE events (0 in tests; a little for the demo). */
  pace_ms: number;
  /** How long a background response takes from `queued` to `completed`. */
  background_ms: number;
}

export const SETTING_DEFAULTS: Settings = {
  late_listing_ms: 2_000,
  expire_idle_ms: 20 * 60_000,
  pace_ms: 0,
  background_ms: 600,
};

export const isQuirkName = (name: string): name is QuirkName => Object.hasOwn(QUIRK_DEFAULTS, name);

/** Merges override layers, least specific first, over the defaults. */
export function resolveQuirks(...layers: (QuirkOverrides | undefined)[]): Quirks {
  const out: Quirks = { ...QUIRK_DEFAULTS };
  for (const layer of layers) {
    if (!layer) continue;
    for (const [k, v] of Object.entries(layer)) if (isQuirkName(k) && typeof v === "boolean") out[k] = v;
  }
  return out;
}

/**
 * Parses `-late_listing,+honour_range,gzip` (a bare name means on) into overrides.
 * Unknown names are refused so a typo in a test cannot silently test nothing.
 */
export function parseQuirkList(text: string): QuirkOverrides {
  const out: QuirkOverrides = {};
  for (const raw of text.split(",")) {
    const item = raw.trim();
    if (!item) continue;
    const on = !item.startsWith("-");
    const name = item.replace(/^[+-]/, "");
    if (!isQuirkName(name)) throw new SimError(400, `sim: unknown quirk '${name}'`, { param: "sim.quirks" });
    out[name] = on;
  }
  return out;
}

/** Checks an object of overrides as sent to the control API. */
export function checkQuirkObject(value: unknown, where: string): QuirkOverrides {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) throw new SimError(400, `${where}: quirks must be an object`);
  const out: QuirkOverrides = {};
  for (const [k, v] of Object.entries(value)) {
    if (!isQuirkName(k)) throw new SimError(400, `${where}: unknown quirk '${k}'`, { param: `quirks.${k}` });
    if (typeof v !== "boolean")
      throw new SimError(400, `${where}: quirk '${k}' must be a boolean`, { param: `quirks.${k}` });
    out[k] = v;
  }
  return out;
}
