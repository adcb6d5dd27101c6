/// <reference lib="dom" />
// (The functions passed to page.evaluate run in the browser, so this file also sees the DOM types.)
import { expect } from "chai";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { BrowserContext, chromium, Page } from "playwright-core";
import { listNotebooks } from "../scripts/run-notebooks";
import { ALL_NOTEBOOKS_TIMEOUT_MS, executedNotebooks, ExecutedNotebooks, SCREENSHOT_DIR } from "./support/notebooks";

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
  async function open(html: string): Promise<OpenedPage> {
    const page = await context.newPage();
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
          await figure.evaluate((gd) => (window as unknown as { Plotly: { animate: (...a: unknown[]) => Promise<void> } }).Plotly.animate(
            gd, ["0"], { mode: "immediate", frame: { duration: 0, redraw: true }, transition: { duration: 0 } }));
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
