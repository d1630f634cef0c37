// Deletion routes (issue 8): unsandbox's copies go, links answer 410 afterwards; upstream only
// with the explicit ?upstream=true; another tenant gets 404.
import { describe, expect, it } from "vitest";
import { as, makeTenant, sdk } from "../support/tenants";
import { env, query, sim, tracker } from "../support/tracker";
import { API_KEY, fetchWorker, link, register, T } from "../support/lifecycle";

const del = (path: string, key = API_KEY) =>
  fetchWorker(`https://unsandbox.test${path}`, { method: "DELETE", headers: { authorization: `Bearer ${key}` } });

describe("DELETE /v1/responses/{id}/files", () => {
  it("deletes every copy of the response, keeps upstream, and its links answer 410", async () => {
    const ct = await sim.container([
      { path: "/mnt/data/one.csv", size: 1_000 },
      { path: "/mnt/data/two.png", size: 800 },
    ]);
    const [one, two] = ct.files;
    await register(
      ct.id,
      "resp_del",
      ct.created_at,
      [one!, two!].map((f) => ({ fileId: f.id, cited: "annotation" as const })),
    );
    await tracker(ct.id).waitForStored("resp_del", 30_000);
    const url = await link({ responseId: "resp_del", path: one!.path, containerId: ct.id });
    expect((await fetchWorker(url)).status).toBe(200);

    const res = await del("/v1/responses/resp_del/files");
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      object: string;
      data: { id: string; object: string; deleted: boolean; upstream_deleted: boolean | null }[];
    };
    expect(body.object).toBe("list");
    expect(body.data.map((d) => [d.id, d.object, d.deleted, d.upstream_deleted]).sort()).toEqual(
      [one!.id, two!.id].sort().map((id) => [id, "container.file.deleted", true, null]),
    );
    for (const f of [one!, two!]) expect(await env.FILES.head(`t/${T}/c/${ct.id}/f/${f.id}/v1`)).toBeNull();
    const gone = await fetchWorker(url);
    expect(gone.status).toBe(410);
    expect(await gone.json()).toMatchObject({
      error: {
        code: "file_deleted",
        message: expect.stringMatching(/^This file was deleted on request on \d{4}-\d\d-\d\d\.$/),
      },
    });
    // Upstream was not touched.
    expect((await sim.truth(one!.id)) as unknown).toMatchObject({ deleted: false });
    // An unknown response is a 404 in OpenAI's shape.
    const unknown = await del("/v1/responses/resp_nobody/files");
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { type: "not_found_error", code: "response_not_found" } });
  });
});

describe("DELETE /v1/containers/{id}/files/{file_id}", () => {
  it("deletes one file's copy; ?upstream=true also deletes it upstream; unknown files are 404", async () => {
    const ct = await sim.container([
      { path: "/mnt/data/keep.txt", size: 300 },
      { path: "/mnt/data/drop.txt", size: 300 },
    ]);
    const [keep, drop] = ct.files;
    await register(
      ct.id,
      "resp_cdel",
      ct.created_at,
      [keep!, drop!].map((f) => ({ fileId: f.id, cited: "annotation" as const })),
    );
    await tracker(ct.id).waitForStored("resp_cdel", 30_000);

    const res = await del(`/v1/containers/${ct.id}/files/${keep!.id}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      id: keep!.id,
      object: "container.file.deleted",
      deleted: true,
      versions: [1],
      upstream_deleted: null,
    });
    expect((await sim.truth(keep!.id)) as unknown).toMatchObject({ deleted: false });

    const both = await del(`/v1/containers/${ct.id}/files/${drop!.id}?upstream=true`);
    expect(both.status).toBe(200);
    expect(await both.json()).toMatchObject({ id: drop!.id, deleted: true, upstream_deleted: true });
    expect((await sim.truth(drop!.id)) as unknown).toMatchObject({ deleted: true });
    expect(
      (await query<{ file_id: string; state: string }>(ct.id, "SELECT file_id, state FROM files ORDER BY file_id")).map(
        (r) => r.state,
      ),
    ).toEqual(["deleted", "deleted"]);
    const url = await link({ responseId: "resp_cdel", path: drop!.path, containerId: ct.id });
    expect((await fetchWorker(url)).status).toBe(410);

    expect((await del(`/v1/containers/${ct.id}/files/cfile_00000000000000000000000000000000`)).status).toBe(404);
    expect((await del(`/v1/containers/${ct.id}/files/${drop!.id}?upstream=maybe`)).status).toBe(400);
  });
});

describe("tenants", () => {
  it("another tenant gets 404 on both routes; the owner may delete", async () => {
    const [a, b] = [await makeTenant(), await makeTenant()];
    const response = await sdk("multi", a.secret).responses.create({
      model: "gpt-5",
      input: "Write the report.\nsim: scenario=one-file; quirks=-late_listing",
      tools: [{ type: "code_interpreter", container: { type: "auto" } }],
    });
    const call = response.output.find((o) => o.type === "code_interpreter_call") as { container_id: string };
    const [file] = await tracker(call.container_id).manifest(response.id);
    expect(file?.file_id).toBeTruthy();
    const asB = (path: string) => as("multi", b.secret, path, { method: "DELETE" });
    expect((await asB(`/v1/responses/${response.id}/files`)).status).toBe(404);
    expect((await asB(`/v1/containers/${call.container_id}/files/${file!.file_id}`)).status).toBe(404);
    expect((await tracker(call.container_id).manifest(response.id))[0]!.state).not.toBe("deleted");
    const own = await as("multi", a.secret, `/v1/responses/${response.id}/files`, { method: "DELETE" });
    expect(own.status).toBe(200);
    expect((await tracker(call.container_id).manifest(response.id))[0]!.state).toBe("deleted");
  });
});
