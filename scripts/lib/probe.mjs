// @ts-check
/**
 * @module scripts/lib/probe
 * The checks behind `npm run probe:real`: each asks the upstream one question this project could
 * not answer offline, and returns what it observed. They run against the real OpenAI API (or any
 * compatible upstream) and, in the tests, against the simulator in each of its switch settings.
 *
 * The prompts carry a last line `sim: …`: a directive the simulator follows (sim/README.md,
 * "Scenarios") and a real model ignores, so the same probe drives both.
 */

/**
 * @typedef {object} ProbeTarget
 * @property {string} baseURL  e.g. https://api.openai.com/v1
 * @property {string} apiKey
 * @property {string} [model]  default gpt-5
 * @property {(msg: string) => void} [log]
 */

/**
 * @typedef {object} ProbeReport
 * @property {string} date                ISO timestamp of the run
 * @property {string} upstream            the base URL's origin
 * @property {string} model
 * @property {{ honoured: boolean, status: number, detail: string }} range
 * @property {{ unit: "codepoints" | "utf16" | "undetermined", detail: string }} indexUnit
 * @property {{ retrieveRefreshes: boolean, listRefreshes: boolean | null, detail: string }} lastActive
 * @property {{ sameId: boolean, oldContentGone: boolean, detail: string }} overwrite
 * @property {{ listedAtOnce: boolean, delayMs: number | null, detail: string }} listing
 * @property {{ unknownFile: Refusal, deletedContainer: Refusal }} errors
 */

/**
 * @typedef {object} Refusal
 * @property {number} status
 * @property {string | null} message   `error.message` of the answer
 * @property {"expired" | "file_gone" | "no_api" | "other"} reads   how unsandbox classifies it
 */

/**
 * The 404 classes of `classifyFailure` in src/upstream/containers.ts, by the same message patterns
 * (the script cannot import the Worker's TypeScript). The probe test checks both agree on the
 * simulator's answers.
 * @param {number} status @param {string | null} message
 * @returns {Refusal["reads"]}
 */
export function readsAs(status, message) {
  const m = message ?? "";
  if (/container (is|has) expired/i.test(m)) return "expired";
  if (status !== 404 && status !== 410) return "other";
  if (/not found on container/i.test(m)) return "file_gone";
  if (/container[^.]*not found|no such container/i.test(m)) return "expired";
  return "no_api";
}

const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));

/** @param {ProbeTarget} t */
function client(t) {
  const base = t.baseURL.replace(/\/+$/, "");
  /** @param {string} path @param {RequestInit} [init] */
  const raw = (path, init = {}) => {
    const headers = new Headers(init.headers);
    headers.set("authorization", `Bearer ${t.apiKey}`);
    return fetch(`${base}${path}`, { ...init, headers });
  };
  /** @param {string} path @param {RequestInit & { json?: unknown }} [init] */
  const json = async (path, init = {}) => {
    const { json: body, ...rest } = init;
    const res = await raw(
      path,
      body === undefined
        ? rest
        : {
            ...rest,
            method: rest.method ?? "POST",
            body: JSON.stringify(body),
            headers: { "content-type": "application/json" },
          },
    );
    const text = await res.text();
    if (!res.ok)
      throw new Error(
        `${init.method ?? (body === undefined ? "GET" : "POST")} ${path} answered ${res.status}: ${text.slice(0, 300)}`,
      );
    return JSON.parse(text);
  };
  return { raw, json };
}

/** The text of a Response's last message, and its container_file_citation annotations. */
function lastMessage(/** @type {any} */ response) {
  const messages = (response.output ?? []).filter((/** @type {any} */ i) => i.type === "message");
  for (const m of messages.reverse()) {
    for (const part of m.content ?? []) {
      const cites = (part.annotations ?? []).filter((/** @type {any} */ a) => a.type === "container_file_citation");
      if (part.type === "output_text" && cites.length) return { text: String(part.text), annotations: cites };
    }
  }
  return null;
}

/**
 * Which unit an annotation's indices count: the unit under which its span is exactly a sandbox
 * link. Undetermined when both units agree (no astral-plane character before it) or neither fits.
 * @param {string} text @param {{start_index:number,end_index:number}} a
 * @returns {"codepoints" | "utf16" | "undetermined"}
 */
export function indexUnitOf(text, a) {
  const cps = [...text];
  const asUtf16 = text.slice(a.start_index, a.end_index);
  const asCp = cps.slice(a.start_index, a.end_index).join("");
  // Exactly the link destination (observed) or exactly the whole markdown link; a span read in the
  // wrong unit is shifted and cuts one of them.
  const fits = (/** @type {string} */ s) =>
    /^sandbox:[^\s()[\]]+$/.test(s) || /^\[[^\]]*\]\(sandbox:[^\s)]+\)$/.test(s);
  if (asUtf16 === asCp) return "undetermined";
  if (fits(asCp) && !fits(asUtf16)) return "codepoints";
  if (fits(asUtf16) && !fits(asCp)) return "utf16";
  return "undetermined";
}

/**
 * Runs every check once, in one conversation of two turns and one container, then deletes it.
 * @param {ProbeTarget} t
 * @returns {Promise<ProbeReport>}
 */
export async function runProbe(t) {
  const log = t.log ?? (() => {});
  const model = t.model ?? "gpt-5";
  const api = client(t);
  const tools = [{ type: "code_interpreter", container: { type: "auto" } }];

  log("turn 1: the model writes a file and links it after an emoji");
  const first = await api.json("/responses", {
    json: {
      model,
      tools,
      input:
        "Use python to write the numbers 1 to 2000, one per line, to /mnt/data/a.csv. " +
        "Then reply with exactly this text and nothing else: 📊 Results are ready 🎉 [a.csv](sandbox:/mnt/data/a.csv)\n" +
        "sim: scenario=link-forms",
    },
  });
  const answeredAt = Date.now();
  const msg = lastMessage(first);
  if (!msg)
    throw new Error(
      `turn 1 (${first.id}) has no container_file_citation; the checks need one (status ${first.status})`,
    );
  const cite = msg.annotations[0];
  const containerId = String(cite.container_id);
  const fileId = String(cite.file_id);

  // Listing delay: how long after the answer the cited file shows up in the listing.
  log("listing: polling until the cited file is listed");
  /** @type {number | null} */
  let delayMs = null;
  let polls = 0;
  for (; polls < 120; polls++) {
    const list = await api.json(`/containers/${containerId}/files?limit=100&order=desc`);
    if ((list.data ?? []).some((/** @type {any} */ f) => f.id === fileId)) {
      delayMs = Date.now() - answeredAt;
      break;
    }
    await sleep(250);
  }
  const listing = {
    listedAtOnce: polls === 0 && delayMs !== null,
    delayMs,
    detail:
      delayMs === null
        ? "the cited file never appeared within 30 s"
        : polls === 0
          ? "listed on the first listing after the answer"
          : `listed after ${polls} empty listings, ${delayMs} ms after the answer`,
  };

  // Annotation index unit.
  const units = msg.annotations.map((/** @type {any} */ a) => indexUnitOf(msg.text, a));
  const unit = units.find((/** @type {string} */ u) => u !== "undetermined") ?? "undetermined";
  const indexUnit = { unit, detail: `${msg.annotations.length} citation(s); spans read as ${units.join(", ")}` };

  // Range on the content endpoint.
  log("range: content with and without Range");
  const full = new Uint8Array(
    await (
      await api.raw(`/containers/${containerId}/files/${fileId}/content`, {
        headers: { "accept-encoding": "identity" },
      })
    ).arrayBuffer(),
  );
  const ranged = await api.raw(`/containers/${containerId}/files/${fileId}/content`, {
    headers: { range: "bytes=10-19", "accept-encoding": "identity" },
  });
  const part = new Uint8Array(await ranged.arrayBuffer());
  const honoured = ranged.status === 206 && part.length === 10 && part.every((b, i) => b === full[10 + i]);
  const range = {
    honoured,
    status: ranged.status,
    detail: `bytes=10-19 of a ${full.length}-byte file answered ${ranged.status} with ${part.length} bytes${ranged.headers.get("content-range") ? ` (Content-Range: ${ranged.headers.get("content-range")})` : ""}`,
  };

  // last_active_at: does a retrieve refresh it, does a listing?
  log("last_active_at: retrieve, wait, retrieve, wait, list, retrieve");
  const activeAt = async () => (await api.json(`/containers/${containerId}`)).last_active_at ?? null;
  const a0 = await activeAt();
  await sleep(2_200);
  const a1 = await activeAt();
  const retrieveRefreshes = a0 !== null && a1 !== null && a1 > a0;
  await sleep(2_200);
  await api.json(`/containers/${containerId}/files?limit=1`);
  const a2 = await activeAt();
  // If a retrieve refreshes by itself, the retrieve after the listing hides the listing's effect.
  const listRefreshes = retrieveRefreshes ? null : a1 !== null && a2 !== null && a2 > a1;
  const lastActive = {
    retrieveRefreshes,
    listRefreshes,
    detail: `last_active_at ${a0} → ${a1} (retrieve only, 2.2 s apart) → ${a2} (after a listing)`,
  };

  // Overwrite: the next turn writes the same path again.
  log("turn 2: the model overwrites the same path");
  const filename = String(cite.filename ?? "a.csv");
  const before = await sha256(full);
  const second = await api.json("/responses", {
    json: {
      model,
      tools,
      previous_response_id: first.id,
      input: `Overwrite /mnt/data/${filename} with the numbers 1 to 10, one per line, and link it.\nsim: scenario=rewrite-same-path; files=${filename}; quirks=-late_listing`,
    },
  });
  const msg2 = lastMessage(second);
  const newId = msg2 ? String(msg2.annotations[0].file_id) : null;
  const old = await api.raw(`/containers/${containerId}/files/${fileId}/content`, {
    headers: { "accept-encoding": "identity" },
  });
  const oldNow = old.ok ? await sha256(new Uint8Array(await old.arrayBuffer())) : (await old.body?.cancel(), null);
  const overwrite = {
    sameId: newId === fileId,
    oldContentGone: oldNow === null,
    detail: `turn 2 cited ${newId ?? "no file"} (turn 1: ${fileId}); the old id's content now ${oldNow === null ? `answers ${old.status}` : oldNow === before ? "is unchanged" : "has changed"}`,
  };

  // The refusals unsandbox tells apart: a file the container does not have, and a container that is gone.
  log("errors: an unknown file, then the deleted container");
  const unknownFile = await refusal(
    api.raw(`/containers/${containerId}/files/cfile_00000000000000000000000000000000/content`),
  );
  await api
    .raw(`/containers/${containerId}`, { method: "DELETE" })
    .then((r) => r.body?.cancel())
    .catch(() => {});
  const deletedContainer = await refusal(api.raw(`/containers/${containerId}/files?limit=1`));
  const errors = { unknownFile, deletedContainer };
  return {
    date: new Date().toISOString(),
    upstream: new URL(t.baseURL).origin,
    model,
    range,
    indexUnit,
    lastActive,
    overwrite,
    listing,
    errors,
  };
}

/** @param {Promise<Response>} answer @returns {Promise<Refusal>} */
async function refusal(answer) {
  const res = await answer;
  const text = await res.text();
  let message = null;
  try {
    message = JSON.parse(text)?.error?.message ?? null;
  } catch {}
  return { status: res.status, message, reads: readsAs(res.status, message) };
}

/** @param {Uint8Array} bytes */
async function sha256(bytes) {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return [...d].map((b) => b.toString(16).padStart(2, "0")).join("");
}
