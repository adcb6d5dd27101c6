import { expect } from "chai";
import {
  activationsFigure, animationFigure, bandsFigure, barFigure, digitFigure, gridFigure, heatmapFigure, INK_COLORSCALE, lineFigure, predictionFigure, toggleFigure,
} from "../dist";

/** A 28x28 image whose pixel (r, c) is (r * 28 + c) / 783: 0 at the top left, 1 at the bottom right. */
function ramp(): Float64Array {
  return Float64Array.from({ length: 784 }, (_, i) => i / 783);
}

const output = Float64Array.of(0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.98, 0.1);

type Trace = Record<string, unknown>;

describe("plots", () => {
  describe("digitFigure", () => {
    it("draws 28 rows of 28 pixels with row 0 (the image's top) first and at the top", () => {
      const fig = digitFigure(ramp());
      const trace = fig.data[0] as Trace & { z: number[][] };
      expect(trace.type).to.equal("heatmap");
      expect(trace.z).to.have.length(28);
      trace.z.forEach((row) => expect(row).to.have.length(28));
      expect(trace.z[0][0]).to.equal(0);
      expect(trace.z[0][1]).to.be.closeTo(1 / 783, 1e-4);
      expect(trace.z[1][0]).to.be.closeTo(28 / 783, 1e-4);
      expect((fig.layout.yaxis as Trace).autorange).to.equal("reversed");
    });

    it("maps 0 to white and 1 to black (dark ink on white, like matplotlib's Greys)", () => {
      const trace = digitFigure(ramp()).data[0];
      expect(trace.zmin).to.equal(0);
      expect(trace.zmax).to.equal(1);
      expect(trace.colorscale).to.deep.equal(INK_COLORSCALE);
      expect(INK_COLORSCALE[0]).to.deep.equal([0, "#ffffff"]);
      expect(INK_COLORSCALE[INK_COLORSCALE.length - 1]).to.deep.equal([1, "#000000"]);
    });

    it("keeps pixels square and hides ticks", () => {
      const { xaxis, yaxis } = digitFigure(ramp()).layout as { xaxis: Trace; yaxis: Trace };
      expect(yaxis.scaleanchor).to.equal("x");
      expect(yaxis.scaleratio).to.equal(1);
      expect(xaxis.showticklabels).to.equal(false);
      expect(yaxis.showticklabels).to.equal(false);
    });

    it("clamps values outside [0, 1] for colour but shows the true value on hover", () => {
      const x = new Float64Array(784).fill(0.5);
      x[0] = -0.4;
      x[29] = 1.7;
      const trace = digitFigure(x).data[0] as Trace & { z: number[][]; customdata: number[][] };
      expect(trace.z[0][0]).to.equal(0);
      expect(trace.z[1][1]).to.equal(1);
      expect(trace.customdata[0][0]).to.equal(-0.4);
      expect(trace.customdata[1][1]).to.equal(1.7);
      expect(String(trace.hovertemplate)).to.contain("customdata");
    });

    it("is plain JSON: typed-array input comes out as arrays that survive JSON.stringify", () => {
      const fig = digitFigure(Float32Array.from(ramp()), { title: "ramp" });
      const back = JSON.parse(JSON.stringify(fig));
      expect(back).to.deep.equal(fig);
      expect((fig.layout.title as Trace).text).to.equal("ramp");
    });

    it("refuses 783 pixels, NaN pixels and non-arrays, naming the problem", () => {
      expect(() => digitFigure(new Float64Array(783))).to.throw(/784 numbers, got 783/);
      const x = new Float64Array(784);
      x[100] = NaN;
      expect(() => digitFigure(x)).to.throw(/x \(a 28x28 image\)\[100\] must be a finite number, got NaN/);
      expect(() => digitFigure(undefined as unknown as number[])).to.throw(/must be an array of 784 numbers/);
    });
  });

  describe("activationsFigure", () => {
    it("draws 10 bars for digits 0..9 on a y axis from 0 to 1", () => {
      const fig = activationsFigure(output);
      const bars = fig.data[0] as Trace & { x: number[]; y: number[] };
      expect(bars.type).to.equal("bar");
      expect(bars.x).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(bars.y).to.deep.equal(Array.from(output));
      expect((fig.layout.yaxis as Trace).range).to.deep.equal([0, 1]);
      expect(String(bars.hovertemplate)).to.contain("%{y");
    });

    it("colours the predicted digit apart from the other nine, or the one asked for", () => {
      const colors = (activationsFigure(output).data[0].marker as { color: string[] }).color;
      expect(new Set(colors.filter((_, d) => d !== 8)).size).to.equal(1);
      expect(colors[8]).to.not.equal(colors[0]);
      const chosen = (activationsFigure(output, { highlight: 3 }).data[0].marker as { color: string[] }).color;
      expect(chosen[3]).to.equal(colors[8]);
      expect(chosen[8]).to.equal(colors[0]);
    });

    it("refuses 9 activations and a highlight outside 0..9", () => {
      expect(() => activationsFigure(output.slice(0, 9))).to.throw(/10 numbers, got 9/);
      expect(() => activationsFigure(output, { highlight: 10 })).to.throw(/highlight must be a whole number from 0 to 9/);
    });
  });

  describe("predictionFigure", () => {
    it("puts the image and the bars side by side, titled with prediction and confidence", () => {
      const fig = predictionFigure(ramp(), output);
      expect(fig.data.map((t) => t.type)).to.deep.equal(["heatmap", "bar"]);
      const layout = fig.layout as Record<string, Trace>;
      const imageRight = (layout.xaxis.domain as number[])[1];
      const barsLeft = (layout.xaxis2.domain as number[])[0];
      expect(imageRight).to.be.lessThan(barsLeft);
      expect(fig.data[1].xaxis).to.equal("x2");
      expect(layout.title.text).to.equal("predicted 8 (0.98)");
    });

    it("adds the true label and a caption when given", () => {
      const fig = predictionFigure(ramp(), output, { title: "test image 8384", trueLabel: 2 });
      expect((fig.layout.title as Trace).text).to.equal("test image 8384: predicted 8 (0.98), true 2");
    });

    it("refuses a true label of 12", () => {
      expect(() => predictionFigure(ramp(), output, { trueLabel: 12 })).to.throw(/trueLabel must be a whole number from 0 to 9/);
    });
  });

  describe("gridFigure", () => {
    const items = Array.from({ length: 10 }, (_, n) => ({ x: ramp(), output, title: `goal ${n}` }));

    it("lays out one image and one bar chart per item, on their own axes", () => {
      const fig = gridFigure(items, { columns: 5 });
      expect(fig.data).to.have.length(20);
      const axes = new Set(fig.data.map((t) => `${t.xaxis}/${t.yaxis}`));
      expect(axes.size).to.equal(20);
      expect(fig.data.filter((t) => t.type === "heatmap")).to.have.length(10);
      const captions = (fig.layout.annotations as Trace[]).map((a) => a.text);
      expect(captions).to.deep.equal(items.map((i) => i.title));
    });

    it("puts `columns` pairs side by side and the next ones on a lower row", () => {
      const fig = gridFigure(items.slice(0, 3), { columns: 2 });
      const layout = fig.layout as Record<string, Trace>;
      const y0 = layout.yaxis.domain as number[];
      const y1 = layout.yaxis3.domain as number[];
      const y2 = layout.yaxis5.domain as number[];
      expect(y1).to.deep.equal(y0);
      expect(y2[1]).to.be.lessThan(y0[0]);
    });

    it("captions an item without a title by its prediction", () => {
      const fig = gridFigure([{ x: ramp(), output }]);
      expect((fig.layout.annotations as Trace[])[0].text).to.equal("predicted 8 (0.98)");
    });

    it("refuses no items, 0 columns, and names the bad item", () => {
      expect(() => gridFigure([])).to.throw(/non-empty/);
      expect(() => gridFigure(items, { columns: 0 })).to.throw(/columns must be a whole number >= 1/);
      const bad = [...items.slice(0, 2), { x: new Float64Array(783), output }];
      expect(() => gridFigure(bad)).to.throw(/items\[2\]\.x/);
    });
  });

  describe("toggleFigure", () => {
    const a = { x: ramp(), output, label: "original" };
    const adversarialX = ramp().reverse();
    const adversarialOut = Float64Array.of(0.9, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.1, 0.1);
    const b = { x: adversarialX, output: adversarialOut, label: "adversarial" };

    it("shows a first, with two buttons labelled a and b", () => {
      const fig = toggleFigure(a, b);
      expect((fig.data[0] as { z: number[][] }).z[0][0]).to.equal(0);
      const menu = (fig.layout.updatemenus as Trace[])[0] as { type: string; buttons: { label: string; method: string }[] };
      expect(menu.type).to.equal("buttons");
      expect(menu.buttons.map((btn) => btn.label)).to.deep.equal(["original", "adversarial"]);
    });

    it("b's button swaps in b's image, bars and highlight; a's button brings a back", () => {
      const fig = toggleFigure(a, b);
      const [btnA, btnB] = (fig.layout.updatemenus as { buttons: { method: string; args: [Trace, Trace, number[]] }[] }[])[0].buttons;
      expect(btnB.method).to.equal("update");
      const [restyleB, relayoutB, traces] = btnB.args;
      expect(traces).to.deep.equal([0, 1]);
      const zB = (restyleB.z as number[][][])[0];
      expect(zB[0][0]).to.equal(1); // the reversed ramp starts at 1
      expect((restyleB.y as (number[] | null)[])[1]).to.deep.equal(Array.from(adversarialOut));
      const colorsB = (restyleB["marker.color"] as string[][])[1];
      expect(colorsB[0]).to.not.equal(colorsB[8]);
      expect(String(relayoutB["title.text"])).to.contain("adversarial: predicted 0 (0.90)");
      const zA = (btnA.args[0].z as number[][][])[0];
      expect(zA).to.deep.equal((fig.data[0] as { z: number[][] }).z);
    });

    it("refuses a side without a label or with a 10x10 image", () => {
      expect(() => toggleFigure(a, { ...b, label: "" })).to.throw(/b\.label must be a non-empty string/);
      expect(() => toggleFigure({ ...a, x: new Float64Array(100) }, b)).to.throw(/a\.x/);
    });
  });

  describe("lineFigure", () => {
    it("draws one line per series with the given axis titles and y range", () => {
      const fig = lineFigure(
        [
          { name: "original", x: [1, 2, 3], y: [0.9, 0.93, 0.95] },
          { name: "retrained", x: [1, 2, 3], y: [0.91, 0.94, 0.95] },
        ],
        { xTitle: "epoch", yTitle: "test accuracy", yRange: [0, 1] },
      );
      expect(fig.data.map((t) => t.name)).to.deep.equal(["original", "retrained"]);
      expect(fig.data[1].y).to.deep.equal([0.91, 0.94, 0.95]);
      const layout = fig.layout as Record<string, Trace>;
      expect((layout.xaxis.title as Trace).text).to.equal("epoch");
      expect(layout.yaxis.range).to.deep.equal([0, 1]);
      expect(layout.showlegend).to.equal(true);
    });

    it("refuses series whose x and y differ in length, NaN values and a reversed range", () => {
      expect(() => lineFigure([{ name: "a", x: [1, 2], y: [1] }])).to.throw(/2 x values but 1 y values/);
      expect(() => lineFigure([{ name: "a", x: [1], y: [NaN] }])).to.throw(/series\[0\]\.y\[0\] must be a finite number/);
      expect(() => lineFigure([{ name: "a", x: [1], y: [1] }], { yRange: [1, 0] })).to.throw(/low < high/);
    });
  });

  describe("heatmapFigure", () => {
    const z = [
      [5, 1],
      [0, 7],
    ];

    it("draws row 0 at the top, with labels and counts written in the cells", () => {
      const fig = heatmapFigure(z, { x: [0, 1], y: ["a", "b"], showValues: true, xTitle: "predicted", yTitle: "true" });
      const trace = fig.data[0];
      expect(trace.z).to.deep.equal(z);
      expect(trace.x).to.deep.equal(["0", "1"]);
      expect(trace.y).to.deep.equal(["a", "b"]);
      expect(trace.texttemplate).to.equal("%{z}");
      expect((fig.layout.yaxis as Trace).autorange).to.equal("reversed");
    });

    it("writes rates with two decimals, honours zRange, and leaves NaN cells blank", () => {
      const fig = heatmapFigure([[NaN, 0.25], [0.5, NaN]], { showValues: true, zRange: [0, 1] });
      const trace = fig.data[0];
      expect(trace.z).to.deep.equal([[null, 0.25], [0.5, null]]);
      expect(trace.texttemplate).to.equal("%{z:.2f}");
      expect([trace.zmin, trace.zmax]).to.deep.equal([0, 1]);
    });

    it("colours small values light and large values dark", () => {
      const scale = heatmapFigure(z).data[0].colorscale as [number, string][];
      const lightness = (hex: string) => [1, 3, 5].reduce((sum, i) => sum + parseInt(hex.slice(i, i + 2), 16), 0) / 3;
      expect(lightness(scale[0][1])).to.be.greaterThan(240);
      expect(lightness(scale[scale.length - 1][1])).to.be.lessThan(80);
    });

    it("refuses ragged rows and label counts that do not match", () => {
      expect(() => heatmapFigure([[1, 2], [3]])).to.throw(/z\[1\] has 1 values, z\[0\] has 2/);
      expect(() => heatmapFigure(z, { x: [0, 1, 2] })).to.throw(/3 x labels for 2 columns/);
      expect(() => heatmapFigure([[1, Infinity]])).to.throw(/z\[0\]\[1\] must be a finite number/);
    });
  });

  describe("barFigure", () => {
    it("draws grouped bars, one trace per series over the categories", () => {
      const fig = barFigure(["clean", "adversarial"], [
        { name: "original", values: [0.95, 0.41] },
        { name: "retrained", values: [0.951, 0.949] },
      ], { yRange: [0, 1], yTitle: "accuracy" });
      expect(fig.layout.barmode).to.equal("group");
      expect(fig.data.map((t) => [t.type, t.name])).to.deep.equal([["bar", "original"], ["bar", "retrained"]]);
      expect(fig.data[0].x).to.deep.equal(["clean", "adversarial"]);
      expect(fig.data[0].y).to.deep.equal([0.95, 0.41]);
    });

    it("refuses a series with a value missing", () => {
      expect(() => barFigure(["a", "b"], [{ name: "s", values: [1] }])).to.throw(/1 values for 2 categories/);
    });
  });

  describe("animationFigure", () => {
    const dark = (v: number) => Float64Array.from({ length: 784 }, () => v);
    const outputs = [0, 1, 2].map((k) => Float64Array.from({ length: 10 }, (_, d) => (d === 2 * k ? 0.9 : 0.05)));
    const frames = [0, 1, 2].map((k) => ({ x: dark(k / 2), output: outputs[k], label: `step ${10 * k}` }));

    it("holds one named frame per state, each with the image (trace 0) and the bars (trace 1)", () => {
      const fig = animationFigure(frames);
      expect(fig.frames).to.have.length(3);
      fig.frames!.forEach((f, k) => {
        expect(f.name).to.equal(String(k));
        expect(f.traces).to.deep.equal([0, 1]);
        const [image, bars] = f.data as (Trace & { z: number[][]; y: number[] })[];
        expect(image.type).to.equal("heatmap");
        expect(image.z[5][5]).to.equal(k / 2);
        expect(bars.type).to.equal("bar");
        expect(bars.y).to.deep.equal(Array.from(outputs[k]));
      });
    });

    it("has a slider with one step per frame that animates to that frame, labelled by the frame's label", () => {
      const fig = animationFigure(frames);
      const slider = (fig.layout.sliders as Trace[])[0] as Trace & { steps: Trace[] };
      expect(slider.steps.map((s) => s.label)).to.deep.equal(["step 0", "step 10", "step 20"]);
      slider.steps.forEach((s, k) => {
        expect(s.method).to.equal("animate");
        expect((s.args as unknown[])[0]).to.deep.equal([String(k)]);
      });
    });

    it("opens on the last frame (what a static picture shows) and Play runs every frame from the first", () => {
      const fig = animationFigure(frames, { title: "attack", frameMs: 100 });
      expect((fig.data[0] as Trace & { z: number[][] }).z[0][0]).to.equal(1);
      expect(((fig.layout.sliders as Trace[])[0]).active).to.equal(2);
      expect(String((fig.layout.title as Trace).text)).to.contain("step 20: predicted 4 (0.90)");
      const play = ((fig.layout.updatemenus as Trace[])[0].buttons as Trace[])[0];
      expect(play.label).to.equal("Play");
      expect((play.args as unknown[])[0]).to.deep.equal(["0", "1", "2"]);
      expect(((play.args as Trace[])[1].frame as Trace).duration).to.equal(100);
    });

    it("survives JSON (plain arrays, no typed ones) and refuses frames without a label or with a wrong image", () => {
      const fig = animationFigure(frames);
      expect(JSON.parse(JSON.stringify(fig.frames))).to.deep.equal(fig.frames);
      expect(() => animationFigure([])).to.throw(/non-empty/);
      expect(() => animationFigure([{ ...frames[0], label: "" }])).to.throw(/frames\[0\]\.label/);
      expect(() => animationFigure([{ ...frames[0], x: new Float64Array(10) }])).to.throw(/frames\[0\]\.x/);
    });
  });

  describe("bandsFigure", () => {
    it("draws each series as an upper edge, a filled lower edge and the line, in one colour", () => {
      const fig = bandsFigure([
        { name: "PGD-40", x: [0, 0.1], y: [0.95, 0.14], low: [0.93, 0.12], high: [0.96, 0.17] },
        { name: "FGSM", x: [0, 0.1], y: [0.95, 0.5], low: [0.93, 0.46], high: [0.96, 0.54], dash: true },
      ], { yRange: [0, 1] });
      expect(fig.data).to.have.length(6);
      expect(fig.data[0].y).to.deep.equal([0.96, 0.17]);
      expect(fig.data[1].y).to.deep.equal([0.93, 0.12]);
      expect(fig.data[1].fill).to.equal("tonexty");
      expect(fig.data[2].y).to.deep.equal([0.95, 0.14]);
      expect(fig.data.filter((t) => t.showlegend !== false).map((t) => t.name)).to.deep.equal(["PGD-40", "FGSM"]);
      expect((fig.data[5].line as Trace).dash).to.equal("dash");
      expect((fig.data[0].line as Trace).color).to.equal((fig.data[2].line as Trace).color);
    });

    it("takes a colour and a dash style per series, so one network keeps one colour across attacks", () => {
      const fig = bandsFigure([
        { name: "a", x: [0], y: [1], low: [1], high: [1], color: "#123456", dash: "dot" },
        { name: "b", x: [0], y: [1], low: [1], high: [1], color: "#123456" },
      ]);
      expect(fig.data[2].line).to.deep.equal({ color: "#123456", dash: "dot" });
      expect(fig.data[5].line).to.deep.equal({ color: "#123456" });
      expect(fig.data[4].fillcolor).to.equal("rgba(18, 52, 86, 0.18)");
      expect(() => bandsFigure([{ name: "c", x: [0], y: [1], low: [1], high: [1], color: "red" }])).to.throw(/#rrggbb/);
    });

    it("refuses a band whose length differs from its line", () => {
      expect(() => bandsFigure([{ name: "s", x: [0, 1], y: [1, 0], low: [1], high: [1, 0] }])).to.throw(/same length/);
    });
  });
});
