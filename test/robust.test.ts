import { expect } from "chai";
import { fgsm, loadMnist, Network, pgd, robustAccuracy, accuracyOf } from "../dist";
import type { NamedAttack } from "../dist";
import { COMMITTED_PATH } from "./support/reference";

describe("robustAccuracy", () => {
  const { test } = loadMnist();
  const n = 200;
  const images = test.images.subarray(0, n * 784);
  const labels = test.labels.subarray(0, n);
  const net = Network.load(COMMITTED_PATH);
  const attacks: NamedAttack[] = [
    { name: "FGSM", run: (m, x, y, eps) => fgsm(m, x, y, { eps }) },
    { name: "PGD-10", run: (m, x, y, eps) => pgd(m, x, y, { eps, steps: 10, seed: 1 }) },
  ];

  it("takes each image's worst case over the attacks: never above any single attack's accuracy, and falling with eps", () => {
    const r = robustAccuracy(net, images, labels, attacks, [0, 0.05, 0.1]);
    expect(r.clean).to.equal(accuracyOf(net, images, labels));
    expect(r.accuracy[0]).to.equal(r.clean);
    r.epsilons.forEach((_, k) => {
      expect(r.accuracy[k]).to.be.at.most(Math.min(r.perAttack.FGSM[k], r.perAttack["PGD-10"][k]));
      expect(r.interval[k].low).to.be.at.most(r.accuracy[k]);
      expect(r.interval[k].high).to.be.at.least(r.accuracy[k]);
      expect(r.robust[k].reduce((s, f) => s + f, 0) / n).to.equal(r.accuracy[k]);
    });
    expect(r.accuracy[2]).to.be.below(r.accuracy[1]);
    expect(r.accuracy[1]).to.be.below(r.accuracy[0]);
  });

  it("refuses an empty attack list and a negative eps", () => {
    expect(() => robustAccuracy(net, images, labels, [], [0.1])).to.throw(/attacks must list at least one attack/);
    expect(() => robustAccuracy(net, images, labels, attacks, [-0.1])).to.throw(/epsilons\[0\] must be >= 0, got -0.1/);
  });
});
