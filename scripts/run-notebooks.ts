/**
 * Executes notebooks headlessly with the project's tslab kernel (Jupyter's nbclient, through
 * scripts/execute-notebook.py), one fresh kernel each, and exports each executed copy to HTML
 * with `jupyter nbconvert --to html`. Used by
 * `npm run reproduce` and by the notebook tests.
 *
 *   const runs = await runNotebooks(listNotebooks(), { outDir: "build/notebooks" })
 *   // [{ name: "01-predict", ok: true, seconds: 12.3, ipynb: ".../01-predict.ipynb", html: ... }, ...]
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { findJupyter, findPython, jupyterEnv, ROOT } from "./kernel";

export interface NotebookRun {
  /** File name without .ipynb, e.g. "03-sneaky"; also the name its results are recorded under. */
  name: string;
  source: string;
  ok: boolean;
  /** Wall time of the execution (kernel start to last cell), in seconds. */
  seconds: number;
  ipynb: string;
  html: string;
  /** What went wrong, when !ok: the failing cell and what it wrote (the error). */
  error?: string;
}

export interface RunOptions {
  /** Where executed .ipynb and .html copies go (created). */
  outDir: string;
  /** ADVLAB_RESULTS_DIR for the kernels (default build/results). */
  resultsDir?: string;
  /** Per-cell timeout in seconds (default $ADVLAB_CELL_TIMEOUT or 7200: notebook 05 trains for minutes in one cell). */
  cellTimeout?: number;
  /** Called as each notebook starts and ends (for logs). */
  onEvent?: (event: { kind: "start" | "end"; name: string; run?: NotebookRun }) => void;
}

/** notebooks/*.ipynb in name order. */
export function listNotebooks(dir = join(ROOT, "notebooks")): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith(".ipynb") && !f.startsWith("."))
    .sort()
    .map((f) => join(dir, f));
}

function run(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<{ code: number; output: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.on("error", (e) => reject(new Error(`cannot run ${command}: ${e.message}`)));
    child.on("close", (code) => resolvePromise({ code: code ?? 1, output }));
  });
}

/** The part of the runner's output that says what failed (the cell and the error), not a Python traceback. */
export function failureSummary(output: string): string {
  const marker = output.indexOf("An error occurred while executing the following cell");
  const text = marker >= 0 ? output.slice(marker) : output;
  const lines = text.split("\n").filter((l) => !/frozen modules|Debugger warning|debugger miss|Xfrozen_modules|PYDEVD/.test(l));
  return lines.slice(0, 60).join("\n").trim();
}

/**
 * Executes one notebook into `outDir` as <name>.ipynb and <name>.html. The kernel runs in the
 * notebook's own folder (so `import ... from "../dist"` works from notebooks/). Never throws
 * for a failing notebook: the run says `ok: false` with the error.
 */
export async function runNotebook(notebook: string, options: RunOptions): Promise<NotebookRun> {
  const source = resolve(notebook);
  const name = basename(source, ".ipynb");
  if (!existsSync(source)) {
    return { name, source, ok: false, seconds: 0, ipynb: "", html: "", error: `${source}: no such notebook` };
  }
  const outDir = resolve(options.outDir);
  mkdirSync(outDir, { recursive: true });
  const resultsDir = resolve(options.resultsDir ?? join(ROOT, "build", "results"));
  mkdirSync(resultsDir, { recursive: true });
  // A result left from an earlier run must not pass for this one's.
  rmSync(join(resultsDir, `${name}.json`), { force: true });
  const ipynb = join(outDir, `${name}.ipynb`);
  const html = join(outDir, `${name}.html`);
  rmSync(ipynb, { force: true });
  rmSync(html, { force: true });
  const timeout = options.cellTimeout ?? Number(process.env.ADVLAB_CELL_TIMEOUT ?? 7200);
  // Figures also carry a static PNG (lib/static-png) unless ADVLAB_FIGURE_PNG=0.
  const env = { ...jupyterEnv(), ADVLAB_RESULTS_DIR: resultsDir, ADVLAB_FIGURE_PNG: process.env.ADVLAB_FIGURE_PNG ?? "1" };
  const jupyter = findJupyter();
  const python = findPython(["nbclient", "nbformat"]);
  options.onEvent?.({ kind: "start", name });
  const started = process.hrtime.bigint();
  // nbclient, as `jupyter nbconvert --execute` runs it, but reporting the failing cell's own
  // stderr (where tslab writes type errors and exceptions).
  const exec = await run(python, [join(__dirname, "execute-notebook.py"), source, ipynb, String(timeout), "tslab"], { cwd: dirname(source), env });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  let result: NotebookRun = { name, source, ok: exec.code === 0 && existsSync(ipynb), seconds, ipynb, html };
  if (!result.ok) {
    result.error = failureSummary(exec.output) || `the notebook runner exited with ${exec.code}`;
  } else {
    // The export names CDN copies of RequireJS and MathJax (Debian's nbconvert points at local
    // files that may not exist); figures need neither: plotly.js is embedded in the notebook.
    const exported = await run(
      jupyter,
      [
        "nbconvert",
        "--to",
        "html",
        "--HTMLExporter.require_js_url=https://cdnjs.cloudflare.com/ajax/libs/require.js/2.1.10/require.min.js",
        "--HTMLExporter.mathjax_url=https://cdnjs.cloudflare.com/ajax/libs/mathjax/2.7.7/latest.js?config=TeX-AMS_CHTML-full,Safe",
        "--output-dir",
        outDir,
        "--output",
        `${name}.html`,
        ipynb,
      ],
      { cwd: outDir, env },
    );
    if (exported.code !== 0 || !existsSync(html)) {
      result = { ...result, ok: false, error: `HTML export failed:\n${failureSummary(exported.output)}` };
    }
  }
  options.onEvent?.({ kind: "end", name, run: result });
  return result;
}

/** Runs notebooks one after another (each uses both cores); returns every run, failed or not. */
export async function runNotebooks(sources: string[], options: RunOptions): Promise<NotebookRun[]> {
  const runs: NotebookRun[] = [];
  for (const source of sources) runs.push(await runNotebook(source, options));
  return runs;
}

/** Throws an error naming every failed notebook and its error; does nothing when all passed. */
export function assertAllPassed(runs: NotebookRun[]): void {
  const failed = runs.filter((r) => !r.ok);
  if (failed.length === 0) return;
  const details = failed.map((r) => `--- ${r.name} (${r.source})\n${r.error ?? ""}`).join("\n");
  throw new Error(`${failed.length} notebook(s) failed: ${failed.map((r) => r.name).join(", ")}\n${details}`);
}
