/**
 * @module responses/model
 * The simulated model: a pure function from a scenario (the prompt's directive) to a turn plan,
 * i.e. the messages it writes, the code it runs and the files that code writes. Every text is
 * fixed, so tests can assert exact outputs (sim/README.md lists them).
 */
import { naturalSize } from "../content";
import type { Directive } from "../scenario";

/** A citation the model attaches: it covers the `occurrence`-th match of `needle` in the text. */
export interface CiteSpec {
  needle: string;
  /** Which match (0-based; -1 = the last one). */
  occurrence: number;
  /** The file cited, by path (this turn's writes first, then earlier turns'). */
  path: string;
}

export type Step =
  | { kind: "message"; phase: "commentary" | "final_answer"; text: string; cites: CiteSpec[] }
  | {
      kind: "tool";
      code: string;
      writes: { path: string; size: number }[];
      logs: string;
      figure: boolean;
      replaces: boolean;
    };

export interface TurnPlan {
  steps: Step[];
  /** Paths the text links (ground truth: what the model claims to have written). */
  claimed: string[];
  /** The response fails (scenario `fail`). */
  fail: boolean;
}

/** What the model knows of earlier turns: files it wrote before, newest last. */
export interface TurnContext {
  directive: Directive;
  /** A `code_interpreter` tool is offered (and `tool_choice` is not "none"). */
  hasTool: boolean;
  earlierFiles: { path: string; file_id: string }[];
}

const D = "/mnt/data/";
const base = (p: string) => p.slice(p.lastIndexOf("/") + 1);
const link = (name: string) => `[${name}](sandbox:${D}${name})`;
const cite = (name: string, occurrence = 0): CiteSpec => ({
  needle: `sandbox:${D}${name}`,
  occurrence,
  path: D + name,
});

function writeCode(paths: string[]): string {
  const lines = ["import os", "os.makedirs('/mnt/data', exist_ok=True)"];
  for (const p of paths)
    lines.push(`with open(${JSON.stringify(p)}, 'wb') as f:`, `    f.write(build(${JSON.stringify(base(p))}))`);
  lines.push(`print(${JSON.stringify(paths.join("\n"))})`);
  return lines.join("\n");
}

function tool(paths: string[], size: number | undefined, extra: Partial<Extract<Step, { kind: "tool" }>> = {}): Step {
  return {
    kind: "tool",
    code: writeCode(paths),
    writes: paths.map((path) => ({ path, size: size ?? naturalSize(path) })),
    logs: paths.join("\n"),
    figure: false,
    replaces: false,
    ...extra,
  };
}

const msg = (text: string, cites: CiteSpec[] = [], phase: "commentary" | "final_answer" = "final_answer"): Step => ({
  kind: "message",
  phase,
  text,
  cites,
});
const intro = msg("I'll create the file now.", [], "commentary");

/** Link forms, each naming its own file: [file name, link destination, annotated?]. */
export const LINK_FORMS: [string, string, boolean][] = [
  ["a.csv", "sandbox:/mnt/data/a.csv", true],
  ["b.csv", "sandbox:/b.csv", true],
  ["c.csv", "sandbox://c.csv", true],
  ["d.csv", "/mnt/data/d.csv", false],
  ["chart.png", "sandbox:/mnt/data/chart.png", true],
  ["my report.csv", "sandbox:/mnt/data/my%20report.csv", true],
  ["meeting notes.txt", "sandbox:/mnt/data/meeting notes.txt", true],
  ["data(1).csv", "sandbox:/mnt/data/data(1).csv", true],
  ["Übersicht_é.csv", "sandbox:/mnt/data/Übersicht_é.csv", true],
];

/** The plan for one turn. */
export function planTurn(ctx: TurnContext): TurnPlan {
  const d = ctx.directive;
  const first = (fallback: string) => d.files?.[0] ?? fallback;
  const plan = (steps: Step[], claimed: string[] = [], fail = false): TurnPlan => ({ steps, claimed, fail });
  if (d.scenario === "fail") return plan([], [], true);
  if (d.scenario !== "later-turn-link" && (!ctx.hasTool || d.scenario === "no-tool")) return plan([msg("2 + 2 = 4.")]);

  switch (d.scenario) {
    case "one-file": {
      const f = first("report.pdf");
      return plan([intro, tool([D + f], d.size), msg(`Here is your file: ${link(f)}`, [cite(f)])], [D + f]);
    }
    case "several-files": {
      const fs = d.files ?? ["data.csv", "summary.txt", "chart.png"];
      const text = `Here are your files:\n${fs.map((f) => `- ${link(f)}`).join("\n")}`;
      return plan(
        [
          intro,
          tool(
            fs.map((f) => D + f),
            d.size,
          ),
          msg(
            text,
            fs.map((f) => cite(f)),
          ),
        ],
        fs.map((f) => D + f),
      );
    }
    case "link-no-annotation": {
      const f = first("data.csv");
      return plan([intro, tool([D + f], d.size), msg(`Here is your file: ${link(f)}`)], [D + f]);
    }
    case "annotation-no-link": {
      const f = first("report.pdf");
      return plan([
        intro,
        tool([D + f], d.size),
        msg(`The report is saved as ${f} in the container.`, [{ needle: f, occurrence: 0, path: D + f }]),
      ]);
    }
    case "link-forms": {
      const lines = LINK_FORMS.map(
        ([name, dest], i) => `${i + 1}. ${name === "chart.png" ? "!" : ""}[${name}](${dest})`,
      );
      const text = `📊 Results are ready 🎉\n${lines.join("\n")}`;
      const cites = LINK_FORMS.filter(([, , a]) => a).map(([name, dest]) => ({
        needle: dest,
        occurrence: 0,
        path: D + name,
      }));
      return plan(
        [
          intro,
          tool(
            LINK_FORMS.map(([name]) => D + name),
            d.size,
          ),
          msg(text, cites),
        ],
        LINK_FORMS.map(([name]) => D + name),
      );
    }
    case "code-echo": {
      const f = first("out.csv");
      const text = [
        `The script saved the file to \`sandbox:${D}${f}\`; you can read it back with:`,
        "",
        "```python",
        "import pandas as pd",
        `df = pd.read_csv("${D}${f}")`,
        `# ${link(f)}`,
        "```",
        "",
        `Download: ${link(f)}`,
      ].join("\n");
      return plan([intro, tool([D + f], d.size), msg(text, [cite(f, -1)])], [D + f]);
    }
    case "link-before-tool": {
      const f = first("report.pdf");
      return plan(
        [
          msg(`I'll write the report to ${link(f)} now.`, [], "commentary"),
          tool([D + f], d.size),
          msg(`Done, the file is ready: ${link(f)}`, [cite(f)]),
        ],
        [D + f],
      );
    }
    case "later-turn-link": {
      const earlier = ctx.earlierFiles.filter((e) => !d.files || d.files.includes(base(e.path)));
      if (earlier.length === 0) return plan([msg("There is no earlier file to link.")]);
      const names = earlier.map((e) => base(e.path));
      const text = `As before, here ${names.length > 1 ? "are your files" : "is your file"}: ${names.map(link).join(", ")}`;
      return plan(
        [
          msg(
            text,
            names.map((n) => cite(n)),
          ),
        ],
        earlier.map((e) => e.path),
      );
    }
    case "rewrite-same-path": {
      const f = d.files?.[0] ?? (ctx.earlierFiles.at(-1) ? base(ctx.earlierFiles.at(-1)!.path) : "report.pdf");
      return plan(
        [
          intro,
          tool([D + f], d.size, { replaces: true }),
          msg(`I rewrote the file with new data: ${link(f)}`, [cite(f)]),
        ],
        [D + f],
      );
    }
    case "phantom": {
      const f = first("results.csv");
      const t: Step = {
        kind: "tool",
        code: "rows = compute()\nprint(len(rows))",
        writes: [],
        logs: "0",
        figure: false,
        replaces: false,
      };
      return plan([intro, t, msg(`Here is the file: ${link(f)}`)], [D + f]);
    }
    case "unnamed": {
      const f = first("hidden.bin");
      return plan([intro, tool([D + f], d.size), msg("Done. The computation finished.")]);
    }
    case "many-temp": {
      const n = d.count ?? 300;
      const parts = Array.from({ length: n }, (_, i) => `${D}tmp/part_${String(i + 1).padStart(4, "0")}.txt`);
      const t: Step = {
        kind: "tool",
        code: `for i in range(${n}):\n    open(f'/mnt/data/tmp/part_{i+1:04d}.txt','w').write(chunk(i))\nsummarise('/mnt/data/summary.csv')`,
        writes: [
          ...parts.map((path) => ({ path, size: d.size ?? 64 })),
          { path: `${D}summary.csv`, size: naturalSize("summary.csv") },
        ],
        logs: `wrote ${n} parts`,
        figure: false,
        replaces: false,
      };
      return plan(
        [intro, t, msg(`Processed ${n} parts: ${link("summary.csv")}`, [cite("summary.csv")])],
        [`${D}summary.csv`],
      );
    }
    case "big": {
      const f = first("big.bin");
      return plan(
        [intro, tool([D + f], d.size ?? 64 * 1024 * 1024), msg(`Here is the large file: ${link(f)}`, [cite(f)])],
        [D + f],
      );
    }
    case "figure": {
      const f = first("plot.png");
      return plan(
        [intro, tool([D + f], d.size, { figure: true }), msg(`Here is the plot: ${link(f)}`, [cite(f)])],
        [D + f],
      );
    }
    case "skill-document": {
      // A skill (docx, pptx, xlsx) writes its documents; the answer links only the first.
      const fs = d.files ?? ["figures.xlsx", "brief.docx", "deck.pptx"];
      return plan(
        [
          intro,
          tool(
            fs.map((f) => D + f),
            d.size,
          ),
          msg(`Here is the spreadsheet: ${link(fs[0]!)}`, [cite(fs[0]!)]),
        ],
        [D + fs[0]!],
      );
    }
  }
  return plan([msg("2 + 2 = 4.")]);
}
