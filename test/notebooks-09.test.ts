import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { RESULTS_DIR, itExecutes } from "./support/notebooks";

const NAME = "09-adversarial-training-compared";
const results = () => JSON.parse(readFileSync(join(RESULTS_DIR, `${NAME}.json`), "utf8")) as Record<string, unknown>;
const num = (key: string) => {
  const v = results()[key];
  expect(v, key).to.be.a("number");
  return v as number;
};
/** Entry i of a recorded array (PGD-40 accuracy at eps 0.05 / 0.1 / 0.2 is [0] / [1] / [2]). */
const at = (key: string, i: number) => {
  const v = results()[key];
  expect(v, key).to.be.an("array");
  return (v as number[])[i];
};

// Bands from the numpy values of issue 8 (ReLU [784, 100, 10], 5 epochs): natural training 97.6 %
// clean, about 11 % under PGD-40 at eps 0.1; FGSM-RS at eps 0.1: 94.8 % clean, about 74 %. A rate
// on 1,000 test images has a 95 % interval of about +-3 points (+-1 near 97 %); the training
// schedules differ (the numpy one is not stated), so each band is wider than that. The measured
// value of the run that set each band is written beside it.
describe("notebook 09: adversarial training compared (the article's recipe, FGSM-RS, PGD-k)", function () {
  itExecutes(NAME);

  it("records its sample sizes: 1,000 test images, PGD-40 with 2 starts, Square with 1,000 queries on 500, 5 epochs", () => {
    const r = results();
    expect([r.evalImages, r.evalSteps, r.evalRestarts, r.squareImages, r.squareQueries, r.epochs, r.epochImages])
      .to.deep.equal([1000, 40, 2, 500, 1000, 5, 500]);
    expect(r.evalEpsilons).to.deep.equal([0.05, 0.1, 0.2]);
    expect(r.trainEps).to.equal(0.1);
  });

  it("natural training: 95-99 % clean (numpy 97.6 %; measured 96.8 %)", () => {
    expect(num("naturalClean")).to.be.within(0.95, 0.99);
  });

  it("natural training: at most 25 % under PGD-40 at eps 0.1 (numpy about 11 %; measured 6.9 %)", () => {
    expect(at("naturalPgd40", 1)).to.be.at.most(0.25);
  });

  it("FGSM-RS at eps 0.1 (warm-up): 90-98 % clean (numpy 94.8 %; measured 95.8 %)", () => {
    expect(num("fgsmRsClean")).to.be.within(0.9, 0.98);
  });

  it("FGSM-RS at eps 0.1 (warm-up): 60-88 % under PGD-40 at eps 0.1 (numpy about 74 %; measured 73.9 %)", () => {
    expect(at("fgsmRsPgd40", 1)).to.be.within(0.6, 0.88);
  });

  it("PGD-5 training is at least as robust at eps 0.1 as FGSM-RS less 10 points, and far above natural training (measured PGD-5 74.5 %, FGSM-RS 73.9 %, natural 6.9 %; PGD-5 clean 95.6 %)", () => {
    expect(at("pgdPgd40", 1)).to.be.at.least(at("fgsmRsPgd40", 1) - 0.1);
    expect(at("pgdPgd40", 1)).to.be.at.least(at("naturalPgd40", 1) + 0.4);
    expect(num("pgdClean")).to.be.at.least(0.88);
  });

  it("the article's recipe buys little white-box robustness: at most 35 % under PGD-40 at eps 0.1 (measured 12.5 %, clean 97.0 %)", () => {
    expect(at("articlePgd40", 1)).to.be.at.most(0.35);
    expect(num("articleClean")).to.be.at.least(0.93);
  });

  it("robust accuracy falls as eps grows, for every recipe", () => {
    for (const k of ["natural", "article", "fgsmRs", "fgsmRsNoWarmup", "pgd"]) {
      const [a, b, c] = [0, 1, 2].map((i) => at(`${k}Pgd40`, i));
      expect(a, k).to.be.at.least(b);
      expect(b, k).to.be.at.least(c);
    }
  });

  it("the gradient-free check: Square leaves no less than PGD-40 less 5 points on the adversarially trained networks (measured Square 74.4 % / PGD 73.2 % for FGSM-RS, 75.8 % / 75.2 % for PGD-5, on 500 images)", () => {
    for (const k of ["fgsmRs", "pgd"]) expect(num(`${k}Square`), k).to.be.at.least(num(`${k}PgdOnSquareImages`) - 0.05);
  });

  it("a [784, 32, 10] network on 6,000 images stays near chance without the warm-up and learns with it (measured 13.2 % without, 79.0 % with, after 3 epochs)", () => {
    const cold = results().smallNoWarmupClean as number[];
    const warm = results().smallWarmupClean as number[];
    expect(cold[cold.length - 1]).to.be.at.most(0.35);
    expect(warm[warm.length - 1]).to.be.at.least(0.7);
  });

  it("records the per-epoch robust accuracy of every recipe, 5 epochs each", () => {
    for (const k of ["natural", "article", "fgsmRs", "fgsmRsNoWarmup", "pgd"]) {
      expect(results()[`${k}EpochRobust`], k).to.be.an("array").with.length(5);
      expect(num(`${k}TrainSeconds`), k).to.be.above(0);
    }
  });
});
