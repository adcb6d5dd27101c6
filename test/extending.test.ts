/**
 * The worked examples of README.md's "Extending" section, run as they are written there: a new
 * attack in one file, a new loss, a new layer in front of a network.
 */
import { expect } from "chai";
import {
  accuracyOf, loadMnist, lossSpec, Network, pgd, preprocessed, predictRows, sliceDataset, successRate,
} from "../dist";
import type { AttackResult, Classifier, GradientResult, LossSpec } from "../dist";

// ---- A new attack in one file: the iterative least-likely-class attack (Kurakin et al. 2017).
/** Targeted PGD towards each image's least likely class; runs on the fused kernels like pgd. */
function leastLikely(model: Classifier, images: ArrayLike<number>, labels: ArrayLike<number>, eps: number, steps = 10): AttackResult {
  const out = model.forward(images);
  const k = model.classes;
  const targets = Array.from({ length: out.length / k }, (_, i) => {
    let low = 0;
    for (let j = 1; j < k; j++) if (out[i * k + j] < out[i * k + low]) low = j;
    return low;
  });
  return pgd(model, images, labels, { eps, steps, stepSize: (2.5 * eps) / steps, randomStart: false, targets, loss: "softmax-cross-entropy" });
}

// ---- A new loss: the difference-of-logits ratio of Croce and Hein (2020), via the model's vjp.
/** DLR(z, y) = -(z_y - max_{j != y} z_j) / (z_pi1 - z_pi3): lower means "more like y", as every loss here. */
function dlr(z: ArrayLike<number>, y: number, grad: Float64Array): number {
  const order = Array.from(z, (_, j) => j).sort((a, b) => z[b] - z[a]);
  const other = order[0] === y ? order[1] : order[0];
  const m = z[y] - z[other], spread = z[order[0]] - z[order[2]] + 1e-12;
  grad.fill(0);
  // d(-m / spread) = -dm / spread + m / spread^2 d(spread)
  grad[y] -= 1 / spread; grad[other] += 1 / spread;
  grad[order[0]] += m / spread ** 2; grad[order[2]] -= m / spread ** 2;
  return -m / spread;
}

/** `net` with its loss replaced by DLR: attacks follow DLR whatever loss they name. */
function withDlr(net: Network): Classifier {
  return {
    inputSize: net.inputSize,
    classes: net.classes,
    forward: (images) => net.forward(images),
    lossGradient(images: ArrayLike<number>, labels: Uint8Array, _loss: LossSpec): GradientResult {
      const z = net.forward(images), k = net.classes, n = labels.length;
      const loss = new Float64Array(n), cotangents = new Float64Array(n * k), g = new Float64Array(k);
      for (let i = 0; i < n; i++) {
        loss[i] = dlr(z.subarray(i * k, (i + 1) * k), labels[i], g);
        cotangents.set(g, i * k);
      }
      return { loss, gradient: net.vjp(images, cotangents) };
    },
  };
}

// ---- A new layer in front of a network: a 3 x 3 box blur, with its backward rule.
/** Blurs each 28 x 28 image (zero padding); the blur is its own transpose, so backward = forward. */
function blur(images: ArrayLike<number>): Float64Array {
  const out = new Float64Array(images.length);
  for (let o = 0; o < images.length; o += 784) {
    for (let r = 0; r < 28; r++) for (let c = 0; c < 28; c++) {
      let s = 0;
      for (let dr = -1; dr <= 1; dr++) for (let dc = -1; dc <= 1; dc++) {
        const rr = r + dr, cc = c + dc;
        if (rr >= 0 && rr < 28 && cc >= 0 && cc < 28) s += images[o + rr * 28 + cc];
      }
      out[o + r * 28 + c] = s / 9;
    }
  }
  return out;
}
const blurLayer = Object.assign(blur, { backward: (_images: ArrayLike<number>, gradOut: ArrayLike<number>) => blur(gradOut) });

describe("extending the library (README's worked examples)", () => {
  const { training, test } = loadMnist();
  const n = 200;
  const images = test.images.subarray(0, n * 784), labels = test.labels.subarray(0, n);
  const net = new Network([784, 100, 10], { seed: 3, activation: "relu", output: "identity", loss: "softmax-cross-entropy", init: "he" });
  before(() => net.sgd(sliceDataset(training, 0, 20000), 2, 50, 0.1, { seed: 1 }));

  it("a new attack in one file: the least-likely-class attack reaches its targets at eps 0.2", () => {
    const r = leastLikely(net, images, labels, 0.2);
    expect(successRate(r)).to.be.above(0.5);
  });

  it("a new loss: DLR's gradient matches finite differences, and PGD following it fools the network", () => {
    const z = Float64Array.of(1.2, -0.3, 2.5, 0.7, 0.1), g = new Float64Array(5), scratch = new Float64Array(5);
    dlr(z, 3, g);
    for (let j = 0; j < 5; j++) {
      const up = z.slice(); up[j] += 1e-6;
      const down = z.slice(); down[j] -= 1e-6;
      expect(g[j]).to.be.closeTo((dlr(up, 3, scratch) - dlr(down, 3, scratch)) / 2e-6, 1e-5);
    }
    const r = pgd(withDlr(net), images, labels, { eps: 0.1, steps: 20, seed: 1 });
    expect(accuracyOf(net, r.images, labels)).to.be.below(accuracyOf(net, images, labels) - 0.3);
  });

  it("a new layer: a blur in front of the network is one Classifier, and its exact gradient matches finite differences", () => {
    const blurred = preprocessed(net, blurLayer);
    const x = Float64Array.from(images.subarray(0, 784));
    const spec = lossSpec("softmax-cross-entropy");
    const y = Uint8Array.of(labels[0]);
    const g = blurred.lossGradient(x, y, spec).gradient;
    for (const p of [100, 300, 400, 406, 600]) {
      const up = x.slice(); up[p] += 1e-3;
      const down = x.slice(); down[p] -= 1e-3;
      const numeric = (blurred.lossGradient(up, y, spec).loss[0] - blurred.lossGradient(down, y, spec).loss[0]) / 2e-3;
      expect(g[p]).to.be.closeTo(numeric, 1e-3 * Math.max(1, Math.abs(numeric)));
    }
    expect(Array.from(predictRows(blurred.forward(images.subarray(0, 784 * 5)), 10)).length).to.equal(5);
  });
});
