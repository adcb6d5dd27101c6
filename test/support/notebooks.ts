import { expect } from "chai";
/**
 * Executes notebooks/*.ipynb once per mocha process, through the same code as
 * `npm run reproduce` (kernel registration, headless runner, PNG pass, report), into build/. The notebook
 * and browser tests share the cached runs, so the notebooks run once per `npm test`.
 */
import { join } from "node:path";
import { registerKernel, ROOT } from "../../scripts/kernel";
import { listNotebooks, NotebookRun, runNotebooks } from "../../scripts/run-notebooks";
import { buildReport, readResults, Report } from "../../scripts/report";
import type { PngPass } from "../../scripts/static-pngs";

export const BUILD_DIR = join(ROOT, "build");
export const NOTEBOOK_OUT_DIR = join(BUILD_DIR, "notebooks");
export const RESULTS_DIR = join(BUILD_DIR, "results");
export const SCREENSHOT_DIR = join(BUILD_DIR, "screenshots");

/** The notebooks the article's steps need, in order. */
export const EXPECTED_NOTEBOOKS = ["01-predict", "02-nontargeted", "03-sneaky", "04-thresholding", "05-adversarial-training", "06-transfer"];

/** Generous: notebook 05 builds 50,000 adversarial examples and retrains for 30 epochs. */
export const ALL_NOTEBOOKS_TIMEOUT_MS = 4 * 60 * 60 * 1000;

export interface ExecutedNotebooks {
  runs: NotebookRun[];
  /** The static PNG pass that followed the execution (null: none ran). */
  pngs: PngPass | null;
  report: Report;
}

let cached: Promise<ExecutedNotebooks> | null = null;

/** Runs every notebook (the first call), then returns the same runs and report. */
export function executedNotebooks(): Promise<ExecutedNotebooks> {
  cached ??= (async () => {
    registerKernel();
    const { runs, pngs } = await runNotebooks(listNotebooks(), {
      outDir: NOTEBOOK_OUT_DIR,
      resultsDir: RESULTS_DIR,
      onEvent: (e) => {
        if (e.kind === "end") console.log(`      (${e.name}: ${e.run?.ok ? "ran" : "FAILED"} in ${e.run?.seconds.toFixed(1)} s)`);
        if (e.kind === "pngs-end") console.log(`      (static PNGs: ${e.pngs.figures} figures in ${e.pngs.seconds.toFixed(1)} s${e.pngs.off ? `, off: ${e.pngs.off}` : ""})`);
      },
    });
    // The report as `npm run reproduce` builds it, less the column computed on the article's
    // network (a minute of work, and reproduce's own); build/reproduction.md is left alone.
    const report = buildReport(readResults(RESULTS_DIR), runs, null, pngs);
    return { runs, pngs, report };
  })();
  return cached;
}

/**
 * Inside a notebook's describe block: runs every notebook once (shared, before the tests) and adds
 * the test that `name` executed without error.
 */
export function itExecutes(name: string): void {
  let executed: ExecutedNotebooks;
  before(async function () {
    this.timeout(ALL_NOTEBOOKS_TIMEOUT_MS);
    executed = await executedNotebooks();
  });

  it("executes without error", () => {
    const run = executed.runs.find((r) => r.name === name);
    expect(run, `${name} was not run`).to.not.equal(undefined);
    expect(run!.ok, run!.error).to.equal(true);
  });
}
