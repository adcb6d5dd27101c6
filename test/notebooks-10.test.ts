import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { RESULTS_DIR, itExecutes } from "./support/notebooks";

const NAME = "10-transfer-and-black-box";
interface Results {
  images: number;
  networks: string[];
  cleanAccuracy: number[];
  transferMatrix: number[][];
  noiseRates: number[];
  transferByGroup: Record<string, number>;
  epsSweep: { eps: number[]; source: string; transfer: number[][]; noise: number[][] };
  kappaSweep: { kappa: number[]; transfer: number[][] };
  papernot: { rounds: { queries: number; agreement: number; transfer03: number; noise03: number; controlTransfer03: number }[] };
}
const results = () => JSON.parse(readFileSync(join(RESULTS_DIR, `${NAME}.json`), "utf8")) as Results;
const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;

// Issue 8 gives no numpy values for this notebook; the bands below are set from what the
// notebook measured (written beside each), widened to allow for another machine's float32
// rounding and for the networks it trains.
describe("notebook 10: transfer and black-box attacks", function () {
  itExecutes(NAME);

  it("six networks, each at least 90 % accurate on the 1,000 attacked test images (measured: 94.7-97.7 %)", () => {
    const r = results();
    expect(r.images).to.equal(1000);
    expect(r.networks).to.have.length(6);
    for (const a of r.cleanAccuracy) expect(a).to.be.at.least(0.9);
  });

  it("white-box PGD at eps 0.15 fools at least 90 % of every network (the diagonal; measured: 97.3-99.1 %)", () => {
    const m = results().transferMatrix;
    m.forEach((row, k) => expect(row[k]).to.be.at.least(0.9));
  });

  it("every off-diagonal transfer rate is above the target's random-noise rate, and their mean at least 20 points above (measured: off-diagonal 13.9-73.7 %, mean 43.0 %; noise 2.4-14.9 %, mean 7.7 %)", () => {
    const r = results();
    const off: number[] = [];
    r.transferMatrix.forEach((row, s) => row.forEach((v, t) => {
      if (s === t) return;
      expect(v, `${r.networks[s]} -> ${r.networks[t]}`).to.be.above(r.noiseRates[t]);
      off.push(v);
    }));
    expect(mean(off)).to.be.at.least(mean(r.noiseRates) + 0.2);
  });

  it("transfer grows with eps: at eps 0.3 the mean over targets is at least 50 points above eps 0.05 (measured: 96.5 % at eps 0.3 against 9.0 % at 0.05)", () => {
    const { epsSweep, networks } = results();
    const source = networks.indexOf(epsSweep.source);
    const meanAt = (k: number) => mean(epsSweep.transfer[k].filter((_, t) => t !== source));
    expect(meanAt(epsSweep.eps.length - 1)).to.be.at.least(meanAt(0) + 0.5);
  });

  it("transfer grows with kappa: kappa 20 transfers at least 30 points better than kappa 0 (measured: 67.1 % against 14.9 %, mean over the five targets)", () => {
    const { kappaSweep, epsSweep, networks } = results();
    const source = networks.indexOf(epsSweep.source);
    const meanAt = (k: number) => mean(kappaSweep.transfer[k].filter((_, t) => t !== source));
    expect(meanAt(kappaSweep.kappa.length - 1)).to.be.at.least(meanAt(0) + 0.3);
  });

  it("the label-only substitute's examples fool the black box at least 15 points more than noise after 4,800 queries, and it agrees with the black box on at least 55 % (measured: 64.1 % against noise 29.2 %; agreement 65.0 %)", () => {
    const rounds = results().papernot.rounds;
    const last = rounds[rounds.length - 1];
    expect(last.queries).to.equal(4800);
    expect(last.transfer03).to.be.at.least(last.noise03 + 0.15);
    expect(last.agreement).to.be.at.least(0.55);
  });

  it("the control, the same queries spent on real test images, buys a substitute whose examples transfer at least as well (measured: 93.2 % against 64.1 %)", () => {
    const rounds = results().papernot.rounds;
    const last = rounds[rounds.length - 1];
    expect(last.controlTransfer03).to.be.at.least(last.transfer03);
    expect(last.controlTransfer03).to.be.at.least(0.75);
  });
});
