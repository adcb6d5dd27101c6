import { expect } from "chai";
import {
  augmentData, binaryThreshold, concatDatasets, createRng, loadMnist, Network, noiseImage, sliceDataset,
} from "../dist";

describe("defenses", () => {
  describe("binaryThreshold", () => {
    it("binaryThreshold(x) maps 0.5 to 0 and anything above to 1", () => {
      expect(Array.from(binaryThreshold([0, 0.2, 0.5, 0.5000001, 1, 1.7, -0.3]))).to.deep.equal([0, 0, 0, 1, 1, 1, 0]);
    });

    it("takes another threshold and leaves its input untouched", () => {
      const x = Float64Array.of(0.1, 0.3, 0.9);
      expect(Array.from(binaryThreshold(x, 0.2))).to.deep.equal([0, 1, 1]);
      expect(Array.from(x)).to.deep.equal([0.1, 0.3, 0.9]);
    });

    it("refuses NaN pixels and a non-finite threshold", () => {
      expect(() => binaryThreshold([0.1, NaN])).to.throw(/x\[1\] is NaN/);
      expect(() => binaryThreshold([0.1], NaN)).to.throw(/threshold must be a finite number/);
    });
  });

  describe("augmentData", () => {
    const { training } = loadMnist();
    const data = sliceDataset(training, 0, 2000);
    const net = new Network([784, 12, 10], { seed: 4 });

    it("returns n adversarial images labelled with their TRUE digit, with goals and sources", () => {
      const adv = augmentData(net, 30, data, 5, { seed: 3 });
      expect(adv.length).to.equal(30);
      expect(adv.images).to.be.instanceOf(Float32Array);
      for (let i = 0; i < adv.length; i++) {
        expect(adv.labels[i]).to.equal(data.labels[adv.sources[i]]);
        expect(adv.goals[i]).to.be.within(0, 9);
      }
    });

    it("each example is sneakyAdversarial(net, goal, source image, steps, 1) from the seeded draws", () => {
      const adv = augmentData(net, 3, data, 7, { seed: 21 });
      // Replay the draws in the documented order: digit, image of that digit, fake label, start.
      const rng = createRng(21);
      const byDigit: number[][] = Array.from({ length: 10 }, () => []);
      for (let i = 0; i < data.length; i++) byDigit[data.labels[i]].push(i);
      for (let k = 0; k < 3; k++) {
        const d = rng.int(10);
        const j = byDigit[d][rng.int(byDigit[d].length)];
        const f = rng.int(10);
        const start = noiseImage(rng, 784);
        expect([adv.labels[k], adv.sources[k], adv.goals[k]]).to.deep.equal([d, j, f]);
        // The same maths from the same start, via the public attack with a start-matching seed stream.
        const x = Float64Array.from(start);
        const target = data.image(j);
        const goal = new Float64Array(10);
        goal[f] = 1;
        for (let s = 0; s < 7; s++) {
          const g = net.inputDerivative(x, goal);
          for (let i = 0; i < 784; i++) x[i] -= g[i] + 0.05 * (x[i] - target[i]);
        }
        const got = adv.image(k);
        for (let i = 0; i < 784; i += 13) expect(got[i]).to.be.closeTo(x[i], 1e-5);
      }
    });

    it("the fake label is drawn uniformly, so about 10 % equal the true digit", () => {
      const adv = augmentData(net, 400, data, 0, { seed: 8 });
      let same = 0;
      for (let i = 0; i < adv.length; i++) if (adv.goals[i] === adv.labels[i]) same++;
      expect(same / 400).to.be.within(0.05, 0.16);
    });

    it("the same seed gives bit-identical examples", () => {
      const a = augmentData(net, 5, data, 10, { seed: 2 });
      const b = augmentData(net, 5, data, 10, { seed: 2 });
      expect(Buffer.from(a.images.buffer).equals(Buffer.from(b.images.buffer))).to.equal(true);
      expect(Array.from(a.labels)).to.deep.equal(Array.from(b.labels));
    });

    it("reports progress up to n and is accepted by sgd with the training data", () => {
      const seen: number[] = [];
      const adv = augmentData(net, 20, data, 3, { seed: 1, onProgress: (done) => seen.push(done) });
      expect(seen[seen.length - 1]).to.equal(20);
      const fresh = new Network([784, 12, 10], { seed: 1 });
      const before = Float64Array.from(fresh.weights[0]);
      const both = concatDatasets(adv, sliceDataset(data, 0, 100));
      expect(both.length).to.equal(120);
      fresh.sgd(both, 1, 10, 3.0);
      expect(Array.from(fresh.weights[0])).to.not.deep.equal(Array.from(before));
    });

    it("refuses data that lacks a digit, and bad counts", () => {
      const ones = sliceDataset(training, 3, 4); // a single image
      expect(() => augmentData(net, 1, ones, 1)).to.throw(/the data has no image of digit/);
      expect(() => augmentData(net, -1, data, 1)).to.throw(/n must be a non-negative whole number, got -1/);
      expect(() => augmentData(net, 1, data, 2.5)).to.throw(/steps must be a non-negative whole number, got 2.5/);
    });
  });
});
