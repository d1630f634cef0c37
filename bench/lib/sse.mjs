// @ts-check
/**
 * @module bench/lib/sse
 * Reads a `text/event-stream` body as it arrives and timestamps each event, for the streaming
 * case. Deliberately small (data lines joined, comments ignored): the bench only reads streams
 * of the simulator and of unsandbox, which send `event:` + one `data:` line per event.
 */

/**
 * @typedef {object} TimedEvent
 * @property {number} at     ms since the request started
 * @property {string} event  the `event:` field ("message" when absent)
 * @property {any} data      the parsed JSON data (or the raw string when it is not JSON)
 */

/**
 * Posts `body` and collects every event of the answer with its arrival time.
 * @param {string} url
 * @param {Record<string, string>} headers
 * @param {unknown} body
 * @returns {Promise<{ status: number, events: TimedEvent[], endAt: number }>}
 */
export async function postAndCollect(url, headers, body) {
  const started = performance.now();
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "text/event-stream", ...headers },
    body: JSON.stringify(body),
  });
  return collect(res, started);
}

/**
 * @param {string} url
 * @param {Record<string, string>} headers
 * @returns {Promise<{ status: number, events: TimedEvent[], endAt: number }>}
 */
export async function getAndCollect(url, headers) {
  const started = performance.now();
  const res = await fetch(url, { headers: { accept: "text/event-stream", ...headers } });
  return collect(res, started);
}

/**
 * @param {Response} res
 * @param {number} started
 */
async function collect(res, started) {
  /** @type {TimedEvent[]} */
  const events = [];
  if (!res.ok || !res.body) {
    await res.body?.cancel();
    return { status: res.status, events, endAt: performance.now() - started };
  }
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of res.body) {
    buffer += decoder.decode(chunk, { stream: true });
    const at = performance.now() - started;
    let cut;
    while ((cut = buffer.search(/\r?\n\r?\n/)) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut).replace(/^\r?\n\r?\n/, "");
      const frame = parseBlock(block);
      if (frame) events.push({ at, ...frame });
    }
  }
  return { status: res.status, events, endAt: performance.now() - started };
}

/** @param {string} block */
function parseBlock(block) {
  let event = "message";
  /** @type {string[]} */
  const data = [];
  for (const line of block.split(/\r?\n/)) {
    if (line.startsWith("event:")) event = line.slice(6).trim();
    else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
  }
  if (data.length === 0) return null;
  const raw = data.join("\n");
  try {
    return { event, data: JSON.parse(raw) };
  } catch {
    return { event, data: raw };
  }
}
