import { expect } from "chai";
import { digitFigure, inKernel, progress, show, table } from "../dist";
import { barFigure } from "../dist";
import { figureBundle, figureHtml, figureHtmlId, plotlyLoaderHtml, progressBundle, progressSummary, scriptJson, tableBundle } from "../dist/notebook/notebook-html";

const x = Float64Array.from({ length: 784 }, (_, i) => (i % 28) / 27);

describe("notebook", () => {
  describe("display bundles", () => {
    it("a figure's bundle carries Plotly JSON, HTML that draws it, and a text line", () => {
      const fig = digitFigure(x, { title: "ramp" });
      const bundle = figureBundle(fig, "fig-1");
      expect(Object.keys(bundle).sort()).to.deep.equal(["application/vnd.plotly.v1+json", "text/html", "text/plain"]);
      expect(bundle["application/vnd.plotly.v1+json"]).to.deep.equal({ data: fig.data, layout: fig.layout, config: fig.config });
      expect(bundle["text/html"]).to.contain('id="fig-1"').and.to.contain("Plotly.newPlot");
      expect(bundle["text/plain"]).to.equal("<Figure: ramp (1 heatmap trace)>");
    });

    it("with a PNG, a figure's div starts with it as an image, which the drawing script removes; without, it is empty", () => {
      const fig = digitFigure(x, { title: "ramp" });
      const bundle = figureBundle(fig, "fig-3", { png: "iVBORw0KGgo=" });
      expect(bundle["image/png"]).to.equal("iVBORw0KGgo=");
      const html = bundle["text/html"] as string;
      expect(html).to.match(/^<div id="fig-3" class="advlab-figure" style="[^"]*"><img class="advlab-figure-png" alt="Figure: ramp \(1 heatmap trace\)" src="data:image\/png;base64,iVBORw0KGgo=" style="[^"]*"><\/div>/);
      expect(html).to.contain('div.querySelector("img.advlab-figure-png")').and.to.contain("div.removeChild(still)");
      expect(figureHtmlId(html)).to.equal("fig-3");
      expect(figureHtml(fig, "fig-4")).to.match(/^<div id="fig-4" class="advlab-figure" style="[^"]*"><\/div>/);
    });

    it("a live figure's intermediate bundle leaves the Plotly JSON out", () => {
      expect(Object.keys(figureBundle(digitFigure(x), "fig-5", { plotlyJson: false })).sort()).to.deep.equal(["text/html", "text/plain"]);
    });

    it("every image is framed, so that a blank one still shows; bar charts can name both axes", () => {
      const { xaxis, yaxis } = digitFigure(new Float64Array(784)).layout as Record<string, Record<string, unknown>>;
      for (const axis of [xaxis, yaxis]) expect([axis.showline, axis.mirror, typeof axis.linecolor]).to.deep.equal([true, true, "string"]);
      const bars = barFigure(["a", "b"], [{ name: "s", values: [0.1, 0.2] }], { xTitle: "test set", yTitle: "accuracy" }).layout as Record<string, { title: { text: string } }>;
      expect([bars.xaxis.title.text, bars.yaxis.title.text]).to.deep.equal(["test set", "accuracy"]);
    });

    it("figure HTML cannot be closed early by a title holding </script>", () => {
      const html = figureHtml(digitFigure(x, { title: "</script><b>x</b>" }), "fig-2");
      expect(html.match(/<\/script>/g)).to.have.length(1);
      expect(JSON.parse(scriptJson("</script>"))).to.equal("</script>");
    });

    it("the plotly.js loader embeds the library inline and defines window.Plotly only once", () => {
      const html = plotlyLoaderHtml({ version: "9.9.9", code: "window.Plotly = {};" });
      expect(html).to.contain("if (!window.Plotly)").and.to.contain("window.Plotly = {};").and.to.contain("9.9.9");
      expect(html).to.not.contain("src=");
    });

    it("a progress line gives count, rate per second and time left, then total time once finished", () => {
      const running = progressSummary({ label: "examples", done: 1000, total: 50000, elapsedSeconds: 10, finished: false });
      expect(running.rate).to.equal(100);
      expect(running.secondsLeft).to.equal(490);
      expect(running.text).to.equal("examples: 1,000/50,000 (2.0 %), 100/s, 8m 10s left");
      const done = progressSummary({ label: "", done: 20, total: 20, elapsedSeconds: 4, finished: true });
      expect(done.text).to.equal("20/20 (100.0 %), 5.00/s, done in 4s");
      const bundle = progressBundle({ label: "a", done: 3, total: 6, elapsedSeconds: 1, finished: false });
      expect(bundle["text/html"]).to.contain('<progress value="3" max="6"');
    });

    it("a table shows every key of every row as a column, numbers right-aligned, fractions to four digits", () => {
      const bundle = tableBundle([{ network: "original", clean: 0.9496, adversarial: 0.41 }, { network: "retrained", clean: 0.951, n: 1000 }], "accuracy");
      expect(bundle["text/plain"]).to.equal(
        ["accuracy", "network     clean  adversarial     n", "---------  ------  -----------  ----",
          "original   0.9496       0.4100      ", "retrained  0.9510               1000"].join("\n"),
      );
      expect(bundle["text/html"]).to.contain("<caption").and.to.contain("<th style=\"text-align:right");
      expect(() => tableBundle([])).to.throw(/non-empty/);
    });
  });

  describe("outside a kernel", () => {
    it("knows it is not in a kernel, and show and table print their text versions", async () => {
      expect(inKernel()).to.equal(false);
      const lines: string[] = [];
      const log = console.log;
      console.log = (s: string) => lines.push(s);
      try {
        await show(digitFigure(x, { title: "ramp" }));
        await table([{ a: 1 }]);
      } finally {
        console.log = log;
      }
      expect(lines).to.deep.equal(["<Figure: ramp (1 heatmap trace)>", "a\n-\n1"]);
    });

    it("show refuses something that is not a figure", async () => {
      let error: Error | undefined;
      await show({ data: "no" } as never).catch((e: Error) => (error = e));
      expect(error?.message).to.match(/expected a figure/);
    });

    it("a progress bar refuses a negative count", () => {
      const bar = progress(10, "t");
      expect(() => bar.update(-1)).to.throw(/done must be a finite number >= 0/);
      expect(() => progress(-5)).to.throw(/total must be a non-negative whole number/);
    });
  });
});
