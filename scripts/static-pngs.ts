/**
 * Static PNGs for executed notebooks, drawn in one pass after they have run (one Chromium for
 * all of them, see lib/notebook/static-png) rather than inside every kernel. Each display_data or
 * execute_result output that holds Plotly JSON (`application/vnd.plotly.v1+json`) and no
 * `image/png` gains one, drawn from that JSON; the .ipynb is rewritten atomically. Outputs
 * updated in place while the notebook ran (live figures) hold their final state, which is what
 * gets drawn. Other outputs are left as they are. The figure's own HTML (lib/notebook's, found
 * by its figure div) is rewritten to hold the PNG as an <img> that plotly.js replaces when
 * scripts run: front ends that rank HTML above PNG but run no scripts (an untrusted notebook
 * in Jupyter, nbviewer-style viewers) show the image. Run it before the HTML export.
 *
 *   const pass = await addStaticPngs(["build/notebooks/01-predict.ipynb"])
 *   // { notebooks: 1, figures: 3, seconds: 2.4, errors: [] }
 *
 *   npx tsx scripts/static-pngs.ts build/notebooks     # every .ipynb of a folder (after npm run build)
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { closeFigurePng, figurePng, pngOffReason } from "../dist/notebook/static-png";
import { readJsonFile, writeFileAtomic } from "../dist/util/files";
import type { Figure } from "../dist";
import { figureHtml, figureHtmlId } from "../dist/notebook/notebook-html";

const PLOTLY_MIME = "application/vnd.plotly.v1+json";
const PNG_MIME = "image/png";
const HTML_MIME = "text/html";

/** What one pass did. */
export interface PngPass {
  /** Notebooks that gained at least one PNG. */
  notebooks: number;
  /** Figures drawn (outputs that gained a PNG). */
  figures: number;
  /** Wall time of the pass (browser start included), in seconds. */
  seconds: number;
  /** Why no PNGs were drawn (no Chromium, no playwright-core), when that happened. */
  off?: string;
  /** Notebooks or outputs that could not be read or drawn, each naming the file. */
  errors: string[];
}

interface Output {
  output_type?: string;
  data?: Record<string, unknown>;
}

interface Notebook {
  cells?: { cell_type?: string; outputs?: Output[] }[];
}

/** The executed notebooks of a folder (*.ipynb, not hidden), in name order. */
export function notebooksIn(dir: string): string[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`static PNGs: ${dir} is not a folder`);
  return readdirSync(dir)
    .filter((f) => f.endsWith(".ipynb") && !f.startsWith("."))
    .sort()
    .map((f) => join(dir, f));
}

/** The outputs that should gain a PNG: rich outputs with Plotly JSON and no PNG yet. */
export function outputsWanting(nb: Notebook): Output[] {
  const cells = nb !== null && typeof nb === "object" && Array.isArray(nb.cells) ? nb.cells : [];
  const outputs = cells.flatMap((c) => (c?.cell_type === "code" && Array.isArray(c.outputs) ? c.outputs : []));
  return outputs.filter(
    (o) => (o.output_type === "display_data" || o.output_type === "execute_result") && o.data?.[PLOTLY_MIME] !== undefined && o.data[PNG_MIME] === undefined,
  );
}

/** The figure held by an output's Plotly JSON; throws, saying what is wrong, when it is not one. */
function plotlyFigure(output: Output): Figure {
  const json = output.data![PLOTLY_MIME] as Partial<Figure> | null;
  if (json === null || typeof json !== "object" || !Array.isArray(json.data) || json.layout === null || typeof json.layout !== "object") {
    throw new Error(`${PLOTLY_MIME} is not a figure { data: [...], layout: {...} }`);
  }
  const config = json.config !== null && typeof json.config === "object" ? json.config : {};
  // Animation frames too: the HTML made again around the PNG must still animate.
  return { data: json.data, layout: json.layout, config, ...(Array.isArray(json.frames) ? { frames: json.frames } : {}) };
}

/**
 * The bundle with the PNG added, keys in sorted order as nbformat writes them. HTML made by
 * lib/notebook (with a figure div) is made again, the same figure and id, with the image inside.
 */
function withPng(data: Record<string, unknown>, figure: Figure, base64: string): Record<string, unknown> {
  const all: Record<string, unknown> = { ...data, [PNG_MIME]: base64 };
  const html = data[HTML_MIME];
  const id = figureHtmlId(Array.isArray(html) ? html.join("") : String(html ?? ""));
  if (id !== undefined) all[HTML_MIME] = figureHtml(figure, id, { png: base64 });
  return Object.fromEntries(Object.keys(all).sort().map((k) => [k, all[k]]));
}

/**
 * Adds a PNG to every Plotly output of the given .ipynb files that has none, with one browser
 * for all of them (closed at the end). Never throws for a notebook: a file that cannot be read
 * or a figure that cannot be drawn goes to `errors`, naming it. Without a renderer (no
 * Chromium, no playwright-core) nothing is written and `off` says why.
 */
export async function addStaticPngs(files: string[]): Promise<PngPass> {
  const started = process.hrtime.bigint();
  const pass: PngPass = { notebooks: 0, figures: 0, seconds: 0, errors: [] };
  try {
    for (const file of files) {
      let nb: Notebook;
      try {
        nb = readJsonFile(file) as Notebook;
      } catch (error) {
        pass.errors.push((error as Error).message);
        continue;
      }
      if (nb === null || typeof nb !== "object" || !Array.isArray(nb.cells)) {
        pass.errors.push(`${file}: not a notebook (no "cells" list)`);
        continue;
      }
      const wanting = outputsWanting(nb);
      let drawn = 0;
      for (const [i, output] of wanting.entries()) {
        let figure: Figure;
        try {
          figure = plotlyFigure(output);
        } catch (error) {
          pass.errors.push(`${file}: figure output ${i + 1} of ${wanting.length}: ${(error as Error).message}`);
          continue;
        }
        const png = await figurePng(figure);
        if (!png) break;
        output.data = withPng(output.data!, figure, png.toString("base64"));
        drawn++;
      }
      if (drawn > 0) {
        try {
          writeFileAtomic(file, JSON.stringify(nb, null, 1) + "\n");
          pass.notebooks++;
          pass.figures += drawn;
        } catch (error) {
          pass.errors.push((error as Error).message);
        }
      }
      pass.off = pngOffReason();
      if (pass.off) break;
    }
  } finally {
    await closeFigurePng();
  }
  pass.seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return pass;
}

/** One line for logs and the report: "25 figures in 6 notebooks, 5.9 s". */
export function describePass(pass: PngPass): string {
  if (pass.off && pass.figures === 0) return `off (${pass.off})`;
  const s = pass.figures === 1 ? "" : "s";
  const n = pass.notebooks === 1 ? "" : "s";
  const errors = pass.errors.length > 0 ? `; ${pass.errors.length} error(s): ${pass.errors.join("; ")}` : "";
  const off = pass.off ? `; then off (${pass.off})` : "";
  return `${pass.figures} figure${s} in ${pass.notebooks} notebook${n}, ${pass.seconds.toFixed(1)} s${off}${errors}`;
}

if (require.main === module) {
  const dirs = process.argv.slice(2);
  if (dirs.length === 0) {
    console.error("usage: npx tsx scripts/static-pngs.ts FOLDER_OR_IPYNB ...");
    process.exit(2);
  }
  const files = dirs.flatMap((d) => (d.endsWith(".ipynb") ? [resolve(d)] : notebooksIn(resolve(d))));
  addStaticPngs(files).then(
    (pass) => {
      console.log(`static PNGs: ${describePass(pass)}`);
      process.exit(pass.errors.length > 0 ? 1 : 0);
    },
    (error: Error) => {
      console.error(error.message);
      process.exit(1);
    },
  );
}
