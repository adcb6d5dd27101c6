/**
 * Sends figures, progress bars and tables to a Jupyter notebook running the tslab kernel.
 * This is the only module that knows about tslab; it loads anywhere, and outside a kernel
 * prints a text version instead (so scripts and tests can import the whole library).
 *
 * Every `await`ed call has sent its output before it returns; await them before the cell ends.
 */
import { randomBytes } from "node:crypto";
import { sep } from "node:path";
import type { Figure } from "./plots";
import { Bundle, checksBundle, figureBundle, plotlyLoaderHtml, plotlySource, progressBundle, progressSummary, tableBundle } from "./notebook-html";
import type { EvaluationChecks } from "../eval/checks";
import { figurePng, pngWanted } from "./static-png";
import { checkCount } from "../util/validate";

type WriteDisplayData = (data: { data: Bundle; metadata: Record<string, unknown>; transient: { display_id?: string } }, update: boolean) => void;

/**
 * The kernel's own `tslab/dist/jupyter.js`, found in require.cache. A fresh `require("tslab")`
 * from here could load a second, unhooked copy; the kernel's copy holds the writer of the
 * cell that is running (`lastWriteDisplayData`, set at the start of every execution).
 */
function kernelWriter(): WriteDisplayData | undefined {
  const suffix = `${sep}tslab${sep}dist${sep}jupyter.js`;
  for (const [file, mod] of Object.entries(require.cache)) {
    if (!file.endsWith(suffix) || !mod) continue;
    const write = (mod.exports as { lastWriteDisplayData?: unknown }).lastWriteDisplayData;
    if (typeof write === "function") return write as WriteDisplayData;
  }
  return undefined;
}

/** True when running inside a tslab kernel that is executing a cell. */
export function inKernel(): boolean {
  return kernelWriter() !== undefined;
}

function send(bundle: Bundle, displayId?: string, update = false): void {
  const write = kernelWriter();
  if (!write) throw new Error("not running in a tslab kernel: there is no notebook to display to");
  write({ data: bundle, metadata: {}, transient: displayId === undefined ? {} : { display_id: displayId } }, update);
}

/** Lets the event loop run once, so queued kernel messages go out before the caller goes on. */
function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function newId(prefix: string): string {
  return `${prefix}-${randomBytes(6).toString("hex")}`;
}

/** Whether this kernel has already embedded plotly.js into the notebook. */
let plotlyEmbedded = false;

/**
 * Embeds plotly.js (inline, about 4.8 MB) as its own output the first time a figure is shown
 * in this kernel, so HTML outputs draw offline; figures shown later wait for it.
 */
function embedPlotlyOnce(): void {
  if (plotlyEmbedded) return;
  const source = plotlySource();
  send({ "text/html": plotlyLoaderHtml(source), "text/plain": `(plotly.js ${source.version} embedded for the figures of this notebook)` });
  plotlyEmbedded = true;
}

function checkFigure(figure: unknown): asserts figure is Figure {
  const f = figure as Figure;
  if (f === null || typeof f !== "object" || !Array.isArray(f.data) || f.layout === null || typeof f.layout !== "object") {
    throw new TypeError("show: expected a figure { data: [...], layout: {...} } such as digitFigure(x) returns");
  }
}

function figureOutput(figure: Figure): Bundle {
  return figureBundle(figure, newId("advlab-figure"));
}

/** The figure's bundle, plus a static PNG when asked for (ADVLAB_FIGURE_PNG=1) and possible. */
async function kernelFigureOutput(figure: Figure): Promise<Bundle> {
  const bundle = figureOutput(figure);
  if (pngWanted()) {
    const png = await figurePng(figure);
    if (png) bundle["image/png"] = png.toString("base64");
  }
  return bundle;
}

/**
 * Shows a figure (from lib/plots) as one output: Plotly JSON, HTML and text (and a PNG with
 * ADVLAB_FIGURE_PNG=1, see lib/static-png). Outside a kernel, prints the text version.
 *
 *   await show(predictionFigure(x, net.feedforward(x)))
 */
export async function show(figure: Figure): Promise<void> {
  checkFigure(figure);
  if (!inKernel()) {
    console.log(figureOutput(figure)["text/plain"]);
    return;
  }
  embedPlotlyOnce();
  send(await kernelFigureOutput(figure));
  await tick();
}

/** A figure output that can be redrawn in place. */
export interface LiveFigure {
  /** Replaces the figure shown by this output with `figure`. */
  update(figure: Figure): Promise<void>;
}

/**
 * Shows a figure that later calls redraw in place (update_display_data), e.g. accuracy per
 * epoch while training runs. Outside a kernel, prints each version as text.
 *
 *   const live = await liveFigure(lineFigure([{ name: "test accuracy", x: [], y: [] }]))
 *   // ... after each epoch:
 *   await live.update(lineFigure([{ name: "test accuracy", x: epochs, y: accuracies }]))
 */
export async function liveFigure(figure: Figure): Promise<LiveFigure> {
  checkFigure(figure);
  const displayId = newId("advlab-live");
  const kernel = inKernel();
  if (kernel) {
    embedPlotlyOnce();
    send(await kernelFigureOutput(figure), displayId);
    await tick();
  } else {
    console.log(figureOutput(figure)["text/plain"]);
  }
  return {
    async update(next: Figure): Promise<void> {
      checkFigure(next);
      if (!kernel || !inKernel()) {
        console.log(figureOutput(next)["text/plain"]);
        return;
      }
      send(await kernelFigureOutput(next), displayId, true);
      await tick();
    },
  };
}

/** A live progress bar. */
export interface Progress {
  /** Sets the count done so far (0..total); redraws at most about 5 times a second. */
  update(done: number): void;
  /** Draws the final state (count, total time) and lets it go out. */
  finish(): Promise<void>;
}

/** Fewest milliseconds between two redraws: at most 5 a second in a notebook. */
const NOTEBOOK_INTERVAL_MS = 200;
/** Outside a notebook, a line every 5 seconds is plenty for a log. */
const TEXT_INTERVAL_MS = 5000;

/**
 * A progress bar with count, rate per second and time left, updated in place. It is live only
 * while the event loop runs: use the async library calls (sgdAsync, augmentDataAsync) or await
 * between chunks of work. Outside a kernel it writes a line to stderr every few seconds.
 *
 *   const bar = progress(50000, "adversarial examples")
 *   const augmented = await augmentDataAsync(net, 50000, training, 100, { onProgress: (done) => bar.update(done) })
 *   await bar.finish()
 */
export function progress(total: number, label = ""): Progress {
  checkCount(total, "progress: total");
  const started = Date.now();
  const kernel = inKernel();
  const displayId = newId("advlab-progress");
  let done = 0;
  let lastDraw = -Infinity;
  let drawn = false;
  let finished = false;
  const state = (final: boolean) => ({ label, done, total, elapsedSeconds: (Date.now() - started) / 1000, finished: final });
  const draw = (final: boolean) => {
    lastDraw = Date.now();
    if (kernel && inKernel()) {
      send(progressBundle(state(final)), displayId, drawn);
    } else {
      process.stderr.write(progressSummary(state(final)).text + "\n");
    }
    drawn = true;
  };
  if (kernel) draw(false);
  return {
    update(next: number): void {
      if (typeof next !== "number" || !Number.isFinite(next) || next < 0) {
        throw new RangeError(`progress: done must be a finite number >= 0, got ${String(next)}`);
      }
      if (finished) return;
      done = Math.min(next, total);
      if (Date.now() - lastDraw >= (kernel ? NOTEBOOK_INTERVAL_MS : TEXT_INTERVAL_MS)) draw(false);
    },
    async finish(): Promise<void> {
      if (finished) return;
      finished = true;
      draw(true);
      if (kernel) await tick();
    },
  };
}

/**
 * Shows rows of numbers side by side as an HTML table (text in plain front ends). Columns are
 * the rows' keys; fractions are shown to four significant digits.
 *
 *   await table([{ network: "original", clean: 0.9496, adversarial: 0.41 },
 *                { network: "retrained", clean: 0.951, adversarial: 0.949 }], { title: "accuracy" })
 */
export async function table(rows: Record<string, string | number>[], options: { title?: string } = {}): Promise<void> {
  const bundle = tableBundle(rows, options.title);
  if (!inKernel()) {
    console.log(bundle["text/plain"]);
    return;
  }
  send(bundle);
  await tick();
}

/**
 * Shows the outcome of `evaluationChecks`: a warning block for every check that fired (its
 * numbers and sentence), then a table of all four. Outside a kernel, prints the text version.
 *
 *   await showChecks(evaluationChecks({ whiteBox, blackBox, stepsCurve, unbounded, n: 500 }))
 */
export async function showChecks(checks: EvaluationChecks, options: { title?: string } = {}): Promise<void> {
  if (checks === null || typeof checks !== "object" || !Array.isArray(checks.outcomes)) {
    throw new TypeError("showChecks: expected what evaluationChecks(...) returns");
  }
  const bundle = checksBundle(checks, options.title);
  if (!inKernel()) {
    console.log(bundle["text/plain"]);
    return;
  }
  send(bundle);
  await tick();
}
