/**
 * What `npm start` prints of its children's lines: every credential replaced, everything else
 * kept (scripts/lib/redact.mjs). The end-to-end check is in start.test.ts.
 */
import { describe, expect, it } from "vitest";
import { redactLine } from "../../scripts/lib/redact.mjs";

describe("redactLine", () => {
  it("replaces download tokens, visitor sessions and keys, and keeps the rest of the line", () => {
    const cases: [string, string][] = [
      [
        "[wrangler:info] GET /files/AgJrMgAbC-_x9/report%202026.csv 200 OK (12ms)",
        "[wrangler:info] GET /files/[token]/report%202026.csv 200 OK (12ms)",
      ],
      ["HEAD http://127.0.0.1:8787/files/%41gJrMg/x.png 410", "HEAD http://127.0.0.1:8787/files/[token]/x.png 410"],
      ['{"session":"vs1.eyJ0IjoiYSJ9.AbC_-9"}', '{"session":"vs1.[session]"}'],
      ["Bearer usk_0123456789abcdefABCDEF and pk_test_widget", "Bearer usk_[redacted] and pk_[redacted]"],
      ["upstream key sk-proj-Ab_c-123", "upstream key sk-[redacted]"],
      // unsandbox's own lines name the route pattern, which holds no token.
      [
        '{"event":"request","route":"/files/:token/:name","status":200}',
        '{"event":"request","route":"/files/:token/:name","status":200}',
      ],
      ["[wrangler:info] POST /v1/responses 200 OK (640ms)", "[wrangler:info] POST /v1/responses 200 OK (640ms)"],
    ];
    for (const [line, want] of cases) expect(redactLine(line)).toBe(want);
  });

  it("does linear work on a long line", () => {
    const line = "/files/" + "a".repeat(200_000) + " " + "usk_".repeat(20_000);
    const started = performance.now();
    expect(redactLine(line)).not.toContain("aaaa");
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
