/// <reference lib="dom" />
// (The functions passed to page.evaluate run in the browser, so this file also sees the DOM types.)
import { expect } from "chai";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { BrowserContext, chromium, Page } from "playwright-core";
import { listNotebooks } from "../scripts/run-notebooks";
import { ALL_NOTEBOOKS_TIMEOUT_MS, executedNotebooks, ExecutedNotebooks, SCREENSHOT_DIR } from "./support/notebooks";
import { NotebookServer, startNotebookServer } from "./support/notebook-server";

interface NotebookFile {
  cells: { cell_type: string; source: string | string[]; outputs?: { data?: Record<string, unknown> }[] }[];
}
const readNotebook = (path: string) => JSON.parse(readFileSync(path, "utf8")) as NotebookFile;
const sourceOf = (cell: { source: string | string[] }) => [cell.source].flat().join("");
/** Figure outputs of an executed notebook: those holding Plotly JSON. */
const figureCount = (path: string) =>
  readNotebook(path).cells.flatMap((c) => c.outputs ?? []).filter((o) => o.data?.["application/vnd.plotly.v1+json"] !== undefined).length;
/** Whether a notebook's Markdown holds TeX between dollars, e.g. $\eta = 3.0$. */
const hasTex = (path: string) => readNotebook(path).cells.some((c) => c.cell_type === "markdown" && /\$[^$\n]*\\[a-zA-Z]+[^$\n]*\$/.test(sourceOf(c)));

/**
 * Opens each notebook's HTML export in headless Chromium (Debian's /usr/bin/chromium, never a
 * downloaded browser) and checks what a reader sees: every figure drawn by plotly.js, toggles
 * that switch on click, digits dark on white, and no errors in the console.
 */
const CHROMIUM = process.env.ADVLAB_CHROMIUM ?? "/usr/bin/chromium";
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];

interface OpenedPage {
  page: Page;
  errors: string[];
  figures: number;
}

describe("notebooks in a browser", function () {
  let executed: ExecutedNotebooks;
  let context: BrowserContext;
  let profile: string;

  before(async function () {
    this.timeout(ALL_NOTEBOOKS_TIMEOUT_MS);
    executed = await executedNotebooks();
    profile = mkdtempSync(join(tmpdir(), "advlab-chromium-"));
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1280, height: 900 } });
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
  });

  after(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  /**
   * Loads an HTML export and waits until every figure holds plotly.js's SVG. The page's CDN
   * scripts (RequireJS, MathJax: neither draws figures) are answered empty, so the test runs
   * offline and proves the figures need no network.
   */
  async function open(html: string, viewport?: { width: number; height: number }): Promise<OpenedPage> {
    const page = await context.newPage();
    if (viewport) await page.setViewportSize(viewport);
    const errors: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(m.text());
    });
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.route(/^https?:/, (route) => route.fulfill({ status: 200, contentType: "text/javascript", body: "" }));
    await page.goto(pathToFileURL(html).href);
    await page.waitForFunction(
      () => {
        const figures = Array.from(document.querySelectorAll(".advlab-figure"));
        return figures.length > 0 && figures.every((d) => d.classList.contains("js-plotly-plot") && d.querySelector("svg.main-svg") !== null);
      },
      null,
      { timeout: 60000 },
    );
    const figures = await page.locator(".advlab-figure").count();
    return { page, errors, figures };
  }

  for (const source of listNotebooks()) {
    const name = source.replace(/^.*\//, "").replace(/\.ipynb$/, "");
    it(`${name}.html draws every figure with plotly.js and logs no errors`, async function () {
      this.timeout(120000);
      const run = executed.runs.find((r) => r.name === name);
      expect(run?.ok, `${name} did not execute: ${run?.error}`).to.equal(true);
      const { page, errors, figures } = await open(run!.html);
      try {
        expect(figures).to.be.greaterThan(0);
        // Every output div the notebook made became a plot (none left waiting for plotly.js).
        const failed = await page.locator(".advlab-figure:not(.js-plotly-plot)").count();
        expect(failed).to.equal(0);
        await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
        expect(errors).to.deep.equal([]);
      } finally {
        await page.close();
      }
    });

    it(`${name}.html typesets its formulas offline with the MathJax copied beside it`, async function () {
      this.timeout(120000);
      const run = executed.runs.find((r) => r.name === name);
      expect(run?.ok, `${name} did not execute: ${run?.error}`).to.equal(true);
      expect(readFileSync(run!.html, "utf8")).to.contain('<script src="mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe"');
      // open() answers every http(s) request with nothing: MathJax can only come from the file beside the page.
      const { page, errors } = await open(run!.html);
      try {
        await page.waitForFunction(() => {
          const hub = (window as unknown as { MathJax?: { Hub?: { queue?: { pending: number; running: number } } } }).MathJax?.Hub;
          return hub?.queue !== undefined && hub.queue.pending === 0 && hub.queue.running === 0;
        }, null, { timeout: 60000 });
        const math = await page.evaluate(() => ({
          typeset: document.querySelectorAll(".MathJax_CHTML").length,
          text: Array.from(document.querySelectorAll(".jp-MarkdownOutput")).map((e) => (e as HTMLElement).innerText).join("\n"),
        }));
        if (hasTex(run!.ipynb)) expect(math.typeset, `${name}: formulas typeset`).to.be.greaterThan(0);
        expect(math.text, `${name}: raw TeX left on the page`).to.not.match(/\$\$|\$[^$\n]*\\[a-zA-Z]+/);
        expect(errors).to.deep.equal([]);
      } finally {
        await page.close();
      }
    });
  }

  it("digits are drawn dark on white: the image's corner pixel is white and its ink is dark", async function () {
    this.timeout(120000);
    const run = executed.runs.find((r) => r.name === "01-predict" && r.ok);
    expect(run, "01-predict did not execute").to.not.equal(undefined);
    const { page } = await open(run!.html);
    try {
      // The first heatmap drawn with the ink colour scale: read its rendered bitmap back.
      const shades = await page.evaluate(async () => {
        type Gd = HTMLElement & { data: { type: string; colorscale?: unknown }[] };
        const gd = Array.from(document.querySelectorAll(".advlab-figure")).find((d) =>
          (d as Gd).data.some((t) => t.type === "heatmap" && JSON.stringify(t.colorscale) === JSON.stringify([[0, "#ffffff"], [1, "#000000"]])),
        );
        const image = gd?.querySelector("g.hm image");
        const href = image?.getAttribute("href") ?? image?.getAttribute("xlink:href");
        if (!href) return null;
        const img = new Image();
        img.src = href;
        await img.decode();
        const canvas = document.createElement("canvas");
        canvas.width = img.width;
        canvas.height = img.height;
        const ctx = canvas.getContext("2d")!;
        ctx.drawImage(img, 0, 0);
        const { data } = ctx.getImageData(0, 0, img.width, img.height);
        let darkest = 255;
        for (let i = 0; i < data.length; i += 4) darkest = Math.min(darkest, (data[i] + data[i + 1] + data[i + 2]) / 3);
        return { corner: (data[0] + data[1] + data[2]) / 3, darkest };
      });
      expect(shades, "no ink-coloured heatmap found").to.not.equal(null);
      expect(shades!.corner).to.be.at.least(245);
      expect(shades!.darkest).to.be.at.most(40);
      await page.locator(".advlab-figure").first().screenshot({ path: join(SCREENSHOT_DIR, "01-predict-first-figure.png") });
    } finally {
      await page.close();
    }
  });

  it("on a page narrower than a figure, the figure is scaled down as a whole: no tick labels overlap and nothing is cut off", async function () {
    this.timeout(180000);
    let scaled = 0;
    let labels = 0;
    for (const run of executed.runs.filter((r) => r.ok)) {
      const { page, errors } = await open(run.html, { width: 900, height: 900 });
      try {
        const found = await page.evaluate(() => {
          const page = document.documentElement.clientWidth;
          return Array.from(document.querySelectorAll(".advlab-figure")).map((fig, i) => {
            const box = fig.parentElement!.getBoundingClientRect();
            const overlaps: string[] = [];
            let labels = 0;
            // Each x axis's tick labels (plotly.js puts them in g.x2tick, g.x4tick, ... of .xaxislayer-above).
            fig.querySelectorAll(".xaxislayer-above").forEach((axis, a) => {
              const rects = Array.from(axis.querySelectorAll("text")).map((t) => t.getBoundingClientRect());
              labels += rects.length;
              for (let k = 0; k < rects.length; k++) {
                for (let m = k + 1; m < rects.length; m++) {
                  const p = rects[k], q = rects[m];
                  const apart = p.right <= q.left + 0.5 || q.right <= p.left + 0.5 || p.bottom <= q.top + 0.5 || q.bottom <= p.top + 0.5;
                  if (!apart) overlaps.push(`figure ${i}, x axis ${a}: labels ${k} and ${m} overlap`);
                }
              }
            });
            return { scaled: (fig as HTMLElement).style.transform.startsWith("scale("), right: box.right, page, overlaps, labels };
          });
        });
        labels += found.reduce((sum, f) => sum + f.labels, 0);
        for (const f of found) {
          expect(f.overlaps, run.name).to.deep.equal([]);
          expect(f.right, `${run.name}: figure cut off`).to.be.at.most(f.page);
          if (f.scaled) scaled++;
        }
        // The box round the scaled figure, shot as a clip of the page (element shots of it come out offset).
        const grid = page.locator(".advlab-figure-box", { has: page.locator(".xaxislayer-above") }).filter({ has: page.locator("text", { hasText: "goal 9" }) });
        if ((await grid.count()) > 0) {
          await grid.first().scrollIntoViewIfNeeded();
          const clip = await grid.first().boundingBox();
          if (clip) await page.screenshot({ path: join(SCREENSHOT_DIR, `${run.name}-900px-grid.png`), clip });
        }
        expect(errors, run.name).to.deep.equal([]);
      } finally {
        await page.close();
      }
    }
    // The five-column grids (1,090 px) are wider than this page.
    expect(scaled, "figures scaled down").to.be.greaterThan(0);
    expect(labels, "tick labels examined").to.be.greaterThan(100);
  });

  it("clicking a toggle figure's second button switches its image, and the first switches it back", async function () {
    this.timeout(180000);
    let toggles = 0;
    for (const run of executed.runs.filter((r) => r.ok)) {
      const { page, errors } = await open(run.html);
      try {
        // Toggle figures: buttons and no slider (an animation's Play / Pause are buttons too).
        const figures = page.locator(".advlab-figure", { has: page.locator(".updatemenu-button"), hasNot: page.locator(".slider-container") });
        const count = await figures.count();
        for (let i = 0; i < count; i++) {
          const figure = figures.nth(i);
          const picture = () => figure.locator("g.hm image").first().getAttribute("href");
          const title = () => figure.locator(".gtitle").first().textContent();
          const before = { picture: await picture(), title: await title() };
          const buttons = figure.locator(".updatemenu-button");
          expect(await buttons.count()).to.be.at.least(2);
          await buttons.nth(1).click();
          await page.waitForTimeout(300);
          const after = { picture: await picture(), title: await title() };
          expect(after.picture, `${run.name} toggle ${i}: image unchanged`).to.not.equal(before.picture);
          expect(after.title, `${run.name} toggle ${i}: caption unchanged`).to.not.equal(before.title);
          await figure.screenshot({ path: join(SCREENSHOT_DIR, `${run.name}-toggle-${i}-clicked.png`) });
          await buttons.nth(0).click();
          await page.waitForTimeout(300);
          expect(await picture(), `${run.name} toggle ${i}: not switched back`).to.equal(before.picture);
          toggles++;
        }
        expect(errors, run.name).to.deep.equal([]);
      } finally {
        await page.close();
      }
    }
    // The article's "click to switch" figures (original vs adversarial, adversarial vs thresholded).
    expect(toggles, "no toggle figure in any notebook").to.be.greaterThan(0);
  });

  it("an animation shows another frame when one is chosen, and Play runs back to the last frame", async function () {
    this.timeout(180000);
    let animations = 0;
    for (const run of executed.runs.filter((r) => r.ok)) {
      const { page, errors } = await open(run.html);
      try {
        const figures = page.locator(".advlab-figure", { has: page.locator(".slider-container") });
        const count = await figures.count();
        for (let i = 0; i < count; i++) {
          const figure = figures.nth(i);
          const picture = () => figure.locator("g.hm image").first().getAttribute("href");
          const last = await picture();
          // Frame "0", as the slider's first step would show it.
          // Plotly.animate rejects (without a reason) when it interrupts an animation still queued from
          // the figure's own start; what counts is the frame it then shows, checked below.
          await figure.evaluate((gd) => (window as unknown as { Plotly: { animate: (...a: unknown[]) => Promise<void> } }).Plotly.animate(
            gd, ["0"], { mode: "immediate", frame: { duration: 0, redraw: true }, transition: { duration: 0 } }).catch(() => undefined));
          await page.waitForTimeout(300);
          expect(await picture(), `${run.name} animation ${i}: frame 0 looks like the last`).to.not.equal(last);
          await figure.locator(".updatemenu-button").first().click();  // Play
          await page.waitForFunction(
            ({ id, href }) => document.getElementById(id)?.querySelector("g.hm image")?.getAttribute("href") === href,
            { id: (await figure.getAttribute("id")) ?? "", href: last }, { timeout: 30000 },
          );
          animations++;
        }
        expect(errors, run.name).to.deep.equal([]);
      } finally {
        await page.close();
      }
    }
    expect(animations, "no animation in any notebook").to.be.greaterThan(0);
  });
});

describe("HTML exports in a browser that runs no scripts (as static viewers show them)", function () {
  let executed: ExecutedNotebooks;
  let context: BrowserContext;
  let profile: string;

  before(async function () {
    this.timeout(ALL_NOTEBOOKS_TIMEOUT_MS);
    executed = await executedNotebooks();
    profile = mkdtempSync(join(tmpdir(), "advlab-chromium-nojs-"));
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS, javaScriptEnabled: false, viewport: { width: 1280, height: 900 } });
  });

  after(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it("every figure of every export shows its static image", async function () {
    this.timeout(180000);
    for (const run of executed.runs.filter((r) => r.ok)) {
      const page = await context.newPage();
      try {
        await page.route(/^https?:/, (route) => route.abort());
        await page.goto(pathToFileURL(run.html).href);
        const visible = await page.evaluate(async () => {
          const images = Array.from(document.querySelectorAll(".advlab-figure > img.advlab-figure-png")) as HTMLImageElement[];
          await Promise.all(images.map((i) => i.decode().catch(() => undefined)));
          return images.filter((i) => i.naturalWidth > 0 && i.getBoundingClientRect().width > 100 && i.getBoundingClientRect().height > 100).length;
        });
        expect(await page.locator(".js-plotly-plot").count(), `${run.name}: scripts ran`).to.equal(0);
        expect(visible, `${run.name}: figures shown`).to.equal(figureCount(run.ipynb));
      } finally {
        await page.close();
      }
    }
  });
});

describe("executed notebooks opened untrusted in Jupyter Notebook 6", function () {
  let executed: ExecutedNotebooks;
  let context: BrowserContext;
  let server: NotebookServer;
  let scratch: string;

  before(async function () {
    this.timeout(ALL_NOTEBOOKS_TIMEOUT_MS);
    executed = await executedNotebooks();
    scratch = mkdtempSync(join(tmpdir(), "advlab-untrusted-"));
    mkdirSync(join(scratch, "notebooks"));
    // Copies: the server may autosave what it opens.
    for (const run of executed.runs.filter((r) => r.ok)) copyFileSync(run.ipynb, join(scratch, "notebooks", `${run.name}.ipynb`));
    // A fresh Jupyter data folder holds no signatures: every notebook opens untrusted.
    server = await startNotebookServer(join(scratch, "notebooks"), join(scratch, "jupyter"));
    // Tall: Notebook 6 scrolls inside its own pane, so element screenshots need the figure in view.
    context = await chromium.launchPersistentContext(join(scratch, "chromium"), { executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1280, height: 2200 } });
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
  });

  after(async () => {
    await context?.close();
    await server?.stop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  for (const source of listNotebooks()) {
    const name = source.replace(/^.*\//, "").replace(/\.ipynb$/, "");
    it(`${name}: every figure is visible though the notebook is not trusted and runs no scripts`, async function () {
      this.timeout(120000);
      const run = executed.runs.find((r) => r.name === name);
      expect(run?.ok, `${name} did not execute: ${run?.error}`).to.equal(true);
      const expected = figureCount(run!.ipynb);
      expect(expected, `${name}: figures in the executed notebook`).to.be.greaterThan(0);
      const page = await context.newPage();
      try {
        await page.goto(`${server.url}notebooks/${name}.ipynb`);
        await page.waitForSelector("#notification_trusted", { timeout: 60000 });
        await page.waitForFunction((n) => document.querySelectorAll(".output_html img.advlab-figure-png").length >= n, expected, { timeout: 60000 });
        const seen = await page.evaluate(async () => {
          const images = Array.from(document.querySelectorAll(".output_html img.advlab-figure-png")) as HTMLImageElement[];
          await Promise.all(images.map((i) => i.decode().catch(() => undefined)));
          return {
            trust: document.querySelector("#notification_trusted")?.textContent?.trim(),
            visible: images.filter((i) => {
              const r = i.getBoundingClientRect();
              return i.naturalWidth > 0 && r.width > 100 && r.height > 100 && getComputedStyle(i).visibility !== "hidden";
            }).length,
            plots: document.querySelectorAll(".js-plotly-plot").length,
          };
        });
        expect(seen.trust).to.equal("Not Trusted");
        // No script ran (plotly.js did not draw), yet each figure shows: its PNG, inside its HTML.
        expect(seen.plots).to.equal(0);
        expect(seen.visible, `${name}: figures visible`).to.equal(expected);
        const shown = page.locator(".output_html:has(img.advlab-figure-png)");
        for (let i = 0; i < (await shown.count()); i++) await shown.nth(i).screenshot({ path: join(SCREENSHOT_DIR, `untrusted-${name}-${i}.png`) });
      } finally {
        await page.close();
      }
    });
  }
});
