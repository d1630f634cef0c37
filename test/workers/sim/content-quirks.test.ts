import { describe, expect, it } from "vitest";
import { api, client, control, drain, sha256 } from "../support/sim";

async function oneFile(opts: { path?: string; size?: number; quirks?: Record<string, boolean> } = {}) {
  const c = await control("/containers", {
    name: "q",
    quirks: opts.quirks,
    files: [{ path: opts.path ?? "Bericht über 2026.csv", size: opts.size ?? 4000 }],
  });
  return { c, f: c.files[0] };
}

describe("content endpoint quirks (on by default, each with a switch)", () => {
  it("no Content-Type by default; the switch sends one", async () => {
    const a = await oneFile();
    const res = await api(`/containers/${a.c.id}/files/${a.f.id}/content`);
    expect(res.headers.get("content-type")).toBeNull();
    await res.arrayBuffer();
    const b = await oneFile({ quirks: { no_content_type: false } });
    const res2 = await api(`/containers/${b.c.id}/files/${b.f.id}/content`);
    expect(res2.headers.get("content-type")).toBe("text/csv");
    await res2.arrayBuffer();
  });

  it("placeholder filename= with the real name only in filename*; the switch puts the name in filename=", async () => {
    const a = await oneFile();
    const res = await api(`/containers/${a.c.id}/files/${a.f.id}/content`);
    expect(res.headers.get("content-disposition")).toBe(
      `attachment; filename="file.csv"; filename*=UTF-8''Bericht%20%C3%BCber%202026.csv`,
    );
    await res.arrayBuffer();
    const b = await oneFile({ quirks: { placeholder_filename: false } });
    const res2 = await api(`/containers/${b.c.id}/files/${b.f.id}/content`);
    expect(res2.headers.get("content-disposition")).toContain(`filename="Bericht _ber 2026.csv"`.replace(" _", " _"));
    await res2.arrayBuffer();
  });

  it("Content-Length is present on identity bodies", async () => {
    const a = await oneFile({ size: 12345 });
    const res = await api(`/containers/${a.c.id}/files/${a.f.id}/content`, {
      headers: { "accept-encoding": "identity" },
    });
    expect(res.headers.get("content-length")).toBe("12345");
    expect((await res.arrayBuffer()).byteLength).toBe(12345);
  });

  it("ignores Range by default; honour_range answers 206 with Content-Range", async () => {
    const a = await oneFile({ size: 1000 });
    const res = await api(`/containers/${a.c.id}/files/${a.f.id}/content`, { headers: { range: "bytes=10-19" } });
    expect(res.status).toBe(200);
    const full = new Uint8Array(await res.arrayBuffer());
    expect(full.length).toBe(1000);
    await control(`/containers/${a.c.id}/config`, { quirks: { honour_range: true } });
    const part = await api(`/containers/${a.c.id}/files/${a.f.id}/content`, { headers: { range: "bytes=10-19" } });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe("bytes 10-19/1000");
    expect(new Uint8Array(await part.arrayBuffer())).toEqual(full.slice(10, 20));
    const tail = await api(`/containers/${a.c.id}/files/${a.f.id}/content`, { headers: { range: "bytes=-5" } });
    expect(new Uint8Array(await tail.arrayBuffer())).toEqual(full.slice(995));
    const bad = await api(`/containers/${a.c.id}/files/${a.f.id}/content`, { headers: { range: "bytes=5000-" } });
    expect(bad.status).toBe(416);
  });

  it("gzip when Accept-Encoding allows it; identity when asked; force_gzip gzips even identity", async () => {
    const a = await oneFile({ path: "big.bin", size: 200_000 });
    const truth = await control(`/files/${a.f.id}`);
    const gz = await api(`/containers/${a.c.id}/files/${a.f.id}/content`, { headers: { "accept-encoding": "gzip" } });
    expect(gz.headers.get("content-encoding")).toBe("gzip");
    expect(gz.headers.get("content-length")).toBeNull();
    // workerd's fetch decodes gzip itself, so the bytes read are the file's.
    expect(await sha256(await gz.arrayBuffer())).toBe(truth.sha256);
    const id = await api(`/containers/${a.c.id}/files/${a.f.id}/content`, {
      headers: { "accept-encoding": "identity" },
    });
    expect(id.headers.get("content-encoding")).toBeNull();
    await id.arrayBuffer();
    await control(`/containers/${a.c.id}/config`, { quirks: { force_gzip: true } });
    const forced = await api(`/containers/${a.c.id}/files/${a.f.id}/content`, {
      headers: { "accept-encoding": "identity" },
    });
    expect(forced.headers.get("content-encoding")).toBe("gzip");
    expect(await sha256(await forced.arrayBuffer())).toBe(truth.sha256);
    await control(`/containers/${a.c.id}/config`, { quirks: { force_gzip: false, gzip: false } });
    const off = await api(`/containers/${a.c.id}/files/${a.f.id}/content`, { headers: { "accept-encoding": "gzip" } });
    expect(off.headers.get("content-encoding")).toBeNull();
    await off.arrayBuffer();
  });

  it("generated files report bytes: null; the switch reports the size", async () => {
    const a = await oneFile();
    const openai = client();
    expect((await openai.containers.files.retrieve(a.f.id, { container_id: a.c.id })).bytes).toBeNull();
    const b = await oneFile({ quirks: { null_bytes: false } });
    expect((await openai.containers.files.retrieve(b.f.id, { container_id: b.c.id })).bytes).toBe(4000);
  });
});

describe("faults", () => {
  it("status: 5xx for the first N attempts, then the body", async () => {
    const a = await oneFile({ size: 100 });
    await control("/faults", { file_id: a.f.id, kind: "status", status: 502, times: 2 });
    expect((await api(`/containers/${a.c.id}/files/${a.f.id}/content`)).status).toBe(502);
    expect((await api(`/containers/${a.c.id}/files/${a.f.id}/content`)).status).toBe(502);
    const ok = await api(`/containers/${a.c.id}/files/${a.f.id}/content`);
    expect(ok.status).toBe(200);
    await ok.arrayBuffer();
    // The SDK's own retries get through a single 500.
    await control("/faults", { file_id: a.f.id, kind: "status", status: 500, times: 1 });
    const res = await client({ maxRetries: 2 }).containers.files.content.retrieve(a.f.id, { container_id: a.c.id });
    expect((await res.arrayBuffer()).byteLength).toBe(100);
  });

  it("status 429 with retry-after, on a container's listing", async () => {
    const a = await oneFile({ size: 100 });
    const { id } = await control("/faults", {
      container_id: a.c.id,
      kind: "status",
      status: 429,
      retry_after: 3,
      on: "list",
    });
    const res = await api(`/containers/${a.c.id}/files`);
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("3");
    expect((await res.json<any>()).error.code).toBe("rate_limit_exceeded");
    expect((await api(`/containers/${a.c.id}/files`)).status).toBe(200);
    expect((await control(`/faults/${id}`)).hits).toBe(1);
  });

  it("cut: the body ends early, fewer bytes than Content-Length", async () => {
    const a = await oneFile({ path: "x.bin", size: 300_000 });
    await control("/faults", { file_id: a.f.id, kind: "cut", at_byte: 100_000 });
    const res = await api(`/containers/${a.c.id}/files/${a.f.id}/content`, {
      headers: { "accept-encoding": "identity" },
    });
    expect(res.headers.get("content-length")).toBe("300000");
    const { bytes } = await drain(res.body);
    expect(bytes.length).toBe(100_000);
    const again = await api(`/containers/${a.c.id}/files/${a.f.id}/content`);
    expect((await drain(again.body)).bytes.length).toBe(300_000);
  });

  it("pause: the body stops at a byte until released (a copy can be seen streaming)", async () => {
    const a = await oneFile({ path: "x.bin", size: 200_000 });
    const { id } = await control("/faults", { file_id: a.f.id, kind: "pause", at_byte: 65_536 });
    const res = await api(`/containers/${a.c.id}/files/${a.f.id}/content`, {
      headers: { "accept-encoding": "identity" },
    });
    const reader = res.body!.getReader();
    let got = 0;
    while (got < 65_536) got += (await reader.read()).value!.length;
    expect(got).toBe(65_536);
    let state = await control(`/faults/${id}`);
    for (let i = 0; i < 100 && !state.paused; i++) state = await control(`/faults/${id}`);
    expect(state.paused).toBe(true);
    await control(`/faults/${id}/release`, {});
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      got += r.value.length;
    }
    expect(got).toBe(200_000);
  });

  it("slow: the body arrives in small pieces", async () => {
    const a = await oneFile({ path: "x.bin", size: 20_000 });
    await control("/faults", { file_id: a.f.id, kind: "slow", bytes_per_sec: 100_000 });
    const res = await api(`/containers/${a.c.id}/files/${a.f.id}/content`, {
      headers: { "accept-encoding": "identity" },
    });
    const reader = res.body!.getReader();
    let chunks = 0;
    let got = 0;
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      chunks++;
      got += r.value.length;
    }
    expect(got).toBe(20_000);
    expect(chunks).toBeGreaterThanOrEqual(4);
  });

  it("expire: the container expires when the body reaches a byte", async () => {
    const a = await oneFile({ path: "x.bin", size: 100_000 });
    await control("/faults", { file_id: a.f.id, kind: "expire", at_byte: 1000 });
    const res = await api(`/containers/${a.c.id}/files/${a.f.id}/content`);
    expect((await drain(res.body)).bytes.length).toBe(1000);
    const after = await api(`/containers/${a.c.id}/files/${a.f.id}/content`);
    expect(after.status).toBe(404);
    expect((await after.json<any>()).error.message).toBe("Container is expired.");
  });
});
