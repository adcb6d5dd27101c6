import { expect } from "chai";
import { centralDifference } from "./support/gradients";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRng, loadMnist, lossSpec, makeDataset, Network, oneHot, sliceDataset } from "../dist";
import { COMMITTED_PATH, referenceNetwork } from "./support/reference";

/** C(x) = 1/2 ||feedforward(x) - y||^2, the cost every gradient here differentiates. */
function cost(net: Network, x: ArrayLike<number>, y: ArrayLike<number>): number {
  const a = net.feedforward(x);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - y[i]) ** 2;
  return s / 2;
}


function expectClose(analytic: number, numeric: number, where: string): void {
  const scale = Math.max(1e-4, Math.abs(analytic), Math.abs(numeric));
  expect(Math.abs(analytic - numeric) / scale, `${where}: backprop ${analytic}, finite difference ${numeric}`).to.be.below(1e-5);
}

describe("Network", () => {
  describe("gradients against central finite differences", () => {
    for (const sizes of [[4, 3, 2], [7, 6, 5, 3], [13, 8, 10], [20, 9, 7, 6, 10]]) {
      it(`backprop of [${sizes.join(", ")}] matches finite differences for weights, biases and input`, () => {
        const net = new Network(sizes, { seed: sizes.length });
        const rng = createRng(sizes[0]);
        const x = Float64Array.from({ length: sizes[0] }, () => rng.uniform());
        const y = Float64Array.from({ length: sizes[sizes.length - 1] }, () => rng.uniform());
        const { nablaB, nablaW, nablaX } = net.backprop(x, y);
        const f = () => cost(net, x, y);
        net.weights.forEach((w, l) => {
          for (let i = 0; i < w.length; i += Math.max(1, Math.floor(w.length / 17))) {
            expectClose(nablaW[l][i], centralDifference(f, w, i, 1e-5), `weights[${l}][${i}]`);
          }
        });
        net.biases.forEach((b, l) => {
          for (let i = 0; i < b.length; i++) expectClose(nablaB[l][i], centralDifference(f, b, i, 1e-5), `biases[${l}][${i}]`);
        });
        for (let i = 0; i < x.length; i++) expectClose(nablaX[i], centralDifference(f, x, i, 1e-5), `x[${i}]`);
      });
    }

    it("inputDerivative of a [784, 30, 10] net matches finite differences on a real digit", () => {
      const net = new Network([784, 30, 10], { seed: 9 });
      const x = Float64Array.from(loadMnist().test.image(0));
      const goal = oneHot(5);
      const grad = net.inputDerivative(x, goal);
      expect(grad.length).to.equal(784);
      for (let i = 0; i < 784; i += 37) expectClose(grad[i], centralDifference(() => cost(net, x, goal), x, i, 1e-5), `x[${i}]`);
    });

    it("inputDerivative equals the input part of backprop", () => {
      const net = new Network([6, 5, 4], { seed: 1 });
      const x = [0.1, 0.9, 0.3, 0.5, 0.2, 0.7];
      const y = [0, 1, 0, 0];
      expect(Array.from(net.inputDerivative(x, y))).to.deep.equal(Array.from(net.backprop(x, y).nablaX));
    });
  });

  describe("the article's reference network", () => {
    it("Network.fromJSON of the reference file classifies exactly 9,496 of the 10,000 test images", function () {
      const net = referenceNetwork(this);
      expect(net.sizes).to.deep.equal([784, 30, 10]);
      expect(net.evaluate(loadMnist().test)).to.equal(9496);
    });

    it("predicts 8 for test image 8384, as the article's notebook shows", function () {
      const net = referenceNetwork(this);
      expect(net.predict(loadMnist().test.image(8384))).to.equal(8);
    });
  });

  describe("the committed network", () => {
    it("data/network-784-30-10.json loads and scores at least 94.5 % on the test set", () => {
      const net = Network.load(COMMITTED_PATH);
      expect(net.sizes).to.deep.equal([784, 30, 10]);
      expect(net.evaluate(loadMnist().test) / 10_000).to.be.at.least(0.945);
    });
  });

  describe("construction", () => {
    it("draws N(0, 1) weights and biases from the seed: same seed, same network", () => {
      const a = new Network([784, 30, 10], { seed: 5 });
      const b = new Network([784, 30, 10], { seed: 5 });
      const c = new Network([784, 30, 10], { seed: 6 });
      expect(a.toJSON()).to.deep.equal(b.toJSON());
      expect(a.toJSON()).to.not.deep.equal(c.toJSON());
      const w = Array.from(a.weights[0]);
      const m = w.reduce((s, v) => s + v, 0) / w.length;
      const sd = Math.sqrt(w.reduce((s, v) => s + (v - m) ** 2, 0) / w.length);
      expect(m).to.be.closeTo(0, 0.02);
      expect(sd).to.be.closeTo(1, 0.02);
    });

    it("refuses sizes with fewer than two layers or a zero layer", () => {
      expect(() => new Network([784])).to.throw(/sizes must list at least two layers/);
      expect(() => new Network([784, 0, 10])).to.throw(/sizes\[1\] must be a whole number >= 1, got 0/);
    });

    it("feedforward refuses an image of the wrong length or with NaN", () => {
      const net = new Network([784, 30, 10]);
      expect(() => net.feedforward(new Float64Array(783))).to.throw(/input x must have 784 numbers, got 783/);
      const x = new Float64Array(784);
      x[17] = NaN;
      expect(() => net.feedforward(x)).to.throw(/input x\[17\] must be a finite number, got NaN/);
    });
  });

  describe("sgd", () => {
    const { training, test } = loadMnist();
    const small = sliceDataset(training, 0, 5000);

    it("three epochs on 5,000 images lift a fresh [784, 30, 10] net far above chance, reporting each epoch", () => {
      const net = new Network([784, 30, 10], { seed: 1 });
      const reports: number[] = [];
      net.sgd(small, 3, 10, 3.0, { seed: 1, testData: sliceDataset(test, 0, 1000), onEpoch: (r) => reports.push(r.accuracy!) });
      expect(reports).to.have.length(3);
      expect(reports[2]).to.be.above(0.65);
      expect(reports[2]).to.be.above(reports[0]);
    });

    it("the same seeds give bit-identical weights", () => {
      const run = () => {
        const net = new Network([784, 10, 10], { seed: 2 });
        net.sgd(sliceDataset(training, 0, 500), 2, 10, 3.0, { seed: 4 });
        return net.toJSON();
      };
      expect(run()).to.deep.equal(run());
    });

    it("takes one gradient step of -eta times the mean gradient on a single mini-batch", () => {
      const net = new Network([3, 2, 2], { seed: 3 });
      const before = net.clone();
      const data = makeDataset(Float64Array.of(0.1, 0.2, 0.3, 0.9, 0.8, 0.7), Uint8Array.of(0, 1), 3);
      net.sgdReference(data, 1, 2, 0.5, { seed: 0 });
      const g0 = before.backprop(data.image(0), [1, 0]);
      const g1 = before.backprop(data.image(1), [0, 1]);
      net.weights.forEach((w, l) => {
        for (let i = 0; i < w.length; i++) {
          expect(w[i]).to.be.closeTo(before.weights[l][i] - (0.5 / 2) * (g0.nablaW[l][i] + g1.nablaW[l][i]), 1e-12);
        }
      });
    });

    it("refuses a non-positive mini-batch size, a bad eta and mismatched images", () => {
      const net = new Network([784, 30, 10]);
      expect(() => net.sgd(small, 1, 0, 3)).to.throw(/miniBatchSize must be a whole number >= 1, got 0/);
      expect(() => net.sgd(small, 1, 10, NaN)).to.throw(/eta must be a finite number, got NaN/);
      expect(() => new Network([100, 10]).sgd(small, 1, 10, 3)).to.throw(/images have 784 pixels, the network takes 100/);
    });
  });

  describe("saving and loading", () => {
    const dir = mkdtempSync(join(tmpdir(), "net-test-"));

    it("save then load round-trips every weight exactly", () => {
      const net = new Network([784, 30, 10], { seed: 11 });
      const path = join(dir, "net.json");
      net.save(path);
      const back = Network.load(path);
      expect(back.sizes).to.deep.equal(net.sizes);
      net.weights.forEach((w, l) => expect(Buffer.from(back.weights[l].buffer).equals(Buffer.from(w.buffer))).to.equal(true));
      net.biases.forEach((b, l) => expect(Array.from(back.biases[l])).to.deep.equal(Array.from(b)));
    });

    it("save leaves no temporary file behind and overwrites atomically", () => {
      const path = join(dir, "again.json");
      new Network([3, 2]).save(path);
      new Network([3, 4, 2]).save(path);
      expect(Network.load(path).sizes).to.deep.equal([3, 4, 2]);
      expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).to.deep.equal([]);
    });

    it("save into a missing folder fails with the path and leaves nothing", () => {
      const path = join(dir, "no-such-folder", "net.json");
      expect(() => new Network([3, 2]).save(path)).to.throw(/no-such-folder\/net\.json: cannot write \(ENOENT\)/);
      expect(existsSync(path)).to.equal(false);
    });

    it("toJSON uses the reference layout: weights[l][row][col], row = unit fed", () => {
      const net = new Network([3, 2], { seed: 1 });
      const json = net.toJSON();
      expect(json.weights[0]).to.have.length(2);
      expect(json.weights[0][1]).to.have.length(3);
      expect(json.weights[0][1][2]).to.equal(net.weights[0][1 * 3 + 2]);
    });

    it("fromJSON names the first entry with the wrong shape", () => {
      const json = new Network([3, 2]).toJSON();
      expect(() => Network.fromJSON({ ...json, sizes: [3] })).to.throw(/sizes must list at least two layers/);
      const shortRow = structuredClone(json);
      shortRow.weights[0][1] = [1, 2];
      expect(() => Network.fromJSON(shortRow)).to.throw(/weights\[0\]\[1\] must have 3 numbers, got 2/);
      const badBias = structuredClone(json);
      (badBias.biases[0] as unknown[])[1] = "x";
      expect(() => Network.fromJSON(badBias)).to.throw(/biases\[0\]\[1\] must be a finite number, got "x"/);
      expect(() => Network.fromJSON({ ...json, weights: [] })).to.throw(/weights must hold 1 matrices, got 0/);
      expect(() => Network.fromJSON(null)).to.throw(/expected an object with sizes, weights and biases/);
    });

    it("load names a file that is not JSON", () => {
      const path = join(dir, "broken.json");
      writeFileSync(path, "{ not json");
      expect(() => Network.load(path)).to.throw(/broken\.json: not valid JSON/);
      expect(readFileSync(path, "utf8")).to.equal("{ not json");
    });

    it("a format-1 file (the article's: sizes, weights, biases only) loads as sigmoid layers with the quadratic cost", () => {
      const json = new Network([3, 2, 2], { seed: 1 }).toJSON();
      const { format: _f, activations: _a, loss: _l, ...formatOne } = json;
      const net = Network.fromJSON(formatOne);
      expect(net.activations).to.deep.equal(["sigmoid", "sigmoid"]);
      expect(net.loss).to.equal("quadratic");
    });

    it("format 2 keeps activations and loss through save and load", () => {
      const net = new Network([5, 4, 3], { seed: 2, activation: "relu", output: "identity", loss: "softmax-cross-entropy", init: "he" });
      const path = join(dir, "relu.json");
      net.save(path);
      const back = Network.load(path);
      expect(back.toJSON()).to.deep.equal(net.toJSON());
      expect(back.activations).to.deep.equal(["relu", "identity"]);
      expect(back.loss).to.equal("softmax-cross-entropy");
      expect(JSON.parse(readFileSync(path, "utf8")).format).to.equal(2);
    });

    it("fromJSON names an unknown activation, loss or format", () => {
      const json = new Network([3, 2, 2]).toJSON();
      expect(() => Network.fromJSON({ ...json, activations: ["sigmoid", "tanh"] })).to.throw(/activations\[1\] must be one of sigmoid, relu, identity, got "tanh"/);
      expect(() => Network.fromJSON({ ...json, loss: "hinge" })).to.throw(/loss must be one of quadratic, softmax-cross-entropy, got "hinge"/);
      expect(() => Network.fromJSON({ ...json, format: 3 })).to.throw(/format must be 1 or 2, got 3/);
    });

    it("save refuses a network with a NaN weight and leaves the good file on disk untouched", () => {
      const path = join(dir, "good.json");
      const net = new Network([3, 2], { seed: 1 });
      net.save(path);
      const before = readFileSync(path, "utf8");
      net.weights[0][4] = NaN;
      expect(() => net.save(path)).to.throw(/weights\[0\]\[4\] is NaN; a network with non-finite weights could not be loaded again, so nothing was written/);
      expect(readFileSync(path, "utf8")).to.equal(before);
    });
  });

  describe("layers, losses and initialisation", () => {
    it("ReLU hidden layers with identity outputs give logits: negative outputs occur and hidden units are never negative", () => {
      const net = new Network([4, 6, 3], { seed: 3, activation: "relu", output: "identity" });
      const as = net.activationsOf([0.2, 0.9, 0.1, 0.5]);
      expect(Array.from(as[1]).every((a) => a >= 0)).to.equal(true);
      const outs = [0, 1, 2, 3].map((k) => net.feedforward([k / 3, 1 - k / 3, 0.5, 0.1]));
      expect(outs.some((o) => Array.from(o).some((v) => v < 0))).to.equal(true);
    });

    it("He initialisation draws weights with variance 2 / fan-in and zero biases", () => {
      const net = new Network([400, 300, 10], { seed: 4, init: "he" });
      const w = net.weights[0];
      const variance = w.reduce((s, v) => s + v * v, 0) / w.length;
      expect(variance).to.be.closeTo(2 / 400, 0.0002);
      expect(Array.from(net.biases[0]).every((b) => b === 0)).to.equal(true);
    });

    it("refuses unknown activation, output, loss and init names, naming the option and the value", () => {
      expect(() => new Network([3, 2], { activation: "tanh" as never })).to.throw(/activation must be one of "sigmoid", "relu", "identity", got "tanh"/);
      expect(() => new Network([3, 2], { output: "softmax" as never })).to.throw(/output must be one of .* got "softmax"/);
      expect(() => new Network([3, 2], { loss: "margin" as never })).to.throw(/loss must be "quadratic" or "softmax-cross-entropy", got "margin"/);
      expect(() => new Network([3, 2], { init: "xavier" as never })).to.throw(/init must be "normal" or "he", got "xavier"/);
    });

    it("forward and lossGradient refuse labels outside the classes and a NaN pixel, naming them", () => {
      const net = new Network([3, 2]);
      expect(() => net.lossGradient([0.1, 0.2, 0.3], Uint8Array.of(2), lossSpec("quadratic"))).to.throw(/labels\[0\] must be a whole number from 0 to 1, got 2/);
      expect(() => net.forward([0.1, NaN, 0.3])).to.throw(/images\[1\] \(image 0, pixel 1\) must be a finite number, got NaN/);
      expect(() => net.forward([0.1, 0.3])).to.throw(/images has 2 numbers, not a whole number of 3-pixel images/);
    });

    it("sgd trains a ReLU network with softmax cross-entropy to well above chance on 2,000 digits", () => {
      const { training } = loadMnist();
      const net = new Network([784, 30, 10], { seed: 1, activation: "relu", output: "identity", loss: "softmax-cross-entropy", init: "he" });
      const data = sliceDataset(training, 0, 2000);
      const reports: number[] = [];
      net.sgd(data, 3, 20, 0.1, { seed: 1, testData: sliceDataset(training, 2000, 2500), onEpoch: (r) => reports.push(r.accuracy!) });
      expect(reports[2]).to.be.above(0.75);
    });
  });

  describe("the fast path refuses what the reference refuses", () => {
    const { training } = loadMnist();
    const base = sliceDataset(training, 0, 1000);

    it("sgd refuses a NaN pixel, naming the image and pixel, and leaves the weights untouched", () => {
      const images = Float32Array.from(base.images);
      images[300 * 784 + 17] = NaN;
      const data = { images, labels: base.labels, length: 1000, image: (i: number) => images.subarray(i * 784, (i + 1) * 784) };
      const net = new Network([784, 30, 10], { seed: 1 });
      const before = net.toJSON();
      expect(() => net.sgd(data, 1, 10, 3)).to.throw(/training data images\[235217\] \(image 300, pixel 17\) must be a finite number, got NaN/);
      expect(net.toJSON()).to.deep.equal(before);
    });

    it("sgd refuses labels beyond the outputs and a label array shorter than the images", () => {
      const net = new Network([784, 30, 4], { seed: 1 });
      expect(() => net.sgd(base, 1, 10, 3)).to.throw(/training data labels\[\d+\] must be a whole number from 0 to 3, got \d/);
      const short = { ...base, labels: base.labels.subarray(0, 999) };
      expect(() => new Network([784, 30, 10]).sgd(short, 1, 10, 3)).to.throw(/training data: 999 labels for 1000 images/);
    });

    it("a diverging eta is reported as divergence, with the epoch and eta", () => {
      const net = new Network([784, 30, 10], { seed: 1, activation: "relu", output: "identity", loss: "softmax-cross-entropy" });
      expect(() => net.sgd(base, 2, 10, 1e30)).to.throw(/sgd diverged in epoch 1: (weights|biases)\[\d\]\[\d+\] is (NaN|-?Infinity) \(eta 1e\+30, loss softmax-cross-entropy\)/);
    });

    it("weights beyond float32's range load (float64 holds them) but the kernels refuse them, naming the entry", () => {
      const json = new Network([3, 2], { seed: 1 }).toJSON();
      json.weights[0][1][2] = 1e39;
      const net = Network.fromJSON(json);
      expect(() => net.forward([0.1, 0.2, 0.3])).to.throw(/weights\[0\]\[5\] is 1e\+39, not a finite float32/);
    });

    it("makeDataset refuses a NaN or infinite pixel", () => {
      expect(() => makeDataset(Float32Array.of(0, NaN, 0), Uint8Array.of(1), 3)).to.throw(/dataset: image 0 pixel 1 is NaN, not a finite number/);
      expect(() => makeDataset(Float64Array.of(0, 0, Infinity), Uint8Array.of(1), 3)).to.throw(/image 0 pixel 2 is Infinity/);
    });
  });
});
