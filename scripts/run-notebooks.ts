/**
 * Executes notebooks headlessly with the project's tslab kernel (Jupyter's nbclient, through
 * scripts/execute-notebook.py), one fresh kernel each, with in-kernel PNGs off
 * (ADVLAB_FIGURE_PNG=0, so no kernel starts a browser); then draws every figure's static PNG in
 * one pass over the executed copies (scripts/static-pngs.ts); then exports each to HTML with
 * `jupyter nbconvert --to html`. Used by `npm run reproduce` and by the notebook tests.
 *
 *   const { runs, pngs } = await runNotebooks(listNotebooks(), { outDir: "build/notebooks" })
 *   // runs: [{ name: "01-predict", ok: true, seconds: 12.3, ipynb: ".../01-predict.ipynb", html: ... }, ...]
 *   // pngs: { notebooks: 6, figures: 25, seconds: 5.9, errors: [] }
 */
import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { findJupyter, findPython, jupyterEnv, ROOT } from "./kernel";
import type { PngPass } from "./static-pngs";
// static-pngs.ts imports the compiled library: loaded when the pass runs (after any build).

export interface NotebookRun {
  /** File name without .ipynb, e.g. "03-sneaky"; also the name its results are recorded under. */
  name: string;
  source: string;
  ok: boolean;
  /** Wall time of the execution alone (kernel start to last cell), in seconds: no PNGs, no HTML export. */
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
  /** Per-cell timeout in seconds (default $ADVLAB_CELL_TIMEOUT or 7200: generous, for slow machines; notebook 05 trains in single cells). */
  cellTimeout?: number;
  /** Draw static PNGs of the figures after execution (default true). */
  pngs?: boolean;
  /** Called as each notebook starts and ends, and around the PNG pass (for logs). */
  onEvent?: (event: RunEvent) => void;
}

export type RunEvent =
  | { kind: "start" | "end"; name: string; run?: NotebookRun }
  | { kind: "pngs-start"; notebooks: number }
  | { kind: "pngs-end"; pngs: PngPass };

/** Every notebook's run, and what the PNG pass did (null: no pass, as asked or with nothing run). */
export interface RunsResult {
  runs: NotebookRun[];
  pngs: PngPass | null;
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

/** The first line of a failure report from scripts/execute-notebook.py. */
export const FAILURE_MARKER = "NOTEBOOK FAILED:";

/** Most characters of a failure report kept (the error comes first in it, the cell's source after). */
const FAILURE_CHARS = 12000;

/**
 * The part of the runner's output that says what failed: from execute-notebook.py's report
 * (notebook, cell, error text, then the cell's source), without Python's debugger warnings.
 * Nothing is cut before the error text, however long the cell; a very long report loses its end.
 */
export function failureSummary(output: string): string {
  const marker = output.indexOf(FAILURE_MARKER);
  const text = marker >= 0 ? output.slice(marker) : output;
  const lines = text.split("\n").filter((l) => !/frozen modules|Debugger warning|debugger miss|Xfrozen_modules|PYDEVD/.test(l));
  const kept = lines.join("\n").trim();
  return kept.length <= FAILURE_CHARS ? kept : `${kept.slice(0, FAILURE_CHARS)}\n... (${kept.length - FAILURE_CHARS} more characters)`;
}

/**
 * Executes one notebook into `outDir` as <name>.ipynb (no PNGs, no HTML yet). The kernel runs
 * in the notebook's own folder (so `import ... from "../dist"` works from notebooks/). Never
 * throws for a failing notebook: the run says `ok: false` with the error.
 */
async function executeNotebook(notebook: string, options: RunOptions): Promise<NotebookRun> {
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
  // PNGs come from the pass after execution, whatever the caller's environment says.
  const env = { ...jupyterEnv(), ADVLAB_RESULTS_DIR: resultsDir, ADVLAB_FIGURE_PNG: "0" };
  const python = findPython(["nbclient", "nbformat"]);
  options.onEvent?.({ kind: "start", name });
  const started = process.hrtime.bigint();
  // nbclient, as `jupyter nbconvert --execute` runs it, but reporting the failing cell's own
  // stderr (where tslab writes type errors and exceptions).
  const exec = await run(python, [join(__dirname, "execute-notebook.py"), source, ipynb, String(timeout), "tslab"], { cwd: dirname(source), env });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const result: NotebookRun = { name, source, ok: exec.code === 0 && existsSync(ipynb), seconds, ipynb, html };
  if (!result.ok) result.error = failureSummary(exec.output) || `the notebook runner exited with ${exec.code}`;
  options.onEvent?.({ kind: "end", name, run: result });
  return result;
}

/** Where Debian's libjs-mathjax installs MathJax 2 (or $ADVLAB_MATHJAX: another MathJax 2 folder). */
export function mathjaxDir(): string {
  return process.env.ADVLAB_MATHJAX ?? "/usr/share/javascript/mathjax";
}

/** Debian's RequireJS (libjs-requirejs, installed with jupyter-notebook). */
const REQUIRE_JS = "/usr/share/javascript/requirejs/require.js";

/** The parts of MathJax 2 that the exports' configuration (TeX-AMS_CHTML-full, Safe) loads: about 2 MB of its 54. */
const MATHJAX_PARTS = ["MathJax.js", "config/TeX-AMS_CHTML-full.js", "config/Safe.js", "extensions", "jax/input/TeX", "jax/element", "jax/output/CommonHTML", "fonts/HTML-CSS/TeX/woff", "fonts/HTML-CSS/TeX/otf"];

/** The script URLs the HTML exports load, relative to the exports' folder when copies are there. */
export interface ExportAssets {
  mathjaxUrl: string;
  requireJsUrl: string;
  /** Why an asset comes from a CDN (absent locally), for one warning. */
  missing: string[];
}

/**
 * Copies MathJax (from Debian's libjs-mathjax) and RequireJS into `outDir`, beside the HTML
 * exports, so formulas render offline and the folder can be moved as a whole; returns the URLs
 * the exports use. What is not installed falls back to a CDN, and `missing` says so.
 */
export function copyExportAssets(outDir: string): ExportAssets {
  const assets: ExportAssets = {
    mathjaxUrl: "https://cdnjs.cloudflare.com/ajax/libs/mathjax/2.7.7/latest.js?config=TeX-AMS_CHTML-full,Safe",
    requireJsUrl: "https://cdnjs.cloudflare.com/ajax/libs/require.js/2.1.10/require.min.js",
    missing: [],
  };
  const mathjax = mathjaxDir();
  if (MATHJAX_PARTS.every((part) => existsSync(join(mathjax, part)))) {
    for (const part of MATHJAX_PARTS) cpSync(join(mathjax, part), join(outDir, "mathjax", part), { recursive: true, dereference: true });
    assets.mathjaxUrl = "mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe";
  } else {
    assets.missing.push(`MathJax (no ${join(mathjax, "MathJax.js")} with its TeX-AMS_CHTML-full configuration: apt-get install libjs-mathjax, or set ADVLAB_MATHJAX)`);
  }
  if (existsSync(REQUIRE_JS)) {
    cpSync(REQUIRE_JS, join(outDir, "require.js"), { dereference: true });
    assets.requireJsUrl = "require.js";
  } else {
    assets.missing.push(`RequireJS (no ${REQUIRE_JS}: apt-get install libjs-requirejs)`);
  }
  return assets;
}

/** Exports an executed notebook to <name>.html beside it; a failed export fails the run. */
async function exportHtml(result: NotebookRun, assets: ExportAssets): Promise<NotebookRun> {
  const outDir = dirname(result.ipynb);
  // MathJax and RequireJS from the copies beside the exports (copyExportAssets); figures need
  // neither: plotly.js is embedded in the notebook.
  const exported = await run(
    findJupyter(),
    [
      "nbconvert",
      "--to",
      "html",
      `--HTMLExporter.require_js_url=${assets.requireJsUrl}`,
      `--HTMLExporter.mathjax_url=${assets.mathjaxUrl}`,
      "--output-dir",
      outDir,
      "--output",
      `${result.name}.html`,
      result.ipynb,
    ],
    { cwd: outDir, env: jupyterEnv() },
  );
  if (exported.code !== 0 || !existsSync(result.html)) {
    return { ...result, ok: false, error: `HTML export failed:\n${failureSummary(exported.output)}` };
  }
  return result;
}

/**
 * Runs notebooks one after another (each uses both cores), then draws the PNGs of all that
 * ran in one pass, then exports those to HTML. Returns every run, failed or not, and the
 * pass. A notebook that failed keeps its partial .ipynb and gets no PNGs and no HTML.
 */
export async function runNotebooks(sources: string[], options: RunOptions): Promise<RunsResult> {
  const executed: NotebookRun[] = [];
  for (const source of sources) executed.push(await executeNotebook(source, options));
  const ran = executed.filter((r) => r.ok).map((r) => r.ipynb);
  let pngs: PngPass | null = null;
  if (options.pngs !== false && ran.length > 0) {
    options.onEvent?.({ kind: "pngs-start", notebooks: ran.length });
    // require, not import(): under mocha's CommonJS hook a dynamic import finds no .ts files.
    const { addStaticPngs } = require("./static-pngs") as typeof import("./static-pngs");
    pngs = await addStaticPngs(ran);
    options.onEvent?.({ kind: "pngs-end", pngs });
  }
  const runs: NotebookRun[] = [];
  if (executed.some((r) => r.ok)) {
    const assets = copyExportAssets(resolve(options.outDir));
    for (const m of assets.missing) process.stderr.write(`(HTML exports: ${m}; loaded from a CDN instead, so formulas need a network)\n`);
    for (const r of executed) runs.push(r.ok ? await exportHtml(r, assets) : r);
  } else {
    runs.push(...executed);
  }
  return { runs, pngs };
}

/** Runs one notebook as runNotebooks does (execution, PNGs, HTML export). */
export async function runNotebook(notebook: string, options: RunOptions): Promise<NotebookRun> {
  return (await runNotebooks([notebook], options)).runs[0];
}

/** Throws an error naming every failed notebook and its error; does nothing when all passed. */
export function assertAllPassed(runs: NotebookRun[]): void {
  const failed = runs.filter((r) => !r.ok);
  if (failed.length === 0) return;
  const details = failed.map((r) => `--- ${r.name} (${r.source})\n${r.error ?? ""}`).join("\n");
  throw new Error(`${failed.length} notebook(s) failed: ${failed.map((r) => r.name).join(", ")}\n${details}`);
}
