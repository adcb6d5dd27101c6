/**
 * The display bundles `lib/notebook.ts` sends, built as plain data (no kernel needed, so tests
 * can read them). A bundle maps MIME types to content, one representation per front end:
 * - application/vnd.plotly.v1+json: JupyterLab with the plotly extension, VS Code;
 * - text/html: JupyterLab without the extension, nbconvert HTML (drawn by the embedded plotly.js);
 * - text/plain: terminals and anything else.
 */
import { readFileSync } from "node:fs";
import type { Figure } from "./plots";
import type { CheckOutcome, EvaluationChecks } from "../eval/checks";

export type Bundle = Record<string, unknown>;

/** JSON that is safe inside an inline <script>: no "</script>", no line separators. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** The plotly.js build the HTML outputs embed (plotly.js-dist-min) and its version. */
export function plotlySource(): { version: string; code: string } {
  const main = require.resolve("plotly.js-dist-min");
  const code = readFileSync(main, "utf8");
  const version = /plotly\.js v([0-9][^\s*]*)/.exec(code.slice(0, 200))?.[1] ?? "unknown";
  return { version, code };
}

/**
 * An HTML output that defines window.Plotly (plotly.js, inline, so the page works offline).
 * `module` and `define` are shadowed so that the bundle always sets the global, even in a
 * page that has RequireJS or a CommonJS shim.
 */
export function plotlyLoaderHtml(source = plotlySource()): string {
  // The code holds no "</script" (checked) but escape it anyway: it would end the element.
  const code = source.code.replace(/<\/script/gi, "<\\/script");
  return (
    `<script type="text/javascript">/* plotly.js ${source.version}, embedded once per notebook for offline figures */\n` +
    `if (!window.Plotly) { (function (module, define, exports) {\n${code}\n}).call(window, undefined, undefined, undefined); }\n` +
    `</script>`
  );
}

/** A one-line description of a figure for text-only front ends. */
export function figureText(figure: Figure): string {
  const title = (figure.layout?.title as { text?: string } | undefined)?.text;
  const kinds = [...new Set(figure.data.map((t) => String(t.type ?? "scatter")))].join(", ");
  return `<Figure${title ? `: ${title.replace(/<[^>]+>/g, " ").replace(/\s+/g, " ").trim()}` : ""} (${figure.data.length} ${kinds} trace${figure.data.length === 1 ? "" : "s"})>`;
}

/** Options of figureHtml and figureBundle. */
export interface FigureHtmlOptions {
  /**
   * A static PNG of the figure (base64, as `image/png` outputs hold it), shown as an <img>
   * inside the figure's div until plotly.js draws over it: what a page that runs no scripts
   * shows (an untrusted notebook, nbviewer-style viewers).
   */
  png?: string;
}

/** The id of the figure div in HTML made by figureHtml, or undefined when there is none. */
export function figureHtmlId(html: string): string | undefined {
  const match = /<div id="([^"]+)" class="advlab-figure"/.exec(html);
  return match ? match[1].replace(/&quot;/g, '"').replace(/&gt;/g, ">").replace(/&lt;/g, "<").replace(/&amp;/g, "&") : undefined;
}

/**
 * The HTML of one figure: a div and a script that draws into it once plotly.js is there.
 * Front ends insert output HTML before or after running its scripts, and the embedded plotly.js
 * may still be loading, so the script retries for a while, then says what is wrong. With
 * `options.png` the div first holds the static image, which the script removes as it draws;
 * a front end that runs no scripts shows the image.
 */
export function figureHtml(figure: Figure, id: string, options: FigureHtmlOptions = {}): string {
  const width = typeof figure.layout.width === "number" ? `${figure.layout.width}px` : "100%";
  const height = typeof figure.layout.height === "number" ? `${figure.layout.height}px` : "450px";
  const alt = escapeHtml(figureText(figure).replace(/^<|>$/g, ""));
  // With an image inside, the div takes the image's height until the script sizes it.
  const body = options.png === undefined ? "" : `<img class="advlab-figure-png" alt="${alt}" src="data:image/png;base64,${options.png}" style="width:${width};max-width:100%;height:auto">`;
  const style = options.png === undefined ? `width:${width};height:${height};max-width:100%` : `width:${width};max-width:100%`;
  return (
    `<div id="${escapeHtml(id)}" class="advlab-figure" style="${style}">${body}</div>\n` +
    `<script type="text/javascript">\n` +
    `(function () {\n` +
    `  var fig = ${scriptJson({ data: figure.data, layout: figure.layout, config: figure.config ?? {}, ...(figure.frames ? { frames: figure.frames } : {}) })};\n` +
    `  var id = ${scriptJson(id)}, started = Date.now();\n` +
    `  // The width this figure may take: from its left edge to the right edge of the nearest\n` +
    `  // container that does not grow with its content (table cells and inline boxes do).\n` +
    `  function room(el) {\n` +
    `    var left = el.getBoundingClientRect().left;\n` +
    `    for (var a = el.parentElement; a; a = a.parentElement) {\n` +
    `      var cs = window.getComputedStyle(a);\n` +
    `      if (/^(inline|table|contents)/.test(cs.display) || cs.display === "table-cell") continue;\n` +
    `      var r = a.getBoundingClientRect();\n` +
    `      return r.left + a.clientLeft + a.clientWidth - parseFloat(cs.paddingRight || "0") - left;\n` +
    `    }\n` +
    `    return 0;\n` +
    `  }\n` +
    `  function draw() {\n` +
    `    var div = document.getElementById(id);\n` +
    `    if (div && window.Plotly) {\n` +
    `      // The static image (if any) makes way for the interactive figure.\n` +
    `      var still = div.querySelector("img.advlab-figure-png");\n` +
    `      if (still) div.removeChild(still);\n` +
    `      var box = document.createElement("div");\n` +
    `      box.className = "advlab-figure-box";\n` +
    `      div.parentNode.insertBefore(box, div);\n` +
    `      box.appendChild(div);\n` +
    `      div.style.width = ${scriptJson(width)};\n` +
    `      div.style.height = ${scriptJson(height)};\n` +
    `      div.style.maxWidth = "none";\n` +
    `      // Too wide for the page: draw it at its own size and show it scaled down, as an image\n` +
    `      // would be, so that labels keep their room (redrawing narrower would crowd them).\n` +
    `      var w = fig.layout.width, h = fig.layout.height, space = room(box);\n` +
    `      if (typeof w === "number" && typeof h === "number" && space > 100 && space < w) {\n` +
    `        var s = space / w;\n` +
    `        box.style.width = Math.floor(w * s) + "px";\n` +
    `        box.style.height = Math.ceil(h * s) + "px";\n` +
    `        box.style.overflow = "hidden";\n` +
    `        div.style.transformOrigin = "0 0";\n` +
    `        div.style.transform = "scale(" + s + ")";\n` +
    `      }\n` +
    `      window.Plotly.newPlot(div, fig);\n` +
    `      return;\n` +
    `    }\n` +
    `    if (Date.now() - started > 30000) {\n` +
    `      if (div && !div.querySelector("img.advlab-figure-png")) div.textContent = "This figure needs plotly.js, which the notebook embeds with its first figure: run the notebook from the top.";\n` +
    `      return;\n` +
    `    }\n` +
    `    setTimeout(draw, 50);\n` +
    `  }\n` +
    `  draw();\n` +
    `})();\n` +
    `</script>`
  );
}

/**
 * The full bundle of one figure: Plotly JSON (unless `plotlyJson: false`, as for a live
 * figure's intermediate states), HTML, text, and with `png` the static image both in the HTML
 * and as `image/png`.
 */
export function figureBundle(figure: Figure, id: string, options: FigureHtmlOptions & { plotlyJson?: boolean } = {}): Bundle {
  return {
    ...(options.plotlyJson === false ? {} : { "application/vnd.plotly.v1+json": { data: figure.data, layout: figure.layout, config: figure.config ?? {}, ...(figure.frames ? { frames: figure.frames } : {}) } }),
    "text/html": figureHtml(figure, id, options),
    "text/plain": figureText(figure),
    ...(options.png === undefined ? {} : { "image/png": options.png }),
  };
}

/** "2m 37s", "41s", "1h 02m". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** What a progress bar shows: count, rate per second and time left (or total time once finished). */
export interface ProgressState {
  label: string;
  done: number;
  total: number;
  elapsedSeconds: number;
  finished: boolean;
}

/** The rate, time left and one-line summary of a progress state. */
export function progressSummary(state: ProgressState): { rate: number; secondsLeft: number; text: string } {
  const { label, done, total, elapsedSeconds, finished } = state;
  const rate = elapsedSeconds > 0 ? done / elapsedSeconds : 0;
  const secondsLeft = rate > 0 ? (total - done) / rate : Number.NaN;
  const percent = total > 0 ? (100 * done) / total : 100;
  const count = `${done.toLocaleString("en-US")}/${total.toLocaleString("en-US")} (${percent.toFixed(1)} %)`;
  const pace = `${rate >= 100 ? Math.round(rate).toLocaleString("en-US") : rate.toPrecision(3)}/s`;
  const tail = finished ? `done in ${formatDuration(elapsedSeconds)}` : Number.isFinite(secondsLeft) ? `${formatDuration(secondsLeft)} left` : "starting";
  return { rate, secondsLeft, text: `${label ? `${label}: ` : ""}${count}, ${pace}, ${tail}` };
}

/** The bundle of a progress bar: an HTML <progress> with its summary, and the summary as text. */
export function progressBundle(state: ProgressState): Bundle {
  const { text } = progressSummary(state);
  const html =
    `<div class="advlab-progress" style="font-family:monospace;font-size:12px;display:flex;align-items:center;gap:8px">` +
    `<progress value="${state.done}" max="${Math.max(state.total, 1)}" style="width:260px"></progress>` +
    `<span>${escapeHtml(text)}</span></div>`;
  return { "text/html": html, "text/plain": text };
}

function formatCell(value: string | number): string {
  if (typeof value === "string") return value;
  if (Number.isInteger(value)) return String(value);
  if (!Number.isFinite(value)) return String(value);
  // Four significant digits: enough to compare rates such as 0.5600 and 0.5590.
  return Math.abs(value) >= 1e-3 && Math.abs(value) < 1e6 ? value.toFixed(Math.max(0, 3 - Math.floor(Math.log10(Math.abs(value))))) : value.toPrecision(4);
}

/** The bundle of a table of rows (the keys of all rows, in order of appearance, are the columns). */
export function tableBundle(rows: Record<string, string | number>[], title?: string): Bundle {
  if (!Array.isArray(rows) || rows.length === 0) throw new RangeError("table: rows must be a non-empty array of objects");
  const columns: string[] = [];
  rows.forEach((row, i) => {
    if (row === null || typeof row !== "object") throw new TypeError(`table: rows[${i}] must be an object`);
    for (const key of Object.keys(row)) if (!columns.includes(key)) columns.push(key);
  });
  const cells = rows.map((row) => columns.map((c) => (row[c] === undefined ? "" : formatCell(row[c]))));
  const numeric = columns.map((c) => rows.every((row) => row[c] === undefined || typeof row[c] === "number"));
  const widths = columns.map((c, j) => Math.max(c.length, ...cells.map((r) => r[j].length)));
  const pad = (s: string, j: number) => (numeric[j] ? s.padStart(widths[j]) : s.padEnd(widths[j]));
  const lines = [columns.map(pad).join("  "), widths.map((w) => "-".repeat(w)).join("  "), ...cells.map((r) => r.map(pad).join("  "))];
  const align = (j: number) => (numeric[j] ? "right" : "left");
  const html =
    `<table class="advlab-table" style="border-collapse:collapse;font-size:13px">` +
    (title ? `<caption style="text-align:left;font-weight:bold;padding:4px 0">${escapeHtml(title)}</caption>` : "") +
    `<thead><tr>${columns.map((c, j) => `<th style="text-align:${align(j)};padding:2px 10px;border-bottom:1px solid #999">${escapeHtml(c)}</th>`).join("")}</tr></thead>` +
    `<tbody>${cells.map((r) => `<tr>${r.map((v, j) => `<td style="text-align:${align(j)};padding:2px 10px">${escapeHtml(v)}</td>`).join("")}</tr>`).join("")}</tbody></table>`;
  return { "text/html": html, "text/plain": (title ? `${title}\n` : "") + lines.join("\n") };
}

/**
 * The evaluation checks (lib/eval/checks) as one output: a red warning block per check that
 * fired, with its sentence, then a table of all four (status, numbers, sentence). Text front ends
 * get the same as lines starting "FLAG" or "ok".
 */
export function checksBundle(checks: EvaluationChecks, title = "Evaluation checks (Carlini et al. 2019)"): Bundle {
  const status = (o: CheckOutcome) => (o.fired ? "FLAG" : o.checked ? "ok" : "not checked");
  const numbers = (o: CheckOutcome) => Object.entries(o.numbers).map(([k, v]) => `${k} ${Number.isInteger(v) ? v : v.toFixed(4)}`).join(", ");
  const rows = checks.outcomes.map((o) => ({ check: o.check, status: status(o), numbers: numbers(o), finding: o.message }));
  const table = tableBundle(rows, title);
  const warnings = checks.flags.map((o) =>
    `<div class="advlab-flag" style="border-left:4px solid #d62728;background:#fdecea;padding:6px 10px;margin:4px 0;font-size:13px">` +
    `<b>&#9888; ${escapeHtml(o.check)}</b>: ${escapeHtml(o.message)}</div>`).join("");
  const summary = checks.ok
    ? `<div style="color:#2ca02c;font-size:13px;margin:4px 0">No check fired.</div>`
    : "";
  const text = checks.outcomes.map((o) => `${status(o).padEnd(11)} ${o.check}: ${o.message}`).join("\n");
  return { "text/html": warnings + summary + String(table["text/html"]), "text/plain": `${title}\n${text}` };
}
