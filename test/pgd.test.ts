import { expect } from "chai";
import { max, min } from "d3-array";
import { accuracyOf, fgsm, loadMnist, Network, pgd, sliceDataset, successRate } from "../dist";
import { COMMITTED_PATH, referenceNetwork } from "./support/reference";

describe("pgd and fgsm", () => {
  const { training, test } = loadMnist();
  const n = 300;
  const images = test.images.subarray(0, n * 784);
  const labels = test.labels.subarray(0, n);

  describe("on the article's network (bars from numpy on its weights, 1,000 test images)", () => {
    it("PGD-40 L-inf at eps 0.1 leaves at most 25 % robust accuracy (numpy, margin loss: about 14 %)", function () {
      const net = referenceNetwork(this);
      // Measured here: 7.7 % (margin), 8.7 % (quadratic) on these 300 images.
      expect(accuracyOf(net, pgd(net, images, labels, { eps: 0.1, steps: 40, seed: 0 }).images, labels)).to.be.at.most(0.25);
    });

    it("FGSM at eps 0.1 leaves at least 60 % (numpy: about 75 %)", function () {
      const net = referenceNetwork(this);
      // Measured here: 77.7 % (margin), 78 % (quadratic).
      expect(accuracyOf(net, fgsm(net, images, labels, { eps: 0.1 }).images, labels)).to.be.at.least(0.6);
    });
  });

  it("softmax regression [784, 10] after 5 epochs of cross-entropy: FGSM at eps 0.25 gives at least 95 % error (Goodfellow et al.: 99.9 %)", () => {
    const net = new Network([784, 10], { seed: 1, output: "identity", loss: "softmax-cross-entropy" });
    net.sgd(training, 5, 10, 0.05, { seed: 1 });
    expect(accuracyOf(net, images, labels), "clean accuracy").to.be.above(0.85);
    const r = fgsm(net, images, labels, { eps: 0.25 });
    expect(successRate(r)).to.be.at.least(0.95);
  });

  it("PGD is at least as strong as FGSM at every eps, on every network tested", function () {
    const nets = [Network.load(COMMITTED_PATH), new Network([784, 30, 10], { seed: 2, activation: "relu", output: "identity", loss: "softmax-cross-entropy", init: "he" })];
    nets[1].sgd(sliceDataset(training, 0, 10000), 2, 20, 0.1, { seed: 2 });
    for (const net of nets) {
      for (const eps of [0.02, 0.05, 0.1, 0.2]) {
        const f = successRate(fgsm(net, images, labels, { eps }));
        const p = successRate(pgd(net, images, labels, { eps, steps: 20, randomStart: false }));
        expect(p, `${net.activations.join("/")} at eps ${eps}: PGD ${p}, FGSM ${f}`).to.be.at.least(f);
      }
    }
  });

  it("returns images inside [0, 1] and inside the budget, and targeted PGD reports success on the targets", () => {
    const net = Network.load(COMMITTED_PATH);
    const targets = Array.from(labels, (y) => (y + 3) % 10);
    for (const [norm, eps] of [["linf", 0.2], ["l2", 2]] as const) {
      const r = pgd(net, images, labels, { eps, norm, steps: 10, targets, seed: 1 });
      expect(min(r.images)!).to.be.at.least(0);
      expect(max(r.images)!).to.be.at.most(1);
      expect(max(norm === "linf" ? r.linf : r.l2)!).to.be.at.most(eps * (1 + 1e-6));
      const predicted = Array.from({ length: n }, (_, i) => net.predict(r.images.subarray(i * 784, (i + 1) * 784)));
      predicted.forEach((p, i) => expect(r.success[i]).to.equal(p === targets[i] ? 1 : 0));
    }
    const f = fgsm(net, images, labels, { eps: 0.1 });
    expect(max(f.linf)!).to.be.at.most(0.1 + 1e-6);
  });

  it("at eps 0 nothing moves and success is exactly the clean errors", () => {
    const net = Network.load(COMMITTED_PATH);
    const r = pgd(net, images, labels, { eps: 0, steps: 5 });
    expect(max(r.linf)!).to.equal(0);
    expect(successRate(r)).to.be.closeTo(1 - accuracyOf(net, images, labels), 1e-12);
  });

  it("refuses a negative eps and an unknown norm, naming them", () => {
    const net = Network.load(COMMITTED_PATH);
    expect(() => pgd(net, images, labels, { eps: -1 })).to.throw(/eps must be >= 0, got -1/);
    expect(() => pgd(net, images, labels, { eps: 0.1, norm: "l1" as never })).to.throw(/norm must be "linf" or "l2", got "l1"/);
    expect(() => fgsm(net, images, labels, { eps: NaN })).to.throw(/eps must be a finite number, got NaN/);
  });
});
