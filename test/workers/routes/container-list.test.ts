/**
 * Multi-tenant `GET /v1/containers`: one upstream organisation holds every tenant's containers,
 * and the filtered listing's envelope (`first_id`, `last_id`, `has_more`, the `after` cursor) must
 * tell a tenant nothing about anyone else's.
 */
import { describe, expect, it } from "vitest";
import { as, errorOf, makeTenant, type TestTenant } from "../support/tenants";

type List = {
  object: string;
  data: { id: string }[];
  first_id: string | null;
  last_id: string | null;
  has_more: boolean;
};

async function createContainer(t: TestTenant): Promise<string> {
  const res = await as("multi", t.secret, "/v1/containers", { method: "POST", json: { name: `of ${t.id}` } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { id: string }).id;
}

async function list(t: TestTenant, query: string): Promise<List> {
  const res = await as("multi", t.secret, `/v1/containers${query}`);
  expect(res.status).toBe(200);
  return (await res.json()) as List;
}

describe("GET /v1/containers in multi-tenant mode", () => {
  it("a tenant with no containers learns nothing: empty page, no cursor, no has_more", async () => {
    const other = await makeTenant();
    await createContainer(other);
    const empty = await makeTenant();
    for (const query of ["", "?limit=1", "?limit=100&order=asc"]) {
      expect(await list(empty, query)).toEqual({
        object: "list",
        data: [],
        first_id: null,
        last_id: null,
        has_more: false,
      });
    }
  });

  it("pages through only the caller's own ids, interleaved with another tenant's, and has_more is the caller's", async () => {
    const a = await makeTenant();
    const b = await makeTenant();
    const mine: string[] = [];
    const theirs: string[] = [];
    // Newest first upstream: b's sit between and after a's.
    mine.push(await createContainer(a));
    theirs.push(await createContainer(b));
    mine.push(await createContainer(a));
    theirs.push(await createContainer(b));
    mine.push(await createContainer(a));
    theirs.push(await createContainer(b), await createContainer(b));
    const seen: string[] = [];
    let query = "?limit=2";
    for (let pages = 0; pages < 5; pages++) {
      const page = await list(a, query);
      const named = [...page.data.map((d) => d.id), page.first_id, page.last_id].filter((x): x is string => x !== null);
      for (const id of named) expect(mine, `${id} is a's`).toContain(id);
      expect(page.last_id).toBe(page.data.at(-1)?.id ?? null);
      seen.push(...page.data.map((d) => d.id));
      if (!page.has_more) break;
      query = `?limit=2&after=${page.last_id}`;
    }
    expect(seen).toEqual([...mine].reverse());
    // The last page of a's says there is no more, although b's older containers follow upstream.
    const last = await list(a, `?limit=1&after=${mine[1]}`);
    expect(last).toMatchObject({ data: [{ id: mine[0] }], has_more: false, last_id: mine[0] });
    // A full page with nothing of a's after it: has_more is false, whatever b holds.
    expect(await list(a, "?limit=3")).toMatchObject({ has_more: false, last_id: mine[0] });
    // A cursor naming b's container is refused like an id that does not exist.
    expect(await errorOf(await as("multi", a.secret, `/v1/containers?after=${theirs[0]}`))).toMatchObject({
      status: 404,
      code: "not_found",
    });
  });
});
