import { expect } from "chai";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { spawnSync } from "node:child_process";
import { findPython, jupyterEnv, registerKernel, ROOT } from "../scripts/kernel";
import { assertAllPassed, listNotebooks, runNotebook, runNotebooks } from "../scripts/run-notebooks";
import { ALL_NOTEBOOKS_TIMEOUT_MS, EXPECTED_NOTEBOOKS, executedNotebooks, ExecutedNotebooks, RESULTS_DIR } from "./support/notebooks";

interface Output {
  output_type: string;
  data?: Record<string, unknown>;
}
interface Cell {
  cell_type: string;
  outputs?: Output[];
  execution_count?: number | null;
  source: string | string[];
}

const readNotebook = (path: string) => JSON.parse(readFileSync(path, "utf8")) as { cells: Cell[]; metadata: { kernelspec?: { name?: string } } };
const results = (name: string) => JSON.parse(readFileSync(join(RESULTS_DIR, `${name}.json`), "utf8")) as Record<string, unknown>;

/** A notebook of code cells, in nbformat 4, for the tslab kernel. */
function notebookJson(cells: string[]): string {
  return JSON.stringify({
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: "tslab", display_name: "TypeScript", language: "typescript" } },
    cells: cells.map((source, i) => ({ id: `c${i}`, cell_type: "code", metadata: {}, execution_count: null, outputs: [], source })),
  });
}

/** Runs `npm run reproduce`'s script (no build, no reference column) on DIR/notebooks into DIR/build. */
function reproduceIn(dir: string, env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [join(ROOT, "node_modules", "tsx", "dist", "cli.mjs"), join(ROOT, "scripts", "reproduce.ts"),
    "--notebooks", join(dir, "notebooks"), "--out", join(dir, "build"), "--no-build", "--no-reference"],
    { encoding: "utf8", cwd: ROOT, env: { ...process.env, ...env } });
}

describe("notebooks", () => {
  const sources = listNotebooks();

  describe("as committed", () => {
    it("there is one notebook per step of the article, 01-predict to 06-transfer", () => {
      expect(sources.map((s) => basename(s, ".ipynb"))).to.include.members(EXPECTED_NOTEBOOKS);
    });

    it("every notebook is saved without outputs and declares the tslab kernel", () => {
      for (const source of sources) {
        const nb = readNotebook(source);
        expect(nb.metadata.kernelspec?.name, `${basename(source)} kernel`).to.equal("tslab");
        for (const cell of nb.cells.filter((c) => c.cell_type === "code")) {
          expect(cell.outputs, `${basename(source)} has saved outputs`).to.deep.equal([]);
          expect(cell.execution_count ?? null, `${basename(source)} has execution counts`).to.equal(null);
        }
      }
    });

    it("every committed notebook is exactly what scripts/notebooks/build.ts makes from its source (no outputs, no metadata from a session)", function () {
      this.timeout(60000);
      const r = spawnSync(process.execPath, [join(ROOT, "node_modules", "tsx", "dist", "cli.mjs"), join(ROOT, "scripts", "notebooks", "build.ts"), "--check"], { encoding: "utf8", cwd: ROOT });
      expect(r.status, `${r.stdout}${r.stderr}`).to.equal(0);
    });

    it("Jupyter's checkpoints beside the notebooks are ignored by git", function () {
      const r = spawnSync("git", ["check-ignore", "--no-index", "notebooks/.ipynb_checkpoints/03-sneaky-checkpoint.ipynb"], { encoding: "utf8", cwd: ROOT });
      expect(r.stdout.trim(), r.stderr).to.equal("notebooks/.ipynb_checkpoints/03-sneaky-checkpoint.ipynb");
    });
  });

  describe("executed headlessly (as npm run reproduce does)", function () {
    let executed: ExecutedNotebooks;

    before(async function () {
      this.timeout(ALL_NOTEBOOKS_TIMEOUT_MS);
      executed = await executedNotebooks();
    });

    for (const source of sources) {
      const name = basename(source, ".ipynb");
      it(`${name} executes without error`, () => {
        const run = executed.runs.find((r) => r.name === name);
        expect(run, `${name} was not run`).to.not.equal(undefined);
        expect(run!.ok, run!.error).to.equal(true);
      });
    }

    it("each executed notebook embeds plotly.js exactly once and sends every figure as Plotly JSON, HTML, PNG and text", () => {
      for (const run of executed.runs.filter((r) => r.ok)) {
        const outputs = readNotebook(run.ipynb).cells.flatMap((c) => c.outputs ?? []);
        const html = (o: Output) => [o.data?.["text/html"] ?? ""].flat().join("");
        const embeds = outputs.filter((o) => html(o).includes("embedded once per notebook"));
        const figures = outputs.filter((o) => o.data?.["application/vnd.plotly.v1+json"] !== undefined);
        expect(figures.length, `${run.name}: no figure`).to.be.greaterThan(0);
        expect(embeds, `${run.name}: plotly.js embeds`).to.have.length(1);
        for (const f of figures) {
          expect(html(f), run.name).to.contain("Plotly.newPlot");
          expect(f.data?.["text/plain"], run.name).to.not.equal(undefined);
          // A PNG (base64) starts with the bytes 89 50 4E 47.
          expect(String(f.data?.["image/png"] ?? "").slice(0, 8), `${run.name}: static PNG`).to.equal("iVBORw0K");
        }
      }
    });

    it("the kernels draw no PNG themselves: the pass after execution draws every figure's", () => {
      const figures = executed.runs
        .filter((r) => r.ok)
        .flatMap((r) => readNotebook(r.ipynb).cells.flatMap((c) => c.outputs ?? []))
        .filter((o) => o.data?.["application/vnd.plotly.v1+json"] !== undefined);
      expect(executed.pngs, "the PNG pass").to.not.equal(null);
      expect(executed.pngs!.off, "PNG renderer").to.equal(undefined);
      expect(executed.pngs!.errors).to.deep.equal([]);
      expect(executed.pngs!.figures).to.equal(figures.length);
      expect(executed.report.pngs?.figures).to.equal(figures.length);
    });

    it("each HTML export holds every figure as a plotly.js figure whose div starts with its PNG, and no PNG output of its own", () => {
      for (const run of executed.runs.filter((r) => r.ok)) {
        const figures = readNotebook(run.ipynb)
          .cells.flatMap((c) => c.outputs ?? [])
          .filter((o) => o.data?.["application/vnd.plotly.v1+json"] !== undefined);
        const page = readFileSync(run.html, "utf8");
        // The static image inside each figure's div: what a page that runs no scripts shows.
        const divs = page.match(/<div id="[^"]*" class="advlab-figure" style="[^"]*"><img class="advlab-figure-png" alt="[^"]*" src="data:image\/png;base64,iVBORw0K/g) ?? [];
        expect(divs, `${run.name}: figure divs holding their PNG`).to.have.length(figures.length);
        // nbconvert's template for an output shown as PNG (plotly.js's own source holds data: URLs too).
        expect(page, `${run.name}: an <img> of a PNG`).to.not.contain('<img src="data:image/png;base64,');
      }
    });

    it("every number of the reproduction report was recorded by its notebook", () => {
      expect(executed.report.missing).to.deep.equal([]);
    });

    it("01: our network classifies at least 94 % of the test images right", () => {
      const r = results("01-predict");
      expect(r.testAccuracy).to.be.a("number").within(0.94, 1);
      expect(r.testCorrect).to.equal(Math.round((r.testAccuracy as number) * 10000));
    });

    it("05: the original network scores at most 60 % on the adversarial test set (the article measured 41 %)", () => {
      expect(results("05-adversarial-training").originalAdvAccuracy).to.be.a("number").at.most(0.6);
    });

    it("05: the retrained network scores at least 90 % on that adversarial test set and 93 % on clean test images", () => {
      const r = results("05-adversarial-training");
      expect(r.retrainedAdvAccuracy).to.be.a("number").at.least(0.9);
      expect(r.retrainedCleanAccuracy).to.be.a("number").at.least(0.93);
      expect(r.augmentCount).to.equal(50000);
      expect(r.retrainEpochAccuracies).to.be.an("array").with.length(30);
    });

    it("running 02-nontargeted again gives exactly the same numbers", async function () {
      this.timeout(30 * 60 * 1000);
      const first = readFileSync(join(RESULTS_DIR, "02-nontargeted.json"), "utf8");
      const dir = mkdtempSync(join(tmpdir(), "advlab-rerun-"));
      try {
        const run = await runNotebook(join(ROOT, "notebooks", "02-nontargeted.ipynb"), { outDir: join(dir, "out"), resultsDir: join(dir, "results") });
        expect(run.ok, run.error).to.equal(true);
        expect(readFileSync(join(dir, "results", "02-nontargeted.json"), "utf8")).to.equal(first);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe("in a running kernel (the messages a front end receives)", () => {
    /** Runs `code` as one cell in a fresh tslab kernel; returns the reply status and published messages. */
    function runCell(code: string, deadlineSeconds = 120): { status: string; messages: { type: string; displayId?: string; mimes?: string[]; text?: string }[] } {
      registerKernel();
      const r = spawnSync(findPython(["jupyter_client"]), [join(__dirname, "support", "iopub.py"), String(deadlineSeconds)], {
        input: code,
        encoding: "utf8",
        cwd: ROOT,
        env: jupyterEnv(),
        timeout: 5 * 60 * 1000,
      });
      expect(r.status, r.stderr).to.equal(0);
      return JSON.parse(r.stdout);
    }

    it("a progress bar redraws one output in place while the cell runs, at most about 5 times a second", function () {
      this.timeout(5 * 60 * 1000);
      const { status, messages } = runCell(
        `import { progress } from "${join(ROOT, "dist")}";\n` +
          `const bar = progress(40, "steps");\n` +
          `for (let i = 1; i <= 40; i++) { await new Promise((r) => setTimeout(r, 50)); bar.update(i); }\n` +
          `await bar.finish();`,
      );
      expect(status).to.equal("ok");
      const displays = messages.filter((m) => m.type === "display_data" || m.type === "update_display_data");
      expect(displays[0].type).to.equal("display_data");
      expect(new Set(displays.map((m) => m.displayId)).size).to.equal(1);
      const updates = displays.filter((m) => m.type === "update_display_data");
      // 40 steps over about 2 s: about 10 redraws, far fewer than the 40 updates.
      expect(updates.length).to.be.within(3, 16);
      expect(updates[0].text).to.match(/^steps: \d+\/40 \(\d+\.\d %\), [\d.]+\/s, \S+ left$/);
      expect(updates[updates.length - 1].text).to.match(/^steps: 40\/40 \(100\.0 %\), [\d.]+\/s, done in \d+s$/);
      expect(updates[0].mimes).to.deep.equal(["text/html", "text/plain"]);
    });

    it("a live figure redraws its output in place as HTML, then finish() sends its final state with the Plotly JSON", function () {
      this.timeout(5 * 60 * 1000);
      const { status, messages } = runCell(
        `import { liveFigure, lineFigure, show } from "${join(ROOT, "dist")}";\n` +
          `const chart = await liveFigure(lineFigure([{ name: "accuracy", x: [1], y: [0.9] }], { title: "epoch 1" }));\n` +
          `await chart.update(lineFigure([{ name: "accuracy", x: [1, 2], y: [0.9, 0.93] }], { title: "epoch 2" }));\n` +
          `await chart.finish();\n` +
          `await show(lineFigure([{ name: "other", x: [1], y: [1] }]));`,
      );
      expect(status).to.equal("ok");
      const displays = messages.filter((m) => m.type === "display_data" || m.type === "update_display_data");
      expect(displays.map((m) => m.type)).to.deep.equal(["display_data", "display_data", "update_display_data", "update_display_data", "display_data"]);
      expect(displays[0].text).to.contain("plotly.js");
      expect(displays[2].displayId).to.equal(displays[1].displayId).and.to.be.a("string");
      expect(displays[3].displayId).to.equal(displays[1].displayId);
      // jupyterlab-plotly ignores in-place updates of Plotly JSON: live states carry HTML only.
      expect(displays[1].mimes).to.deep.equal(["text/html", "text/plain"]);
      expect(displays[2].mimes).to.deep.equal(["text/html", "text/plain"]);
      expect(displays[3].mimes).to.deep.equal(["application/vnd.plotly.v1+json", "text/html", "text/plain"]);
      expect(displays[3].text).to.contain("epoch 2");
    });

    it("600 prints, then 5,000 redraws of a live figure and five progress bars with 500 tables and 50 prints in the same turn: all arrive, and a later print too", function () {
      // Without serialised sends, zeromq's 513th send in one turn is deferred and the next
      // throws "Socket is busy writing"; tslab's own messages then fail and the cell never ends.
      this.timeout(5 * 60 * 1000);
      const { status, messages } = runCell(
        `import { liveFigure, lineFigure, progress, table } from "${join(ROOT, "dist")}";\n` +
          `for (let i = 0; i < 600; i++) console.log("burst " + i);\n` +
          `const line = (i: number) => lineFigure([{ name: "a", x: [0, i], y: [0, i] }], { title: "step " + i });\n` +
          `const live = await liveFigure(line(0));\n` +
          `const bars = [0, 1, 2, 3, 4].map((b) => progress(5000, "bar " + b));\n` +
          `const tables: Promise<void>[] = [];\n` +
          `const redraws: Promise<void>[] = [];\n` +
          `for (let i = 1; i <= 5000; i++) {\n` +
          `  redraws.push(live.update(line(i)));\n` +
          `  for (const bar of bars) bar.update(i);\n` +
          `  if (i % 10 === 0) tables.push(table([{ row: i }]));\n` +
          `  if (i % 100 === 0) console.log("step " + i);\n` +
          `}\n` +
          `await Promise.all(redraws);\n` +
          `await Promise.all(tables);\n` +
          `await live.finish();\n` +
          `for (const bar of bars) await bar.finish();\n` +
          `await new Promise((r) => setTimeout(r, 100));\n` +
          `console.log("later output");`,
      );
      expect(status).to.equal("ok");
      expect(messages.filter((m) => m.type === "error")).to.deep.equal([]);
      const prints = messages.filter((m) => m.type === "stream").map((m) => m.text);
      // 600 prints in one turn before any display call: importing the library made them safe too.
      expect(prints.join("")).to.equal(
        [...Array.from({ length: 600 }, (_, k) => `burst ${k}\n`), ...Array.from({ length: 50 }, (_, k) => `step ${(k + 1) * 100}\n`), "later output\n"].join(""),
      );
      const tables = messages.filter((m) => m.type === "display_data" && !m.displayId && /row/.test(m.text ?? ""));
      expect(tables.map((m) => Number(/^\s*row\s*\n-+\n\s*(\d+)$/.exec(m.text ?? "")?.[1]))).to.deep.equal(Array.from({ length: 500 }, (_, k) => (k + 1) * 10));
      const liveId = messages.find((m) => m.type === "display_data" && m.displayId?.startsWith("advlab-live"))?.displayId;
      const liveUpdates = messages.filter((m) => m.type === "update_display_data" && m.displayId === liveId);
      // Redraws asked for while one was on its way were dropped; the newest always went out.
      expect(liveUpdates.length).to.be.within(2, 100);
      expect(liveUpdates[liveUpdates.length - 2].text).to.equal("<Figure: step 5000 (1 scatter trace)>");
      expect(liveUpdates[liveUpdates.length - 1].mimes).to.include("application/vnd.plotly.v1+json");
      for (let b = 0; b < 5; b++) {
        const last = messages.filter((m) => m.type === "update_display_data" && m.text?.startsWith(`bar ${b}:`)).pop();
        expect(last?.text, `bar ${b}`).to.match(new RegExp(`^bar ${b}: 5,000/5,000 \\(100\\.0 %\\), .*done in`));
      }
    });
  });

  describe("the runner", () => {
    it("a failing notebook makes the runner fail, naming the notebook and its error", async function () {
      this.timeout(5 * 60 * 1000);
      const dir = mkdtempSync(join(tmpdir(), "advlab-failing-"));
      try {
        const good = join(dir, "01-fine.ipynb");
        const bad = join(dir, "02-broken.ipynb");
        writeFileSync(good, notebookJson(["const a: number = 1 + 1;\nconsole.log(a);"]));
        writeFileSync(bad, notebookJson(["console.log('before');", "throw new Error('the broken notebook fails here');", "console.log('never');"]));
        const { runs } = await runNotebooks([good, bad], { outDir: join(dir, "out"), resultsDir: join(dir, "results") });
        expect(runs.map((r) => [r.name, r.ok])).to.deep.equal([["01-fine", true], ["02-broken", false]]);
        expect(runs[1].error).to.contain("the broken notebook fails here");
        expect(() => assertAllPassed(runs)).to.throw(/1 notebook\(s\) failed: 02-broken[\s\S]*the broken notebook fails here/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it("npm run reproduce exits non-zero naming the failing notebook, and still writes its report", function () {
      this.timeout(5 * 60 * 1000);
      const dir = mkdtempSync(join(tmpdir(), "advlab-reproduce-"));
      try {
        mkdirSync(join(dir, "notebooks"));
        writeFileSync(join(dir, "notebooks", "01-fine.ipynb"), notebookJson(["console.log('fine');"]));
        writeFileSync(join(dir, "notebooks", "02-broken.ipynb"), notebookJson(["throw new Error('reproduce sees this');"]));
        const r = reproduceIn(dir);
        expect(r.status).to.equal(1);
        expect(r.stderr).to.match(/1 notebook\(s\) failed: 02-broken[\s\S]*reproduce sees this/);
        const report = readFileSync(join(dir, "build", "reproduction.md"), "utf8");
        expect(report).to.contain("| 01-fine | ran |").and.to.contain("| 02-broken | FAILED |");
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it("npm run reproduce names the notebook, the cell and the error of a 200-line failing cell, and says when an error has no message", function () {
      this.timeout(5 * 60 * 1000);
      const dir = mkdtempSync(join(tmpdir(), "advlab-longcell-"));
      try {
        mkdirSync(join(dir, "notebooks"));
        const long = [...Array.from({ length: 200 }, (_, i) => `const v${i}: number = ${i};`), "throw new Error('the long cell fails on its last line');"].join("\n");
        writeFileSync(join(dir, "notebooks", "01-long.ipynb"), notebookJson(["console.log('first');", long]));
        writeFileSync(join(dir, "notebooks", "02-silent.ipynb"), notebookJson(["throw new Error();"]));
        const r = reproduceIn(dir);
        expect(r.status).to.equal(1);
        expect(r.stderr).to.contain("2 notebook(s) failed: 01-long, 02-silent");
        const [, longReport, silentReport] = r.stderr.split(/^--- /m);
        expect(longReport).to.contain(`NOTEBOOK FAILED: ${join(dir, "notebooks", "01-long.ipynb")}, cell 2 of 2 (code cell 2 of 2, 201 lines)`);
        // The error comes before the cell's source, which is shortened in the middle.
        expect(longReport.indexOf("Error: the long cell fails on its last line")).to.be.within(0, longReport.indexOf("the cell:"));
        expect(longReport).to.contain("(171 lines left out)");
        expect(silentReport).to.contain("02-silent.ipynb, cell 1 of 1").and.to.contain("Error (thrown without a message)");
        expect(r.stderr).to.not.contain("<Error>");
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it("kernels run with in-kernel PNGs off whatever the caller's environment, and the figure still gains its PNG", async function () {
      this.timeout(5 * 60 * 1000);
      const dir = mkdtempSync(join(tmpdir(), "advlab-pngoff-"));
      const callers = process.env.ADVLAB_FIGURE_PNG;
      process.env.ADVLAB_FIGURE_PNG = "1";
      try {
        const nb = join(dir, "figure.ipynb");
        writeFileSync(
          nb,
          notebookJson([
            `import { lineFigure, show } from "${join(ROOT, "dist")}";\nconsole.log("in-kernel PNGs: " + (globalThis as any).process.env.ADVLAB_FIGURE_PNG);`,
            `await show(lineFigure([{ name: "accuracy", x: [1, 2], y: [0.9, 0.93] }]));`,
          ]),
        );
        const { runs, pngs } = await runNotebooks([nb], { outDir: join(dir, "out"), resultsDir: join(dir, "results") });
        expect(runs[0].ok, runs[0].error).to.equal(true);
        const outputs = readNotebook(runs[0].ipynb).cells.flatMap((c) => c.outputs ?? []);
        const printed = outputs.map((o) => [(o as { text?: string | string[] }).text ?? ""].flat().join("")).join("");
        expect(printed).to.contain("in-kernel PNGs: 0");
        expect(pngs?.figures).to.equal(1);
        const figure = outputs.find((o) => o.data?.["application/vnd.plotly.v1+json"] !== undefined);
        expect(String(figure?.data?.["image/png"] ?? "").slice(0, 8)).to.equal("iVBORw0K");
        const page = readFileSync(runs[0].html, "utf8");
        expect(page).to.contain("Plotly.newPlot").and.to.not.contain('<img src="data:image/png;base64,');
      } finally {
        if (callers === undefined) delete process.env.ADVLAB_FIGURE_PNG;
        else process.env.ADVLAB_FIGURE_PNG = callers;
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it("npm run reproduce without a Chromium still succeeds, warning once and saying so in its report", function () {
      this.timeout(5 * 60 * 1000);
      const dir = mkdtempSync(join(tmpdir(), "advlab-nochromium-"));
      try {
        mkdirSync(join(dir, "notebooks"));
        writeFileSync(
          join(dir, "notebooks", "01-figure.ipynb"),
          notebookJson([`import { lineFigure, show } from "${join(ROOT, "dist")}";\nawait show(lineFigure([{ name: "a", x: [1], y: [1] }]));`]),
        );
        const r = reproduceIn(dir, { ADVLAB_CHROMIUM: join(dir, "no-chromium") });
        expect(r.status, r.stderr).to.equal(0);
        expect(r.stderr.match(/static PNGs of figures are off: no Chromium at/g)).to.have.length(1);
        expect(readFileSync(join(dir, "build", "reproduction.md"), "utf8")).to.contain("| 01-figure | ran |").and.to.contain("one pass (one browser): off (no Chromium at");
        const figure = readNotebook(join(dir, "build", "notebooks", "01-figure.ipynb")).cells[0].outputs!.find((o) => o.data?.["application/vnd.plotly.v1+json"] !== undefined);
        expect(figure?.data?.["text/html"]).to.not.equal(undefined);
        expect(figure?.data?.["image/png"]).to.equal(undefined);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it("a type error in a cell fails the notebook too", async function () {
      this.timeout(5 * 60 * 1000);
      const dir = mkdtempSync(join(tmpdir(), "advlab-typeerror-"));
      try {
        const nb = join(dir, "typed.ipynb");
        writeFileSync(nb, notebookJson(["const n: number = 'not a number';"]));
        const run = await runNotebook(nb, { outDir: join(dir, "out"), resultsDir: join(dir, "results") });
        expect(run.ok).to.equal(false);
        expect(run.error).to.match(/not assignable to type 'number'/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
