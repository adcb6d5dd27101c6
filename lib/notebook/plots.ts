/**
 * Plotly figure specs for the notebooks: plain JSON data, no I/O and no notebook machinery, so
 * every figure can be built and checked in a test or a script. `lib/notebook.ts` sends them.
 *
 * Conventions: images are 784 numbers, row-major 28x28, drawn dark ink on white like the
 * article's matplotlib `cmap='Greys'` (0 white, 1 black), row 0 at the top, square pixels.
 * Outputs are the 10 activations of the last layer, one per digit 0..9.
 * Typed arrays are copied into plain arrays: a Float64Array would not survive JSON.stringify.
 */
import { argmax } from "../attacks/criteria";
import { checkLabel, checkVector } from "../util/validate";

/** A Plotly figure: what `Plotly.newPlot(div, data, layout, config)` takes. */
export interface Figure {
  data: Record<string, unknown>[];
  layout: Record<string, unknown>;
  config?: Record<string, unknown>;
  /** Animation frames (Plotly.addFrames), e.g. from animationFigure; absent for still figures. */
  frames?: Record<string, unknown>[];
}

const SIDE = 28;
const PIXELS = SIDE * SIDE;
const DIGITS = 10;

/** Matplotlib's Greys: 0 white, 1 black (Plotly's own "Greys" runs the other way). */
export const INK_COLORSCALE: [number, string][] = [
  [0, "#ffffff"],
  [1, "#000000"],
];
/** Bar colours: the predicted (or highlighted) digit stands out from the other nine. */
export const BAR_COLOR = "#b0b7c3";
export const HIGHLIGHT_COLOR = "#d62728";
/** The frame around every image. */
export const FRAME_COLOR = "#9aa0a6";

/** Matrices: white for 0 (or zmin) to dark blue for the largest value (Plotly's "Blues" runs the other way). */
export const VALUE_COLORSCALE: [number, string][] = [
  [0, "#f7fbff"],
  [0.25, "#c6dbef"],
  [0.5, "#6baed6"],
  [0.75, "#2171b5"],
  [1, "#08306b"],
];

const FONT = { family: "Helvetica, Arial, sans-serif", size: 12 };
const CONFIG = { displaylogo: false, responsive: true };

/** Rounds for display: four decimals are below what a colour or a hover label shows. */
function round4(v: number): number {
  return Math.round(v * 1e4) / 1e4;
}

function checkImage(x: unknown, name = "x"): asserts x is ArrayLike<number> {
  checkVector(x, PIXELS, `${name} (a 28x28 image)`);
}

function checkOutput(output: unknown, name = "output"): asserts output is ArrayLike<number> {
  checkVector(output, DIGITS, `${name} (the 10 activations)`);
}

/** 28 rows of 28: colour values clamped to [0, 1], and the true values for the hover label. */
function imageRows(x: ArrayLike<number>): { z: number[][]; truth: number[][] } {
  const z: number[][] = [];
  const truth: number[][] = [];
  for (let r = 0; r < SIDE; r++) {
    const zr: number[] = [];
    const tr: number[] = [];
    for (let c = 0; c < SIDE; c++) {
      const v = x[r * SIDE + c];
      zr.push(round4(Math.min(1, Math.max(0, v))));
      tr.push(round4(v));
    }
    z.push(zr);
    truth.push(tr);
  }
  return { z, truth };
}

/** The heatmap trace of one image on axes `xaxis`/`yaxis` ("x", "y" or "x2", "y2", ...). */
function imageTrace(x: ArrayLike<number>, axes: { x: string; y: string }, name = "image"): Record<string, unknown> {
  const { z, truth } = imageRows(x);
  return {
    type: "heatmap",
    name,
    z,
    customdata: truth,
    zmin: 0,
    zmax: 1,
    colorscale: INK_COLORSCALE,
    showscale: false,
    xaxis: axes.x,
    yaxis: axes.y,
    hovertemplate: "row %{y}, column %{x}<br>pixel %{customdata:.3f}<extra></extra>",
  };
}

function barColors(highlight: number): string[] {
  return Array.from({ length: DIGITS }, (_, d) => (d === highlight ? HIGHLIGHT_COLOR : BAR_COLOR));
}

/** The bar trace of 10 activations on the given axes, `highlight` in colour. */
function barsTrace(output: ArrayLike<number>, axes: { x: string; y: string }, highlight: number, name = "activations"): Record<string, unknown> {
  return {
    type: "bar",
    name,
    x: Array.from({ length: DIGITS }, (_, d) => d),
    y: Array.from(output, Number),
    marker: { color: barColors(highlight) },
    xaxis: axes.x,
    yaxis: axes.y,
    hovertemplate: "digit %{x}: %{y:.4f}<extra></extra>",
  };
}

/**
 * Axis settings for an image: no ticks or grid, row 0 at the top, pixels square, and a thin
 * grey frame, so that a blank image (all paper) still shows as a square rather than nothing.
 */
function imageAxes(xName: string, domain: { x: [number, number]; y: [number, number] }): { xaxis: Record<string, unknown>; yaxis: Record<string, unknown> } {
  const bare = { showticklabels: false, ticks: "", showgrid: false, zeroline: false, showline: true, linecolor: FRAME_COLOR, linewidth: 1, mirror: true };
  return {
    xaxis: { ...bare, domain: domain.x, constrain: "domain", range: [-0.5, SIDE - 0.5] },
    yaxis: { ...bare, domain: domain.y, autorange: "reversed", scaleanchor: xName, scaleratio: 1, constrain: "domain" },
  };
}

/**
 * Axis settings for the 10 bars: digits 0..9 on x, activation 0..1 on y. `digitSize` sets the
 * digits' font size (pixels) where the bars are narrow.
 */
function barAxes(domain: { x: [number, number]; y: [number, number] }, showTitles = true, digitSize?: number): { xaxis: Record<string, unknown>; yaxis: Record<string, unknown> } {
  return {
    xaxis: {
      domain: domain.x, tickmode: "array", tickvals: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], range: [-0.5, 9.5], fixedrange: true,
      ...(showTitles ? { title: { text: "digit" } } : {}),
      ...(digitSize === undefined ? {} : { tickfont: { size: digitSize } }),
    },
    yaxis: { domain: domain.y, range: [0, 1], fixedrange: true, ...(showTitles ? { title: { text: "activation" } } : {}) },
  };
}

function checkHighlight(highlight: unknown): void {
  if (highlight !== undefined) checkLabel(highlight, "highlight");
}

/** "x", "x2", "x3", ...: Plotly's names for the k-th axis (k from 1) in trace references. */
function axisRef(letter: "x" | "y", k: number): string {
  return k === 1 ? letter : `${letter}${k}`;
}

/** "xaxis", "xaxis2", ...: the same axes' keys in the layout. */
function axisKey(letter: "x" | "y", k: number): string {
  return k === 1 ? `${letter}axis` : `${letter}axis${k}`;
}

function titleOf(text: string | undefined): Record<string, unknown> | undefined {
  return text === undefined ? undefined : { text, x: 0.5, xanchor: "center" };
}

/** "predicted 8 (0.98)", plus "true 2" when the true label is known. */
export function predictionTitle(output: ArrayLike<number>, trueLabel?: number): string {
  const p = argmax(output);
  const base = `predicted ${p} (${output[p].toFixed(2)})`;
  return trueLabel === undefined ? base : `${base}, true ${trueLabel}`;
}

/**
 * One 28x28 image as a heatmap, dark ink on white (0 white, 1 black). Values outside [0, 1]
 * (an attack's start image is unclipped) are clamped for colour only; the hover label shows
 * the true value.
 *
 *   digitFigure(test.image(8384), { title: "test image 8384" })
 *   // { data: [{ type: "heatmap", z: 28 rows of 28, zmin: 0, zmax: 1, ... }], layout: {...} }
 */
export function digitFigure(x: ArrayLike<number>, options: { title?: string } = {}): Figure {
  checkImage(x);
  const axes = imageAxes("x", { x: [0, 1], y: [0, 1] });
  return {
    data: [imageTrace(x, { x: "x", y: "y" })],
    layout: {
      title: titleOf(options.title),
      ...axes,
      width: 320,
      height: options.title === undefined ? 300 : 340,
      margin: { l: 10, r: 10, t: options.title === undefined ? 10 : 50, b: 10 },
      plot_bgcolor: "#ffffff",
      font: FONT,
    },
    config: CONFIG,
  };
}

/**
 * The 10 output activations as bars over the digits 0..9, y from 0 to 1, the value on hover.
 * The predicted digit (argmax), or `highlight` when given, is drawn in colour.
 *
 *   activationsFigure(net.feedforward(x), { title: "output" })
 */
export function activationsFigure(output: ArrayLike<number>, options: { title?: string; highlight?: number } = {}): Figure {
  checkOutput(output);
  checkHighlight(options.highlight);
  const highlight = options.highlight ?? argmax(output);
  return {
    data: [barsTrace(output, { x: "x", y: "y" }, highlight)],
    layout: {
      title: titleOf(options.title),
      ...barAxes({ x: [0, 1], y: [0, 1] }),
      width: 420,
      height: 320,
      margin: { l: 60, r: 20, t: options.title === undefined ? 20 : 50, b: 50 },
      showlegend: false,
      font: FONT,
    },
    config: CONFIG,
  };
}

/** Layout and traces of an image+bars pair in the cell [left, right] x [bottom, top] of the paper. */
function pairPanel(
  item: { x: ArrayLike<number>; output: ArrayLike<number> },
  k: number,
  cell: { left: number; right: number; bottom: number; top: number },
  showTitles: boolean,
  /** Width of the whole plotting area in pixels: the gap for the bars' tick labels is in pixels. */
  plotPixels: number,
  highlight?: number,
  digitSize?: number,
): { traces: Record<string, unknown>[]; layout: Record<string, unknown> } {
  const width = cell.right - cell.left;
  // Image on the left ~40 % of the cell, then room for the bars' tick labels (0.5, 1), then bars.
  const split = cell.left + 0.4 * width;
  const gap = Math.max(0.07 * width, (showTitles ? 60 : 30) / plotPixels);
  const imageAxesK = imageAxes(axisRef("x", k), { x: [cell.left, split], y: [cell.bottom, cell.top] });
  const barAxesK = barAxes({ x: [split + gap, cell.right], y: [cell.bottom, cell.top] }, showTitles, digitSize);
  barAxesK.xaxis.anchor = axisRef("y", k + 1);
  barAxesK.yaxis.anchor = axisRef("x", k + 1);
  imageAxesK.xaxis.anchor = axisRef("y", k);
  imageAxesK.yaxis.anchor = axisRef("x", k);
  return {
    traces: [
      imageTrace(item.x, { x: axisRef("x", k), y: axisRef("y", k) }),
      barsTrace(item.output, { x: axisRef("x", k + 1), y: axisRef("y", k + 1) }, highlight ?? argmax(item.output)),
    ],
    layout: {
      [axisKey("x", k)]: imageAxesK.xaxis,
      [axisKey("y", k)]: imageAxesK.yaxis,
      [axisKey("x", k + 1)]: barAxesK.xaxis,
      [axisKey("y", k + 1)]: barAxesK.yaxis,
    },
  };
}

/**
 * An image and its 10 activations side by side; the title gives the prediction and its
 * confidence, e.g. "predicted 8 (0.98)" (", true 2" appended when `trueLabel` is given).
 * Traces: 0 the image (heatmap), 1 the bars.
 *
 *   predictionFigure(x, net.feedforward(x), { trueLabel: 2 })
 */
export function predictionFigure(x: ArrayLike<number>, output: ArrayLike<number>, options: { title?: string; trueLabel?: number } = {}): Figure {
  checkImage(x);
  checkOutput(output);
  if (options.trueLabel !== undefined) checkLabel(options.trueLabel, "trueLabel");
  const prediction = predictionTitle(output, options.trueLabel);
  const title = options.title === undefined ? prediction : `${options.title}: ${prediction}`;
  const panel = pairPanel({ x, output }, 1, { left: 0, right: 1, bottom: 0, top: 1 }, true, 680 - 40);
  return {
    data: panel.traces,
    layout: {
      title: titleOf(title),
      ...panel.layout,
      width: 680,
      height: 340,
      margin: { l: 20, r: 20, t: 60, b: 50 },
      showlegend: false,
      plot_bgcolor: "#ffffff",
      font: FONT,
    },
    config: CONFIG,
  };
}

/**
 * A grid of image+bars pairs, e.g. one per target digit 0..9, `columns` pairs per row
 * (default 2). Each pair is captioned by its `title`, or else by its prediction and confidence.
 * Traces: 2i the image of item i, 2i+1 its bars.
 *
 *   gridFigure(goals.map((n) => ({ x: xs[n], output: net.feedforward(xs[n]), title: `goal ${n}` })))
 */
export function gridFigure(
  items: { x: ArrayLike<number>; output: ArrayLike<number>; title?: string }[],
  options: { columns?: number; title?: string } = {},
): Figure {
  if (!Array.isArray(items) || items.length === 0) {
    throw new RangeError(`gridFigure: items must be a non-empty array, got ${Array.isArray(items) ? "an empty array" : typeof items}`);
  }
  const columns = options.columns ?? 2;
  if (!Number.isInteger(columns) || columns < 1) throw new RangeError(`gridFigure: columns must be a whole number >= 1, got ${columns}`);
  items.forEach((item, i) => {
    checkImage(item?.x, `items[${i}].x`);
    checkOutput(item?.output, `items[${i}].output`);
  });
  const cols = Math.min(columns, items.length);
  const rows = Math.ceil(items.length / cols);
  // Narrower pairs when there are many columns, so that 5 pairs need little scaling to fit a
  // notebook page (about 900 px); their digits 0..9 in a smaller font (10 px) to stay apart
  // (test/browser.test.ts checks that no two tick labels overlap).
  const pairWidth = cols <= 2 ? 340 : cols === 3 ? 300 : cols === 4 ? 240 : 210;
  const digitSize = cols >= 5 ? 10 : undefined;
  const rowHeight = 190;
  const top = options.title === undefined ? 30 : 70;
  const height = rows * rowHeight + top + 20;
  // Gaps, in paper fractions: room for each pair's caption above it and between columns.
  const gapY = 40 / (rows * rowHeight);
  const gapX = 0.06 / cols;
  const data: Record<string, unknown>[] = [];
  const layout: Record<string, unknown> = {};
  const annotations: Record<string, unknown>[] = [];
  items.forEach((item, i) => {
    const r = Math.floor(i / cols);
    const c = i % cols;
    const cell = {
      left: c / cols + gapX / 2,
      right: (c + 1) / cols - gapX / 2,
      top: 1 - r / rows - gapY,
      bottom: 1 - (r + 1) / rows + gapY * 0.25,
    };
    const panel = pairPanel(item, 2 * i + 1, cell, false, cols * pairWidth, undefined, digitSize);
    data.push(...panel.traces);
    Object.assign(layout, panel.layout);
    annotations.push({
      text: item.title ?? predictionTitle(item.output),
      x: (cell.left + cell.right) / 2,
      y: cell.top,
      xref: "paper",
      yref: "paper",
      xanchor: "center",
      yanchor: "bottom",
      showarrow: false,
      yshift: 6,
      font: { size: 12 },
    });
  });
  return {
    data,
    layout: {
      title: titleOf(options.title),
      ...layout,
      annotations,
      width: cols * pairWidth + 40,
      height,
      margin: { l: 20, r: 20, t: top, b: 20 },
      showlegend: false,
      plot_bgcolor: "#ffffff",
      font: FONT,
    },
    config: CONFIG,
  };
}

/** The restyle+relayout arguments that put one image and its bars into a pair figure. */
function toggleArgs(side: { x: ArrayLike<number>; output: ArrayLike<number>; label: string }, title: string | undefined): unknown[] {
  const { z, truth } = imageRows(side.x);
  const caption = `${side.label}: ${predictionTitle(side.output)}`;
  return [
    { z: [z, null], customdata: [truth, null], y: [null, Array.from(side.output, Number)], "marker.color": [null, barColors(argmax(side.output))] },
    { "title.text": title === undefined ? caption : `${title}<br><sub>${caption}</sub>` },
  ];
}

/**
 * The article's "click to switch" figure: shows `a` (image and activations); two buttons
 * (Plotly updatemenus) switch image, bars and caption between `a` and `b`, in place.
 * Traces: 0 the image, 1 the bars; the buttons restyle both.
 *
 *   toggleFigure({ x: original, output: net.feedforward(original), label: "original" },
 *                { x: adversarial, output: net.feedforward(adversarial), label: "adversarial" })
 */
export function toggleFigure(
  a: { x: ArrayLike<number>; output: ArrayLike<number>; label: string },
  b: { x: ArrayLike<number>; output: ArrayLike<number>; label: string },
  options: { title?: string } = {},
): Figure {
  for (const [name, side] of [["a", a], ["b", b]] as const) {
    checkImage(side?.x, `${name}.x`);
    checkOutput(side?.output, `${name}.output`);
    if (typeof side.label !== "string" || side.label === "") throw new TypeError(`toggleFigure: ${name}.label must be a non-empty string`);
  }
  const panel = pairPanel(a, 1, { left: 0, right: 1, bottom: 0, top: 1 }, true, 680 - 40);
  const [restyleA, relayoutA] = toggleArgs(a, options.title);
  const [restyleB, relayoutB] = toggleArgs(b, options.title);
  // Plotly "update" buttons: [trace changes, layout changes, trace indices]; entry i of each
  // array goes to trace i (null: the attribute does not apply to that trace).
  const button = (label: string, restyle: unknown, relayout: unknown) => ({ label, method: "update", args: [restyle, relayout, [0, 1]] });
  return {
    data: panel.traces,
    layout: {
      title: { ...titleOf(String((relayoutA as Record<string, unknown>)["title.text"])) },
      ...panel.layout,
      updatemenus: [
        {
          type: "buttons",
          direction: "right",
          active: 0,
          showactive: true,
          x: 0,
          xanchor: "left",
          y: -0.12,
          yanchor: "top",
          pad: { t: 4, r: 4 },
          buttons: [button(a.label, restyleA, relayoutA), button(b.label, restyleB, relayoutB)],
        },
      ],
      width: 680,
      height: 400,
      margin: { l: 20, r: 20, t: 80, b: 90 },
      showlegend: false,
      plot_bgcolor: "#ffffff",
      font: FONT,
    },
    config: CONFIG,
  };
}

function checkSeries(series: unknown, what: string): void {
  if (!Array.isArray(series) || series.length === 0) throw new RangeError(`${what}: series must be a non-empty array`);
}

function checkNumbers(values: unknown, name: string, allowMissing = false): number[] {
  if (values === null || typeof values !== "object" || typeof (values as ArrayLike<number>).length !== "number") {
    throw new TypeError(`${name} must be an array of numbers`);
  }
  const v = Array.from(values as ArrayLike<number>);
  v.forEach((value, i) => {
    const ok = typeof value === "number" && (Number.isFinite(value) || (allowMissing && Number.isNaN(value)));
    if (!ok) throw new RangeError(`${name}[${i}] must be a finite number, got ${String(value)}`);
  });
  return v;
}

function checkRange(range: unknown, name: string): [number, number] | undefined {
  if (range === undefined) return undefined;
  const r = checkNumbers(range, name);
  if (r.length !== 2 || !(r[0] < r[1])) throw new RangeError(`${name} must be [low, high] with low < high, got [${r.join(", ")}]`);
  return [r[0], r[1]];
}

/**
 * Lines with markers, one per series, e.g. test accuracy per epoch or the attack cost per step.
 *
 *   lineFigure([{ name: "test accuracy", x: [1, 2, 3], y: [0.91, 0.93, 0.94] }], { xTitle: "epoch", yRange: [0, 1] })
 */
export function lineFigure(
  series: { name: string; x: number[]; y: number[] }[],
  options: { title?: string; xTitle?: string; yTitle?: string; yRange?: [number, number] } = {},
): Figure {
  checkSeries(series, "lineFigure");
  const yRange = checkRange(options.yRange, "lineFigure: yRange");
  const data = series.map((s, i) => {
    const x = checkNumbers(s?.x, `series[${i}].x`);
    const y = checkNumbers(s?.y, `series[${i}].y`);
    if (x.length !== y.length) throw new RangeError(`series[${i}] ("${s.name}"): ${x.length} x values but ${y.length} y values`);
    return { type: "scatter", mode: x.length > 60 ? "lines" : "lines+markers", name: String(s.name), x, y, hovertemplate: "%{x}: %{y:.4f}" };
  });
  return {
    data,
    layout: {
      title: titleOf(options.title),
      xaxis: { title: { text: options.xTitle ?? "" }, zeroline: false, automargin: true },
      yaxis: { title: { text: options.yTitle ?? "" }, ...(yRange ? { range: yRange } : {}), zeroline: false, automargin: true },
      width: 680,
      height: 380,
      margin: { l: 70, r: 20, t: options.title === undefined ? 20 : 60, b: 60 },
      showlegend: series.length > 1,
      font: FONT,
    },
    config: CONFIG,
  };
}

/**
 * A matrix as coloured cells, row 0 at the top: confusion matrices (true x predicted counts),
 * success-rate matrices (source x target). NaN marks a cell with no value (drawn blank), e.g.
 * the diagonal of a source x target matrix. With `showValues` each cell shows its number.
 *
 *   heatmapFigure(confusionMatrix(truth, predicted), { xTitle: "predicted", yTitle: "true", showValues: true })
 */
export function heatmapFigure(
  z: number[][],
  options: { x?: (string | number)[]; y?: (string | number)[]; title?: string; xTitle?: string; yTitle?: string; zRange?: [number, number]; showValues?: boolean } = {},
): Figure {
  if (!Array.isArray(z) || z.length === 0) throw new RangeError("heatmapFigure: z must be a non-empty array of rows");
  const rows = z.map((row, r) => checkNumbers(row, `z[${r}]`, true));
  const cols = rows[0].length;
  if (cols === 0) throw new RangeError("heatmapFigure: z[0] is empty");
  rows.forEach((row, r) => {
    if (row.length !== cols) throw new RangeError(`heatmapFigure: z[${r}] has ${row.length} values, z[0] has ${cols}`);
  });
  const zRange = checkRange(options.zRange, "heatmapFigure: zRange");
  const xs = options.x ?? Array.from({ length: cols }, (_, i) => i);
  const ys = options.y ?? Array.from({ length: rows.length }, (_, i) => i);
  if (xs.length !== cols) throw new RangeError(`heatmapFigure: ${xs.length} x labels for ${cols} columns`);
  if (ys.length !== rows.length) throw new RangeError(`heatmapFigure: ${ys.length} y labels for ${rows.length} rows`);
  const integers = rows.every((row) => row.every((v) => Number.isNaN(v) || Number.isInteger(v)));
  // Category axes keep labels such as 0..9 in the order given, one cell per label.
  const trace: Record<string, unknown> = {
    type: "heatmap",
    z: rows.map((row) => row.map((v) => (Number.isNaN(v) ? null : v))),
    x: xs.map(String),
    y: ys.map(String),
    colorscale: VALUE_COLORSCALE,
    hoverongaps: false,
    hovertemplate: `${options.yTitle ?? "row"} %{y}, ${options.xTitle ?? "column"} %{x}: %{z${integers ? "" : ":.3f"}}<extra></extra>`,
    ...(zRange ? { zmin: zRange[0], zmax: zRange[1] } : {}),
  };
  if (options.showValues) {
    trace.texttemplate = integers ? "%{z}" : "%{z:.2f}";
    trace.textfont = { size: 11 };
  }
  const side = Math.max(300, 36 * Math.max(cols, rows.length));
  // Wide enough for the title too (about 7.5 px a character at this font size).
  const width = Math.max(side + 180, Math.round(7.5 * (options.title?.length ?? 0)) + 60);
  return {
    data: [trace],
    layout: {
      title: titleOf(options.title),
      xaxis: { title: { text: options.xTitle ?? "" }, type: "category", side: "bottom", constrain: "domain", automargin: true },
      yaxis: { title: { text: options.yTitle ?? "" }, type: "category", autorange: "reversed", scaleanchor: "x", constrain: "domain", automargin: true },
      width,
      height: side + (options.title === undefined ? 80 : 120),
      margin: { l: 80, r: 20, t: options.title === undefined ? 20 : 60, b: 60 },
      font: FONT,
    },
    config: CONFIG,
  };
}

/**
 * Grouped bars: one group per category, one bar per series, e.g. the accuracy of two
 * networks on clean and adversarial test sets. `xTitle` names what the categories are,
 * `yTitle` what the bars measure.
 *
 *   barFigure(["clean", "adversarial"], [{ name: "original", values: [0.95, 0.41] },
 *                                        { name: "retrained", values: [0.95, 0.95] }],
 *             { xTitle: "test set", yTitle: "accuracy", yRange: [0, 1] })
 */
export function barFigure(
  categories: string[],
  series: { name: string; values: number[] }[],
  options: { title?: string; xTitle?: string; yTitle?: string; yRange?: [number, number] } = {},
): Figure {
  if (!Array.isArray(categories) || categories.length === 0) throw new RangeError("barFigure: categories must be a non-empty array");
  checkSeries(series, "barFigure");
  const yRange = checkRange(options.yRange, "barFigure: yRange");
  const data = series.map((s, i) => {
    const values = checkNumbers(s?.values, `series[${i}].values`);
    if (values.length !== categories.length) {
      throw new RangeError(`series[${i}] ("${s.name}"): ${values.length} values for ${categories.length} categories`);
    }
    return { type: "bar", name: String(s.name), x: categories.map(String), y: values, hovertemplate: "%{x}: %{y:.4f}" };
  });
  // Each group wide enough for its label on one line (about 7.5 px a character), and room on
  // the right for the legend's longest name.
  const longest = (names: string[]) => Math.max(0, ...names.flatMap((n) => String(n).split(/<br\s*\/?>/i).map((line) => line.length)));
  const group = Math.max(160, Math.round(7.5 * longest(categories)) + 30);
  const legend = series.length > 1 ? Math.round(7 * longest(series.map((x) => String(x.name)))) + 60 : 0;
  return {
    data,
    layout: {
      title: titleOf(options.title),
      barmode: "group",
      xaxis: { type: "category", title: { text: options.xTitle ?? "" }, automargin: true },
      yaxis: { title: { text: options.yTitle ?? "" }, ...(yRange ? { range: yRange } : {}), automargin: true },
      width: Math.max(420, group * categories.length + 90 + legend),
      height: 380,
      margin: { l: 70, r: 20, t: options.title === undefined ? 20 : 60, b: 60 },
      showlegend: series.length > 1,
      font: FONT,
    },
    config: CONFIG,
  };
}

/**
 * An animation of one image and its 10 activations, e.g. an attack step by step: one frame per
 * state, a slider to pick any of them, and Play / Pause buttons. Frame k is named String(k)
 * and holds the image (trace 0) and bars (trace 1) of `frames[k]`, its caption in the title.
 * The figure opens on the last frame, so a viewer that runs no JavaScript (a static PNG) shows
 * where the attack ended; Play runs every frame from the first.
 *
 *   animationFigure(steps.map((k) => ({ x: xs[k], output: net.feedforward(xs[k]), label: `step ${k}` })),
 *                   { title: "Sneaky attack, 2 -> 8" })
 */
export function animationFigure(
  frames: { x: ArrayLike<number>; output: ArrayLike<number>; label: string }[],
  options: { title?: string; frameMs?: number } = {},
): Figure {
  if (!Array.isArray(frames) || frames.length === 0) throw new RangeError("animationFigure: frames must be a non-empty array");
  frames.forEach((f, i) => {
    checkImage(f?.x, `frames[${i}].x`);
    checkOutput(f?.output, `frames[${i}].output`);
    if (typeof f.label !== "string" || f.label === "") throw new TypeError(`animationFigure: frames[${i}].label must be a non-empty string`);
  });
  const frameMs = options.frameMs ?? 150;
  if (typeof frameMs !== "number" || !Number.isFinite(frameMs) || frameMs < 0) throw new RangeError(`animationFigure: frameMs must be a number >= 0, got ${String(frameMs)}`);
  const captionOf = (f: { output: ArrayLike<number>; label: string }) => {
    const caption = `${f.label}: ${predictionTitle(f.output)}`;
    return options.title === undefined ? caption : `${options.title}<br><sub>${caption}</sub>`;
  };
  const last = frames.length - 1;
  const panel = pairPanel(frames[last], 1, { left: 0, right: 1, bottom: 0, top: 1 }, true, 680 - 40);
  const plotlyFrames = frames.map((f, k) => {
    const traces = pairPanel(f, 1, { left: 0, right: 1, bottom: 0, top: 1 }, true, 680 - 40).traces;
    return { name: String(k), data: traces, traces: [0, 1], layout: { title: titleOf(captionOf(f)) } };
  });
  const goTo = (names: string[] | null, ms: number) => [names, { mode: "immediate", frame: { duration: ms, redraw: true }, transition: { duration: 0 }, fromcurrent: false }];
  return {
    data: panel.traces,
    layout: {
      title: titleOf(captionOf(frames[last])),
      ...panel.layout,
      sliders: [{
        active: last,
        x: 0.2, len: 0.8, y: -0.1, yanchor: "top", pad: { t: 30 },
        currentvalue: { visible: false },
        steps: frames.map((f, k) => ({ label: f.label, method: "animate", args: goTo([String(k)], 0) })),
      }],
      updatemenus: [{
        type: "buttons", direction: "left", showactive: false,
        x: 0, xanchor: "left", y: -0.1, yanchor: "top", pad: { t: 30, r: 10 },
        buttons: [
          { label: "Play", method: "animate", args: goTo(frames.map((_, k) => String(k)), frameMs) },
          { label: "Pause", method: "animate", args: goTo([null as unknown as string], 0) },
        ],
      }],
      width: 680,
      height: 460,
      margin: { l: 20, r: 20, t: 80, b: 120 },
      showlegend: false,
      plot_bgcolor: "#ffffff",
      font: FONT,
    },
    config: CONFIG,
    frames: plotlyFrames,
  };
}

/** Plotly's default colour cycle, so a band and its line share a colour (bandsFigure). */
export const CYCLE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

function translucent(hex: string, alpha: number): string {
  const v = parseInt(hex.slice(1), 16);
  return `rgba(${(v >> 16) & 255}, ${(v >> 8) & 255}, ${v & 255}, ${alpha})`;
}

/**
 * Lines with a shaded band each, e.g. robust accuracy against eps with its 95 % interval. Series
 * i draws three traces: 3i the band's upper edge (invisible), 3i+1 its lower edge filled up to the
 * upper one, 3i+2 the line with markers (the only one in the legend). `dash` draws the line dashed
 * (true or "dash") or dotted ("dot"); `color` (a "#rrggbb" colour) overrides the colour cycle, e.g.
 * one colour per network with one dash style per attack.
 *
 *   bandsFigure([{ name: "PGD-40", x: [0, 0.1, 0.2], y: [0.95, 0.14, 0], low: [0.93, 0.12, 0], high: [0.96, 0.17, 0.01] }],
 *               { xTitle: "eps", yTitle: "robust accuracy", yRange: [0, 1] })
 */
export function bandsFigure(
  series: { name: string; x: number[]; y: number[]; low: number[]; high: number[]; dash?: boolean | "dash" | "dot"; color?: string }[],
  options: { title?: string; xTitle?: string; yTitle?: string; yRange?: [number, number]; xRange?: [number, number] } = {},
): Figure {
  checkSeries(series, "bandsFigure");
  const yRange = checkRange(options.yRange, "bandsFigure: yRange");
  const xRange = checkRange(options.xRange, "bandsFigure: xRange");
  const data = series.flatMap((s, i) => {
    const x = checkNumbers(s?.x, `series[${i}].x`);
    const y = checkNumbers(s?.y, `series[${i}].y`);
    const low = checkNumbers(s?.low, `series[${i}].low`);
    const high = checkNumbers(s?.high, `series[${i}].high`);
    if (y.length !== x.length || low.length !== x.length || high.length !== x.length) {
      throw new RangeError(`series[${i}] ("${s.name}"): x, y, low and high must have the same length, got ${x.length}, ${y.length}, ${low.length}, ${high.length}`);
    }
    if (s.color !== undefined && !/^#[0-9a-fA-F]{6}$/.test(String(s.color))) throw new RangeError(`series[${i}].color must be "#rrggbb", got ${JSON.stringify(s.color)}`);
    const color = s.color ?? CYCLE[i % CYCLE.length];
    const dash = s.dash === true ? "dash" : s.dash || undefined;
    const name = String(s.name);
    return [
      { type: "scatter", mode: "lines", name: `${name} (upper)`, x, y: high, line: { width: 0, color }, showlegend: false, hoverinfo: "skip", legendgroup: name },
      { type: "scatter", mode: "lines", name: `${name} (interval)`, x, y: low, line: { width: 0, color }, fill: "tonexty", fillcolor: translucent(color, 0.18), showlegend: false, hoverinfo: "skip", legendgroup: name },
      {
        type: "scatter", mode: "lines+markers", name, x, y, line: { color, ...(dash ? { dash } : {}) }, legendgroup: name,
        customdata: x.map((_, k) => [low[k], high[k]]),
        hovertemplate: `${name.replace(/[{}%]/g, "")}<br>%{x}: %{y:.3f} (%{customdata[0]:.3f}-%{customdata[1]:.3f})<extra></extra>`,
      },
    ];
  });
  return {
    data,
    layout: {
      title: titleOf(options.title),
      xaxis: { title: { text: options.xTitle ?? "" }, ...(xRange ? { range: xRange } : {}), zeroline: false, automargin: true },
      yaxis: { title: { text: options.yTitle ?? "" }, ...(yRange ? { range: yRange } : {}), zeroline: false, automargin: true },
      width: 680,
      height: 400,
      margin: { l: 70, r: 20, t: options.title === undefined ? 20 : 60, b: 60 },
      showlegend: series.length > 1,
      font: FONT,
    },
    config: CONFIG,
  };
}
