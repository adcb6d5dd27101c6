import { expect } from "chai";
import {
  adversarial, argmax, binaryThreshold, halfSquaredError, loadMnist, Network, noiseImage, createRng, oneHot,
  sneakyAdversarial, wilsonInterval,
} from "../dist";
import { firstOfDigit, referenceNetwork } from "./support/reference";

describe("attacks", () => {
  const { test } = loadMnist();
  const small = new Network([784, 16, 10], { seed: 3 });

  describe("on the article's reference network", () => {
    it("adversarial(net, 5, 1000, 1) ends with argmax 5 for most random starts (ARTICLE §8: 95 %)", function () {
      const net = referenceNetwork(this);
      const seeds = Array.from({ length: 10 }, (_, s) => s);
      const wins = seeds.filter((seed) => net.predict(adversarial(net, 5, 1000, 1, { seed })) === 5).length;
      // 10 draws of a 95 % event: fewer than 7 wins has probability below 0.1 %.
      expect(wins).to.be.at.least(7);
    });

    it("adversarial towards 1 leaves the net confused: 1 does not win and every activation is low (ARTICLE §8)", function () {
      const net = referenceNetwork(this);
      const output = net.feedforward(adversarial(net, 1, 1000, 1, { seed: 0 }));
      expect(argmax(output)).to.not.equal(1);
      expect(Math.max(...output)).to.be.below(0.5);
    });

    it("a sneaky 8 made from test images of a 2 is classified 8 about as often as ARTICLE §8 measured (38 %)", function () {
      const net = referenceNetwork(this);
      const twos = firstOfDigit(test.labels, 2, 60).filter((i) => net.predict(test.image(i)) === 2);
      const fooled = twos.filter((i, k) => net.predict(sneakyAdversarial(net, 8, test.image(i), 100, 1, 0.05, { seed: k })) === 8);
      const { low, high } = wilsonInterval(fooled.length, twos.length, 3);
      expect(low).to.be.below(0.38);
      expect(high).to.be.above(0.38);
    });

    it("thresholding a successful sneaky 8 made from a 2 gives 2 back", function () {
      const net = referenceNetwork(this);
      const twos = firstOfDigit(test.labels, 2, 60);
      let restored = 0;
      let successes = 0;
      for (const [k, i] of twos.entries()) {
        const x = sneakyAdversarial(net, 8, test.image(i), 100, 1, 0.05, { seed: k });
        if (net.predict(x) !== 8) continue;
        successes++;
        if (net.predict(binaryThreshold(x)) === 2) restored++;
      }
      expect(successes).to.be.above(0);
      // ARTICLE §8: 85 % of the successful 2 -> 8 examples are restored.
      expect(restored / successes).to.be.at.least(0.6);
    });
  });

  describe("the attack loop", () => {
    it("the cost falls over the steps of a non-targeted attack", () => {
      const costs: number[] = [];
      adversarial(small, 4, 200, 1, { seed: 2, onStep: (_, c) => costs.push(c) });
      expect(costs).to.have.length(200);
      expect(costs[199]).to.be.below(costs[0]);
    });

    it("adversarial starts from N(0.5, 0.3) noise and takes exactly the article's steps", () => {
      const start = noiseImage(createRng(8), 784);
      const x = Float64Array.from(start);
      const goal = oneHot(6);
      for (let s = 0; s < 3; s++) {
        const d = small.inputDerivative(x, goal);
        for (let i = 0; i < 784; i++) x[i] -= 0.7 * d[i];
      }
      expect(Array.from(adversarial(small, 6, 3, 0.7, { seed: 8 }))).to.deep.equal(Array.from(x));
    });

    it("sneakyAdversarial adds lam (x - xTarget) to the gradient at every step", () => {
      const target = test.image(0);
      const x = noiseImage(createRng(9), 784);
      const goal = oneHot(3);
      for (let s = 0; s < 4; s++) {
        const d = small.inputDerivative(x, goal);
        for (let i = 0; i < 784; i++) x[i] -= 1 * (d[i] + 0.05 * (x[i] - target[i]));
      }
      const got = sneakyAdversarial(small, 3, target, 4, 1, 0.05, { seed: 9 });
      for (let i = 0; i < 784; i++) expect(got[i]).to.be.closeTo(x[i], 1e-12);
    });

    it("zero steps return the random start unchanged", () => {
      expect(Array.from(adversarial(small, 0, 0, 1, { seed: 4 }))).to.deep.equal(Array.from(noiseImage(createRng(4), 784)));
    });

    it("the onStep cost of the sneaky attack includes the prior", () => {
      const target = test.image(1);
      let first = NaN;
      sneakyAdversarial(small, 2, target, 1, 1, 0.05, { seed: 5, onStep: (_, c) => (first = c) });
      const x = noiseImage(createRng(5), 784);
      let prior = 0;
      for (let i = 0; i < 784; i++) prior += (x[i] - target[i]) ** 2;
      expect(first).to.be.closeTo(halfSquaredError(small.feedforward(x), oneHot(2)) + 0.025 * prior, 1e-9);
    });

    it("the same seed gives bit-identical adversarial images; another seed another image", () => {
      const a = sneakyAdversarial(small, 7, test.image(3), 20, 1, 0.05, { seed: 12 });
      const b = sneakyAdversarial(small, 7, test.image(3), 20, 1, 0.05, { seed: 12 });
      const c = sneakyAdversarial(small, 7, test.image(3), 20, 1, 0.05, { seed: 13 });
      expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).to.equal(true);
      expect(Buffer.from(a.buffer).equals(Buffer.from(c.buffer))).to.equal(false);
    });
  });

  describe("bad input", () => {
    it("a goal label outside 0..9 is refused with its value", () => {
      expect(() => adversarial(small, 10, 1, 1)).to.throw(/goal label n must be a whole number from 0 to 9, got 10/);
      expect(() => adversarial(small, 2.5, 1, 1)).to.throw(/got 2.5/);
    });

    it("steps must be a whole non-negative number and eta finite", () => {
      expect(() => adversarial(small, 1, -1, 1)).to.throw(/steps must be a non-negative whole number, got -1/);
      expect(() => adversarial(small, 1, 1.5, 1)).to.throw(/steps must be a non-negative whole number, got 1.5/);
      expect(() => adversarial(small, 1, 1, Infinity)).to.throw(/eta must be a finite number, got Infinity/);
    });

    it("a target image must have 784 finite pixels and lam must be finite", () => {
      expect(() => sneakyAdversarial(small, 1, new Float64Array(783), 1, 1)).to.throw(/xTarget must have 784 numbers, got 783/);
      const bad = new Float64Array(784);
      bad[3] = NaN;
      expect(() => sneakyAdversarial(small, 1, bad, 1, 1)).to.throw(/xTarget\[3\] must be a finite number, got NaN/);
      expect(() => sneakyAdversarial(small, 1, test.image(0), 1, 1, NaN)).to.throw(/lam must be a finite number, got NaN/);
    });

    it("a seed must be a non-negative whole number", () => {
      expect(() => adversarial(small, 1, 1, 1, { seed: -3 })).to.throw(/seed must be a non-negative whole number, got -3/);
    });
  });
});
