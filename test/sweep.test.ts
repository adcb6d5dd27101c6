import { expect } from "chai";
import { loadMnist, Network, pgd, sweepEpsilons } from "../dist";
import { COMMITTED_PATH } from "./support/reference";

describe("sweepEpsilons", () => {
  const { test } = loadMnist();
  const n = 100;
  const images = test.images.subarray(0, n * 784), labels = test.labels.subarray(0, n);
  const net = Network.load(COMMITTED_PATH);

  it("gives a K x N success matrix whose rows are the re-predicted successes of each run, rising with eps", () => {
    const s = sweepEpsilons([0, 0.05, 0.2], (eps) => pgd(net, images, labels, { eps, steps: 10, seed: 1 }));
    expect(s.success).to.have.length(3);
    s.success.forEach((row, k) => {
      expect(row).to.have.length(n);
      expect(Array.from(row)).to.deep.equal(Array.from(s.results[k].success));
      expect(s.rate[k]).to.equal(row.reduce((a, b) => a + b, 0) / n);
    });
    expect(s.rate[2]).to.be.above(s.rate[1]);
    expect(s.rate[1]).to.be.above(s.rate[0]);
  });

  it("refuses an empty list and a negative eps", () => {
    expect(() => sweepEpsilons([], () => { throw new Error("not run"); })).to.throw(/epsilons must list at least one budget/);
    expect(() => sweepEpsilons([0.1, -1], () => { throw new Error("not run"); })).to.throw(/epsilons\[1\] must be >= 0, got -1/);
  });
});
