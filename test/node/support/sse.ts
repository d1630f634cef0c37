/**
 * @module test/node/support/sse
 * Reads an SSE body as the wire carries it (`event:` name and `data:` JSON per frame), for the
 * frames the SDK's iterator does not hand over (it throws on an `error` event since 7.5.0).
 */

export interface SseFrame {
  event: string | undefined;
  data: Record<string, unknown>;
}

/** All frames of an SSE response body. Joins multi-line `data:` and ignores `:` comments. */
export async function readSse(res: Response): Promise<SseFrame[]> {
  const text = await res.text();
  const frames: SseFrame[] = [];
  for (const block of text.split(/\r?\n\r?\n/)) {
    let event: string | undefined;
    const data: string[] = [];
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith("event:")) event = line.slice(6).trim();
      else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
    }
    if (data.length) frames.push({ event, data: JSON.parse(data.join("\n")) });
  }
  return frames;
}
