/**
 * links/url-citations.ts, pure: which annotations become `url_citation`s and which stay, what the
 * title is, and that nothing is copied or changed where no annotation converts.
 */
import { describe, expect, it } from "vitest";
import { asUrlCitation, eventWithUrlCitations, responseWithUrlCitations } from "../../../src/links/url-citations";

const URL = "https://files.example/files/tok/report%20%C3%A9.csv";
const cited = {
  type: "container_file_citation",
  container_id: "cntr_1",
  file_id: "cfile_1",
  filename: "report é.csv",
  start_index: 4,
  end_index: 40,
  url: URL,
};

describe("links/url-citations", () => {
  it("a container citation with a url becomes a url_citation over the same span, titled by its file name", () => {
    expect(asUrlCitation(cited)).toEqual({
      type: "url_citation",
      start_index: 4,
      end_index: 40,
      url: URL,
      title: "report é.csv",
    });
    // Without a file name: the link's own last segment, decoded.
    const { filename: _, ...unnamed } = cited;
    expect(asUrlCitation(unnamed)).toMatchObject({ title: "report é.csv" });
  });

  it("leaves everything else as it is (the same object)", () => {
    const { url: _, ...noUrl } = cited;
    for (const a of [
      noUrl,
      { type: "url_citation", start_index: 0, end_index: 1, url: URL, title: "x" },
      { type: "file_path", file_id: "f", index: 0 },
      { ...cited, start_index: undefined },
      null,
      "x",
    ]) {
      expect(asUrlCitation(a)).toBe(a);
    }
  });

  it("events and responses: only annotation objects change; with nothing to convert, the input itself", () => {
    const response = {
      id: "resp_1",
      output: [
        { type: "code_interpreter_call" },
        { type: "message", content: [{ type: "output_text", text: "t", annotations: [cited] }] },
      ],
    };
    const styled = responseWithUrlCitations(response);
    expect(styled).not.toBe(response);
    expect(styled.output[0]).toBe(response.output[0]);
    expect((styled.output[1] as { content: { annotations: unknown[] }[] }).content[0]!.annotations).toEqual([
      asUrlCitation(cited),
    ]);
    expect(response.output[1]!.content![0]!.annotations[0]).toBe(cited);

    const added = {
      type: "response.output_text.annotation.added",
      sequence_number: 7,
      item_id: "msg_1",
      annotation: cited,
    };
    expect(eventWithUrlCitations(added)).toEqual({ ...added, annotation: asUrlCitation(cited) });
    const done = { type: "response.output_item.done", sequence_number: 8, item: response.output[1] };
    expect(eventWithUrlCitations(done)).toEqual({ ...done, item: styled.output[1] });
    const completed = { type: "response.completed", sequence_number: 9, response };
    expect(eventWithUrlCitations(completed)).toEqual({ ...completed, response: styled });
    for (const e of [
      { type: "response.output_text.delta", sequence_number: 1, delta: "x" },
      { type: "response.completed", response: { id: "r", output: [] } },
      { type: "keepalive" },
    ]) {
      expect(eventWithUrlCitations(e)).toBe(e);
    }
  });
});
