/**
 * Metering deltas (metering/usage.ts): what a request, a download or a container call counts.
 */
import { describe, expect, it } from "vitest";
import { cleanDelta, dayOf, requestDelta } from "../../../src/metering/usage";

describe("metering deltas", () => {
  it("counts successful model requests, served download bytes and container calls only", () => {
    expect(
      requestDelta({ method: "POST", route: "/v1/responses", path: "/v1/responses", status: 200, bytesOut: null }),
    ).toEqual({ model_requests: 1 });
    expect(
      requestDelta({ method: "POST", route: "/v1/responses", path: "/v1/responses", status: 400, bytesOut: null }),
    ).toEqual({});
    expect(
      requestDelta({ method: "GET", route: "/files/:token/:name", path: "/files/t/a.csv", status: 206, bytesOut: 10 }),
    ).toEqual({ bytes_served: 10 });
    expect(
      requestDelta({ method: "HEAD", route: "/files/:token/:name", path: "/files/t/a.csv", status: 200, bytesOut: 10 }),
    ).toEqual({});
    expect(
      requestDelta({ method: "GET", route: "/files/:token/:name", path: "/files/t/a.csv", status: 503, bytesOut: 100 }),
    ).toEqual({});
    expect(
      requestDelta({ method: "GET", route: "/v1/*", path: "/v1/containers/cntr_1/files", status: 200, bytesOut: null }),
    ).toEqual({ container_reads: 1 });
    expect(
      requestDelta({ method: "GET", route: "/v1/*", path: "/v1/containersx", status: 200, bytesOut: null }),
    ).toEqual({});
  });

  it("keeps positive finite increments of known metrics; days are UTC", () => {
    expect(
      cleanDelta({
        files_stored: 1,
        bytes_stored: 0,
        bytes_served: -5,
        container_reads: Number.NaN,
        ...({ bogus: 3 } as object),
      }),
    ).toEqual([["files_stored", 1]]);
    expect(dayOf(Date.UTC(2026, 10, 25, 23, 59))).toBe("2026-11-25");
  });
});
