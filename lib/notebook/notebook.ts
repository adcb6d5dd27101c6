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
    if (typeof write === "function") {
      serialiseKernelSends();
      return write as WriteDisplayData;
    }
  }
  return undefined;
}

/** True when running inside a tslab kernel that is executing a cell. */
export function inKernel(): boolean {
  return kernelWriter() !== undefined;
}

/*
 * Why sends are serialised. tslab hands every message (display data, the text of console.log,
 * status, replies) to zeromq's `socket.send` and ignores the promise it returns. zeromq sends
 * at once up to 512 times in a row, then defers one send to a later turn of the event loop;
 * any send before that turn throws "Socket is busy writing; only one send operation may be in
 * progress at any time" (EBUSY). The throw lands in whoever sent: a display call, or tslab's own
 * console.log or status message, which then never arrives (the cell's error and its end
 * included, so the front end waits for ever). It takes one burst of sends in one turn after
 * about 500 messages, e.g. a few progress bars redrawn together.
 *
 * The fix is below tslab, once per process: zeromq's Socket.prototype.send is wrapped so that
 * each socket sends one message at a time, in order, the next when the previous one's promise
 * settles. Nothing is dropped and no sender sees EBUSY; a send that still meets EBUSY (begun
 * before the wrapper was installed) is retried on the next turn.
 */

/** What the wrapper keeps on zeromq's Socket.prototype (under SERIALISED): set once per process. */
interface SendHooks {
  /** Called with the promise of each message sent while set: how send() learns when its message went out. */
  onSend: ((sent: Promise<void>) => void) | null;
}

type ZmqSend = (this: object, message: unknown) => Promise<void>;

const SERIALISED = Symbol.for("adversarial-lab.serialised-zeromq-send");

/** Messages waiting for one socket, oldest first, and whether one of them is being sent. */
interface SocketQueue {
  busy: boolean;
  waiting: { message: unknown; settle: (error?: unknown) => void }[];
}

/** Sends the queue's oldest message, and when it has gone out, the next; stops when the queue is empty. */
function pump(original: ZmqSend, socket: object, queue: SocketQueue): void {
  const next = queue.waiting[0];
  if (!next) {
    queue.busy = false;
    return;
  }
  queue.busy = true;
  let sent: Promise<void>;
  try {
    sent = Promise.resolve(original.call(socket, next.message));
  } catch (error) {
    if ((error as { code?: string }).code === "EBUSY") {
      // A send this wrapper did not see (begun before it was installed) is still in progress.
      setTimeout(() => pump(original, socket, queue), 1);
      return;
    }
    sent = Promise.reject(error);
  }
  queue.waiting.shift();
  sent.then(
    () => next.settle(),
    (error: unknown) => next.settle(error ?? new Error("zeromq send failed without a reason")),
  ).then(() => pump(original, socket, queue));
}

/**
 * Wraps `send` of every zeromq copy loaded in this process (the one tslab uses among them) so
 * that sends on one socket go out one after another. Idempotent; a no-op outside a kernel.
 */
function serialiseKernelSends(): SendHooks | undefined {
  let hooks: SendHooks | undefined;
  const suffix = `${sep}zeromq${sep}lib${sep}index.js`;
  for (const [file, mod] of Object.entries(require.cache)) {
    if (!file.endsWith(suffix) || !mod) continue;
    const proto = (mod.exports as { Socket?: { prototype?: Record<string | symbol, unknown> } }).Socket?.prototype;
    if (!proto || typeof proto.send !== "function") continue;
    if (proto[SERIALISED]) {
      hooks ??= proto[SERIALISED] as SendHooks;
      continue;
    }
    const original = proto.send as ZmqSend;
    const own: SendHooks = { onSend: null };
    const queues = new WeakMap<object, SocketQueue>();
    const serialisedSend = function (this: object, message: unknown): Promise<void> {
      let queue = queues.get(this);
      if (!queue) queues.set(this, (queue = { busy: false, waiting: [] }));
      const q = queue;
      const sent = new Promise<void>((resolve, reject) => {
        q.waiting.push({ message, settle: (error) => (error === undefined ? resolve() : reject(error)) });
      });
      // tslab never looks at the promise: a failure must not become an unhandled rejection.
      sent.catch(() => undefined);
      own.onSend?.(sent);
      if (!q.busy) pump(original, this, q);
      return sent;
    };
    Object.defineProperty(proto, "send", { value: serialisedSend, writable: true, configurable: true });
    Object.defineProperty(proto, SERIALISED, { value: own });
    hooks ??= own;
  }
  return hooks;
}

/**
 * Sends one bundle (display_data, or update_display_data of `displayId` when `update`) and
 * resolves once the kernel's socket has taken it. Throws outside a kernel.
 */
function send(bundle: Bundle, displayId?: string, update = false): Promise<void> {
  const write = kernelWriter();
  if (!write) throw new Error("not running in a tslab kernel: there is no notebook to display to");
  const hooks = serialiseKernelSends();
  let sent: Promise<void> | undefined;
  if (hooks) hooks.onSend = (p) => (sent ??= p);
  try {
    write({ data: bundle, metadata: {}, transient: displayId === undefined ? {} : { display_id: displayId } }, update);
  } finally {
    if (hooks) hooks.onSend = null;
  }
  return sent ?? Promise.resolve();
}

/**
 * One output redrawn in place (a progress bar, a live figure). The first draw sends
 * display_data, later ones update_display_data. While one redraw is on its way, newer ones do
 * not queue up: the newest replaces any that waits, so a burst of redraws costs two messages,
 * and the last state asked for always goes out.
 */
class InPlaceOutput {
  private waiting: Bundle | null = null;
  private inFlight: Promise<void> | null = null;
  private shown = false;
  private failure: unknown = undefined;

  constructor(readonly displayId: string) {}

  /** Asks for `bundle` to be shown; resolves once it, or a newer bundle, has gone out. */
  draw(bundle: Bundle): Promise<void> {
    this.waiting = bundle;
    this.inFlight ??= this.drain();
    return this.inFlight;
  }

  /** Resolves once everything asked for has gone out; throws the first send failure, if any. */
  async settled(): Promise<void> {
    while (this.inFlight) await this.inFlight;
    if (this.failure !== undefined) throw this.failure;
  }

  private async drain(): Promise<void> {
    try {
      while (this.waiting) {
        const bundle = this.waiting;
        this.waiting = null;
        const update = this.shown;
        this.shown = true;
        await send(bundle, this.displayId, update);
      }
    } catch (error) {
      this.failure ??= error;
      this.waiting = null;
    } finally {
      this.inFlight = null;
    }
  }
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
  // Not awaited: messages leave in order, so it goes out before the figure that follows it.
  void send({ "text/html": plotlyLoaderHtml(source), "text/plain": `(plotly.js ${source.version} embedded for the figures of this notebook)` });
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
  const png = pngWanted() ? await figurePng(figure) : undefined;
  return figureBundle(figure, newId("advlab-figure"), png ? { png: png.toString("base64") } : {});
}

/**
 * Shows a figure (from lib/plots) as one output: Plotly JSON, HTML and text (and a PNG with
 * ADVLAB_FIGURE_PNG=1, see lib/static-png). Resolves once the output has gone out. Outside a
 * kernel, prints the text version.
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
  await send(await kernelFigureOutput(figure));
}

/** A figure output that can be redrawn in place. */
export interface LiveFigure {
  /**
   * Replaces the figure shown by this output with `figure`; resolves once it (or a newer one)
   * has gone out. Redraws asked for while one is on its way are dropped, except the newest.
   */
  update(figure: Figure): Promise<void>;
  /**
   * Draws the figure's final state (the last one given, or `figure`) as a full figure output,
   * Plotly JSON included, and resolves once it has gone out. Call it once the figure stops
   * changing: until then the output carries HTML and text only (see liveFigure).
   */
  finish(figure?: Figure): Promise<void>;
}

/**
 * Shows a figure that later calls redraw in place (update_display_data), e.g. accuracy per
 * epoch while training runs. Outside a kernel, prints each version as text.
 *
 * While it is live the output holds HTML and text but no Plotly JSON: JupyterLab's Plotly
 * renderer (jupyterlab-plotly) ignores in-place updates of Plotly JSON (plotly/plotly.py#3053),
 * so the HTML (drawn by the embedded plotly.js) shows every state. `finish()` sends the final
 * state with the Plotly JSON too, which every renderer draws afresh, and which the static PNG
 * pass of `npm run reproduce` draws from.
 *
 *   const live = await liveFigure(lineFigure([{ name: "test accuracy", x: [], y: [] }]))
 *   // ... after each epoch:
 *   await live.update(lineFigure([{ name: "test accuracy", x: epochs, y: accuracies }]))
 *   await live.finish()
 */
export async function liveFigure(figure: Figure): Promise<LiveFigure> {
  checkFigure(figure);
  const kernel = inKernel();
  const output = new InPlaceOutput(newId("advlab-live"));
  let latest = figure;
  let finished = false;
  const liveBundle = (f: Figure) => figureBundle(f, newId("advlab-figure"), { plotlyJson: false });
  if (kernel) {
    embedPlotlyOnce();
    await output.draw(liveBundle(figure));
  } else {
    console.log(figureOutput(figure)["text/plain"]);
  }
  return {
    async update(next: Figure): Promise<void> {
      checkFigure(next);
      if (finished) throw new Error("liveFigure: update() after finish(); show the new figure with show() or a new liveFigure");
      latest = next;
      if (!kernel || !inKernel()) {
        console.log(figureOutput(next)["text/plain"]);
        return;
      }
      await output.draw(liveBundle(next));
    },
    async finish(last?: Figure): Promise<void> {
      if (last !== undefined) checkFigure(last);
      if (finished) return;
      finished = true;
      if (last !== undefined) latest = last;
      if (!kernel || !inKernel()) {
        if (last !== undefined) console.log(figureOutput(last)["text/plain"]);
        return;
      }
      const bundle = await kernelFigureOutput(latest);
      await output.draw(bundle);
      await output.settled();
    },
  };
}

/** A live progress bar. */
export interface Progress {
  /** Sets the count done so far (0..total); redraws at most about 5 times a second. */
  update(done: number): void;
  /** Draws the final state (count, total time) and resolves once it has gone out. */
  finish(): Promise<void>;
}

/** Fewest milliseconds between two redraws: at most 5 a second in a notebook. */
const NOTEBOOK_INTERVAL_MS = 200;
/** Outside a notebook, a line every 5 seconds is plenty for a log. */
const TEXT_INTERVAL_MS = 5000;

/**
 * A progress bar with count, rate per second and time left, updated in place. It is live only
 * while the event loop runs: use the async library calls (sgdAsync, augmentDataAsync) or await
 * between chunks of work. A redraw asked for while the previous one is still on its way
 * replaces any that waits (see InPlaceOutput), so `update` never blocks and never throws for a
 * busy kernel; `finish` always draws the final state. Outside a kernel it writes a line to
 * stderr every few seconds.
 *
 *   const bar = progress(50000, "adversarial examples")
 *   const augmented = await augmentDataAsync(net, 50000, training, 100, { onProgress: (done) => bar.update(done) })
 *   await bar.finish()
 */
export function progress(total: number, label = ""): Progress {
  checkCount(total, "progress: total");
  const started = Date.now();
  const kernel = inKernel();
  const output = new InPlaceOutput(newId("advlab-progress"));
  let done = 0;
  let lastDraw = -Infinity;
  let finished = false;
  const state = (final: boolean) => ({ label, done, total, elapsedSeconds: (Date.now() - started) / 1000, finished: final });
  const draw = (final: boolean) => {
    lastDraw = Date.now();
    if (kernel && inKernel()) {
      // Not awaited here: a failure to send is kept and thrown by finish().
      void output.draw(progressBundle(state(final)));
    } else {
      process.stderr.write(progressSummary(state(final)).text + "\n");
    }
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
      if (kernel) await output.settled();
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
  await send(bundle);
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
  await send(bundle);
}

// Loaded inside a kernel: serialise its sends now (kernelWriter does), so that console.log in
// bursts is safe too, before any display call.
kernelWriter();
