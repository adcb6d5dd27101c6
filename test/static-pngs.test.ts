import { expect } from "chai";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { barFigure, lineFigure } from "../dist";
import type { Figure } from "../dist";
import { buildReport, reportMarkdown } from "../scripts/report";
import type { NotebookRun } from "../scripts/run-notebooks";
import { addStaticPngs, describePass, notebooksIn, outputsWanting } from "../scripts/static-pngs";
import { figureHtml, figureHtmlId } from "../dist/notebook/notebook-html";

type Output = Record<string, unknown> & { output_type: string; data?: Record<string, unknown> };
interface Notebook {
  cells: { cell_type: string; outputs?: Output[] }[];
}

const PLOTLY = "application/vnd.plotly.v1+json";

let figureCount = 0;

/** A figure's display_data output as lib/notebook sends it (HTML as nbformat stores it: a list of lines). */
const figureOutput = (figure: Figure, type = "display_data"): Output => ({
  output_type: type,
  data: {
    [PLOTLY]: { data: figure.data, layout: figure.layout, config: figure.config ?? {} },
    "text/html": figureHtml(figure, `advlab-figure-${++figureCount}`).split(/(?<=\n)/),
    "text/plain": "<Figure>",
  },
  metadata: {},
  ...(type === "execute_result" ? { execution_count: 2 } : {}),
});

/** Width and height of a PNG, from its IHDR chunk (bytes 16 to 23). */
function pngSize(base64: string): { width: number; height: number } {
  const bytes = Buffer.from(base64, "base64");
  expect(bytes.subarray(0, 8).toString("hex")).to.equal("89504e470d0a1a0a");
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

const read = (path: string) => JSON.parse(readFileSync(path, "utf8")) as Notebook;

describe("static PNG pass over executed notebooks", function () {
  this.timeout(120000);
  let dir: string;
  let path: string;
  // Outputs by role; their sizes differ so each PNG can be traced to its own figure.
  const line = lineFigure([{ name: "accuracy", x: [1, 2, 3], y: [0.9, 0.92, 0.95] }], { title: "accuracy per epoch" });
  const bars = barFigure(["clean", "adversarial"], [{ name: "accuracy", values: [0.95, 0.41] }], { title: "rates" });
  const other = lineFigure([{ name: "other", x: [0, 1], y: [1, 0] }]);
  let earlierPng: string;
  let original: Notebook;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "advlab-pngs-"));
    path = join(dir, "tiny.ipynb");
    // A PNG already there (drawn by an earlier pass) must stay as it is.
    const earlier = join(dir, "earlier.ipynb");
    writeFileSync(earlier, JSON.stringify({ cells: [{ cell_type: "code", outputs: [figureOutput(other)] }] }));
    await addStaticPngs([earlier]);
    earlierPng = read(earlier).cells[0].outputs![0].data!["image/png"] as string;
    rmSync(earlier);

    // Its JSON is another figure (another size), so a re-drawn PNG could not pass for the old one.
    const withPng = figureOutput(barFigure(["0", "1", "2"], [{ name: "share", values: [0.1, 0.5, 0.4] }]));
    withPng.data!["image/png"] = earlierPng;
    // Through JSON, as a file holds it (no undefined members).
    original = JSON.parse(JSON.stringify({
      cells: [
        { cell_type: "markdown" },
        {
          cell_type: "code",
          outputs: [
            { output_type: "stream", name: "stdout", text: ["training ...\n"] },
            figureOutput(line),
            { output_type: "display_data", data: { "text/html": "<progress value=\"5\" max=\"5\"></progress>", "text/plain": "5/5" }, metadata: {} },
            withPng,
          ],
        },
        { cell_type: "code", outputs: [figureOutput(bars, "execute_result")] },
      ],
    })) as Notebook;
    writeFileSync(path, JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, ...original }, null, 1));
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it("outputsWanting picks the Plotly outputs without a PNG, display_data and execute_result alike", () => {
    const wanting = outputsWanting(original);
    expect(wanting).to.have.length(2);
    expect(wanting.map((o) => o.output_type)).to.deep.equal(["display_data", "execute_result"]);
  });

  it("a Plotly output gains a PNG drawn from its own JSON, at twice its layout size", async () => {
    const pass = await addStaticPngs([path]);
    expect(pass.off, "renderer").to.equal(undefined);
    expect(pass.errors).to.deep.equal([]);
    expect([pass.notebooks, pass.figures]).to.deep.equal([1, 2]);
    const nb = read(path);
    const drawnLine = nb.cells[1].outputs![1].data!;
    const drawnBars = nb.cells[2].outputs![0].data!;
    expect(pngSize(drawnLine["image/png"] as string)).to.deep.equal({ width: 2 * (line.layout.width as number), height: 2 * (line.layout.height as number) });
    expect(pngSize(drawnBars["image/png"] as string)).to.deep.equal({ width: 2 * (bars.layout.width as number), height: 2 * (bars.layout.height as number) });
    // The rest of each bundle is as it was.
    expect({ ...drawnLine, "image/png": undefined, "text/html": undefined }).to.deep.equal({ ...original.cells[1].outputs![1].data, "image/png": undefined, "text/html": undefined });
  });

  it("a figure's HTML gains the same PNG as an image inside its div, same id, for front ends that run no scripts", () => {
    const before = original.cells[1].outputs![1].data!;
    const after = read(path).cells[1].outputs![1].data!;
    const oldHtml = [before["text/html"]].flat().join("");
    const newHtml = String(after["text/html"]);
    expect(figureHtmlId(newHtml)).to.equal(figureHtmlId(oldHtml)).and.to.be.a("string");
    expect(oldHtml).to.not.contain("<img");
    expect(newHtml).to.contain(`<img class="advlab-figure-png" alt="Figure: accuracy per epoch (1 scatter trace)" src="data:image/png;base64,${after["image/png"] as string}"`);
    // The script that draws the interactive figure takes the image out first.
    expect(newHtml).to.contain("Plotly.newPlot").and.to.contain('div.querySelector("img.advlab-figure-png")');
  });

  it("non-Plotly outputs, and an output that already had a PNG, are left exactly as they were", () => {
    const nb = read(path);
    expect(nb.cells[0]).to.deep.equal(original.cells[0]);
    const [stream, , progress, withPng] = nb.cells[1].outputs!;
    expect(stream).to.deep.equal(original.cells[1].outputs![0]);
    expect(progress).to.deep.equal(original.cells[1].outputs![2]);
    expect(withPng).to.deep.equal(original.cells[1].outputs![3]);
    expect(withPng.data!["image/png"]).to.equal(earlierPng);
    expect(pngSize(earlierPng).width).to.equal(2 * (other.layout.width as number));
  });

  it("a second pass draws nothing and leaves the file untouched", async () => {
    const before = readFileSync(path, "utf8");
    const pass = await addStaticPngs([path]);
    expect([pass.notebooks, pass.figures]).to.deep.equal([0, 0]);
    expect(readFileSync(path, "utf8")).to.equal(before);
  });

  it("without a Chromium the pass draws nothing, says why, and does not throw", async () => {
    const fresh = join(dir, "fresh.ipynb");
    writeFileSync(fresh, JSON.stringify(original));
    const before = readFileSync(fresh, "utf8");
    const previous = process.env.ADVLAB_CHROMIUM;
    process.env.ADVLAB_CHROMIUM = join(dir, "no-such-chromium");
    try {
      const pass = await addStaticPngs([fresh]);
      expect(pass.figures).to.equal(0);
      expect(pass.off).to.contain("no Chromium at").and.to.contain("no-such-chromium");
      expect(describePass(pass)).to.match(/^off \(no Chromium at /);
    } finally {
      if (previous === undefined) delete process.env.ADVLAB_CHROMIUM;
      else process.env.ADVLAB_CHROMIUM = previous;
    }
    expect(readFileSync(fresh, "utf8")).to.equal(before);
    // The renderer comes back once Chromium is there again.
    const pass = await addStaticPngs([fresh]);
    expect(pass.figures).to.equal(2);
  });

  it("an unreadable notebook or a malformed figure is reported, naming the file, and the others are still drawn", async () => {
    const broken = join(dir, "broken.ipynb");
    writeFileSync(broken, "{ not json");
    const odd = join(dir, "odd.ipynb");
    writeFileSync(odd, JSON.stringify({ cells: [{ cell_type: "code", outputs: [{ output_type: "display_data", data: { [PLOTLY]: { data: "none" } } }, figureOutput(line)] }] }));
    const plain = join(dir, "plain.ipynb");
    writeFileSync(plain, "[1, 2]");
    const pass = await addStaticPngs([broken, plain, odd]);
    expect(pass.errors).to.have.length(3);
    expect(pass.errors[0]).to.contain("broken.ipynb").and.to.contain("not valid JSON");
    expect(pass.errors[1]).to.contain("plain.ipynb").and.to.contain("not a notebook");
    expect(pass.errors[2]).to.contain("odd.ipynb").and.to.contain("figure output 1 of 2");
    expect(pass.figures).to.equal(1);
    expect(read(odd).cells[0].outputs![0].data!["image/png"]).to.equal(undefined);
  });

  it("notebooksIn lists a folder's .ipynb files in name order and refuses a missing folder", () => {
    expect(notebooksIn(dir).map((f) => f.slice(dir.length + 1))).to.deep.equal(["broken.ipynb", "fresh.ipynb", "odd.ipynb", "plain.ipynb", "tiny.ipynb"]);
    expect(() => notebooksIn(join(dir, "absent"))).to.throw(/absent is not a folder/);
  });
});

describe("reproduction report and the PNG pass", () => {
  const run = (name: string, seconds: number): NotebookRun => ({ name, source: `${name}.ipynb`, ok: true, seconds, ipynb: "", html: "" });

  it("states the PNG pass on its own line, apart from the notebooks' execution times", () => {
    const report = buildReport({}, [run("01-predict", 4.12), run("02-nontargeted", 6.3)], null, { notebooks: 2, figures: 9, seconds: 2.44, errors: [] });
    const md = reportMarkdown(report, { date: "2026-01-01 00:00 UTC", versions: {} });
    expect(md).to.contain("| 01-predict | ran | 4.1 s |").and.to.contain("| 02-nontargeted | ran | 6.3 s |");
    expect(md).to.contain("execution alone (kernel start to last cell): 10.4 s in all");
    expect(md).to.contain("Static PNGs of the figures, drawn afterwards in one pass (one browser): 9 figures in 2 notebooks, 2.4 s.");
  });

  it("says when PNGs were off, and leaves the line out when there was no pass", () => {
    const off = reportMarkdown(buildReport({}, [run("01-predict", 4)], null, { notebooks: 0, figures: 0, seconds: 0.1, off: "no Chromium at /x", errors: [] }), { date: "d", versions: {} });
    expect(off).to.contain("one pass (one browser): off (no Chromium at /x).");
    const none = reportMarkdown(buildReport({}, [run("01-predict", 4)], null), { date: "d", versions: {} });
    expect(none).to.not.contain("Static PNGs");
  });
});
