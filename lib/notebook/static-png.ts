/**
 * Static PNGs of figures, for viewers that run no JavaScript (GitHub, nbviewer without
 * scripts, plain image previews): plotly.js's own `Plotly.toImage` in a headless Chromium
 * (Debian's /usr/bin/chromium or $ADVLAB_CHROMIUM, driven by playwright-core; never a downloaded
 * browser). One browser per process, started on first use and closed by closeFigurePng().
 *
 * `npm run reproduce` draws them in one pass over the executed notebooks (scripts/static-pngs.ts),
 * so kernels need no browser. Inside a kernel, figures carry a PNG only with ADVLAB_FIGURE_PNG=1.
 * Anything missing (playwright-core, Chromium) turns PNGs off with one warning; figures still
 * show through their HTML and Plotly JSON.
 */
import { existsSync } from "node:fs";
import type { Figure } from "./plots";
import { plotlySource } from "./notebook-html";

interface PngPage {
  evaluate<R, A>(fn: (arg: A) => R | Promise<R>, arg: A): Promise<R>;
}

interface PngBrowser {
  close(): Promise<void>;
}

let page: Promise<PngPage | null> | null = null;
let browser: PngBrowser | null = null;
let warned = false;
let offReason: string | undefined;

/** Whether figures shown in a kernel should also carry a PNG (ADVLAB_FIGURE_PNG=1). */
export function pngWanted(): boolean {
  return process.env.ADVLAB_FIGURE_PNG === "1";
}

function warn(reason: string): void {
  offReason ??= reason;
  if (warned) return;
  warned = true;
  process.stderr.write(`(static PNGs of figures are off: ${reason})\n`);
}

/** Why PNGs are off in this process (no Chromium, no playwright-core, ...), or undefined. */
export function pngOffReason(): string | undefined {
  return offReason;
}

async function openPage(): Promise<PngPage | null> {
  const executablePath = process.env.ADVLAB_CHROMIUM ?? "/usr/bin/chromium";
  if (!existsSync(executablePath)) {
    warn(`no Chromium at ${executablePath}`);
    return null;
  }
  let playwright: typeof import("playwright-core");
  try {
    playwright = require("playwright-core");
  } catch {
    warn("playwright-core is not installed");
    return null;
  }
  const launched = await playwright.chromium.launch({
    executablePath,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  browser = launched;
  const p = await launched.newPage();
  await p.setContent("<!doctype html><html><body></body></html>");
  await p.addScriptTag({ content: plotlySource().code });
  return p as unknown as PngPage;
}

/**
 * The figure as PNG bytes at its layout size (700 x 450 when the layout sets none; twice the
 * pixels, for sharp text), or undefined when no renderer is available. `config` is honoured
 * when given (as in a figure's Plotly JSON).
 *
 *   const png = await figurePng(digitFigure(test.image(0)))   // Buffer starting 89 50 4E 47, or undefined
 */
export async function figurePng(figure: Figure): Promise<Buffer | undefined> {
  try {
    page ??= openPage();
    const p = await page;
    if (!p) return undefined;
    const dataUrl = await p.evaluate(
      (fig: { data: unknown[]; layout: Record<string, unknown>; config: Record<string, unknown> }) => {
        const w = globalThis as unknown as { Plotly: { toImage(f: unknown, o: unknown): Promise<string> } };
        const width = typeof fig.layout.width === "number" ? fig.layout.width : 700;
        const height = typeof fig.layout.height === "number" ? fig.layout.height : 450;
        return w.Plotly.toImage(fig, { format: "png", width, height, scale: 2 });
      },
      { data: figure.data, layout: figure.layout, config: figure.config ?? {} },
    );
    return Buffer.from(dataUrl.slice(dataUrl.indexOf(",") + 1), "base64");
  } catch (error) {
    warn((error as Error).message.split("\n")[0]);
    page = Promise.resolve(null);
    await closeBrowser();
    return undefined;
  }
}

async function closeBrowser(): Promise<void> {
  const b = browser;
  browser = null;
  if (b) await b.close().catch(() => undefined);
}

/**
 * Closes the browser figurePng started, if any, so the process can exit, and forgets a failure
 * that turned PNGs off: a later figurePng tries again (without warning a second time).
 */
export async function closeFigurePng(): Promise<void> {
  const pending = page;
  page = null;
  if (pending) await pending.catch(() => null);
  await closeBrowser();
  offReason = undefined;
}
