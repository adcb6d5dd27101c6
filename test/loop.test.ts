import { expect } from "chai";
import { max, min } from "d3-array";
import {
  gradientAttack, loadMnist, Network, setBackend, backendName, sneakyAdversarial, adversarial, successRate, createRng,
} from "../dist";
import { COMMITTED_PATH } from "./support/reference";

describe("gradientAttack: the one attack loop", () => {
  const { test } = loadMnist();
  const n = 40;
  const images = test.images.subarray(0, n * 784);
  const labels = test.labels.subarray(0, n);
  const small = new Network([784, 20, 10], { seed: 2 });

  describe("the article's attacks are configurations of it", () => {
    let was: ReturnType<typeof backendName>;
    before(() => { was = backendName(); setBackend("reference"); });
    after(() => setBackend(was));

    it("start noise + quadratic loss towards a goal + ridge prior + plain steps gives sneakyAdversarial's bits", () => {
      const target = test.image(1);
      const x = gradientAttack(small, target, [test.labels[1]], {
        start: "noise", loss: "quadratic", targets: [8], prior: { targets: target, lam: 0.05 },
        steps: 20, step: "gradient", stepSize: 1, clip: false, seed: 3,
      }).images;
      const reference = sneakyAdversarial(small, 8, target, 20, 1, 0.05, { seed: 3 });
      expect(Array.from(x)).to.deep.equal(Array.from(reference));
    });

    it("without the prior it gives the non-targeted attack's bits (adversarial)", () => {
      const x = gradientAttack(small, new Float64Array(784), [0], {
        start: "noise", loss: "quadratic", targets: [5], steps: 15, step: "gradient", stepSize: 1, clip: false, seed: 9,
      }).images;
      expect(Array.from(x)).to.deep.equal(Array.from(adversarial(small, 5, 15, 1, { seed: 9 })));
    });
  });

  it("keeps every image inside [0, 1] and inside its L-inf or L2 ball", () => {
    for (const ball of ["linf", "l2"] as const) {
      const eps = ball === "linf" ? 0.1 : 1.5;
      const r = gradientAttack(small, images, labels, {
        steps: 10, step: ball === "linf" ? "sign" : "l2", stepSize: eps / 4, start: "uniform", ball, eps, seed: 1,
      });
      expect(min(r.images)!).to.be.at.least(0);
      expect(max(r.images)!).to.be.at.most(1);
      const dist = ball === "linf" ? r.linf : r.l2;
      expect(max(dist)!).to.be.at.most(eps * (1 + 1e-6) + 1e-6);
    }
  });

  it("the same seed gives the same bits; another seed another random start", () => {
    const run = (seed: number) => Array.from(gradientAttack(small, images, labels, {
      steps: 3, step: "sign", stepSize: 0.02, start: "uniform", ball: "linf", eps: 0.1, seed,
    }).images);
    expect(run(4)).to.deep.equal(run(4));
    expect(run(4)).to.not.deep.equal(run(5));
  });

  it("restarts never lose an image the first run fooled", () => {
    const options = { steps: 5, step: "sign" as const, stepSize: 0.02, start: "uniform" as const, ball: "linf" as const, eps: 0.05, seed: 6 };
    const once = gradientAttack(small, images, labels, options);
    const thrice = gradientAttack(small, images, labels, { ...options, restarts: 3 });
    for (let i = 0; i < n; i++) if (once.success[i]) expect(thrice.success[i], `image ${i}`).to.equal(1);
    expect(successRate(thrice)).to.be.at.least(successRate(once));
  });

  it("early stop leaves fooled images where they were first fooled and reports fewer steps", () => {
    const trained = Network.load(COMMITTED_PATH);
    const r = gradientAttack(trained, images, labels, {
      steps: 30, step: "sign", stepSize: 0.01, ball: "linf", eps: 0.3, earlyStop: true, loss: "softmax-cross-entropy",
    });
    const full = gradientAttack(trained, images, labels, { steps: 30, step: "sign", stepSize: 0.01, ball: "linf", eps: 0.3, loss: "softmax-cross-entropy" });
    expect(successRate(r)).to.be.above(0.5);
    expect(max(r.steps)!).to.be.at.most(30);
    expect(r.steps.some((s, i) => s < 30 && r.success[i] === 1)).to.equal(true);
    // Stopping at the first step that fools gives smaller perturbations on average.
    const mean = (v: Float64Array) => v.reduce((s, x) => s + x, 0) / v.length;
    expect(mean(r.linf)).to.be.below(mean(full.linf));
  });

  it("a diverging step size is reported as divergence, naming the settings", () => {
    const net = new Network([784, 10], { seed: 1, output: "identity" });
    expect(() => gradientAttack(net, images.subarray(0, 784), labels.subarray(0, 1), {
      steps: 2000, step: "gradient", stepSize: 1e300, clip: false, loss: "quadratic",
    })).to.throw(/the attack diverged: image 0 has pixel \d+ = (NaN|-?Infinity) after the loop \(stepSize 1e\+300/);
  });

  it("refuses bad options, naming each: eps < 0, fractional or huge steps, unknown names, targets outside the classes", () => {
    const base = { steps: 1, step: "sign" as const, stepSize: 0.1 };
    expect(() => gradientAttack(small, images, labels, { ...base, ball: "linf", eps: -0.1 })).to.throw(/eps must be >= 0, got -0.1/);
    expect(() => gradientAttack(small, images, labels, { ...base, steps: 2.5 })).to.throw(/steps must be a non-negative whole number, got 2.5/);
    expect(() => gradientAttack(small, images, labels, { ...base, steps: 2 ** 32 + 100 })).to.throw(/steps must be at most 2147483647, got 4294967396/);
    expect(() => gradientAttack(small, images, labels, { ...base, loss: "hinge" as never })).to.throw(/loss must be one of .* got "hinge"/);
    expect(() => gradientAttack(small, images, labels, { ...base, step: "adam" as never })).to.throw(/step must be "gradient", "sign" or "l2", got "adam"/);
    expect(() => gradientAttack(small, images, labels, { ...base, targets: new Array(n).fill(10) })).to.throw(/targets\[0\] must be a whole number from 0 to 9, got 10/);
    expect(() => gradientAttack(small, images, labels, { ...base, start: "uniform" })).to.throw(/start "uniform" needs a ball/);
    expect(() => gradientAttack(small, images, labels.subarray(0, 3), base)).to.throw(/labels holds 3 labels for 40 images/);
    expect(() => gradientAttack({} as never, images, labels, base)).to.throw(/model is not a Classifier: it lacks inputSize, classes, forward\(\), lossGradient\(\)/);
  });

  it("runs on any Classifier through the readable loop: a hand-written linear model is attacked like a Network", () => {
    const net = new Network([784, 10], { seed: 3, output: "identity", loss: "softmax-cross-entropy" });
    const wrapped = {
      inputSize: 784, classes: 10,
      forward: (x: ArrayLike<number>) => net.forward(x),
      lossGradient: (x: ArrayLike<number>, y: Uint8Array, loss: Parameters<typeof net.lossGradient>[2]) => net.lossGradient(x, y, loss),
    };
    const options = { steps: 5, step: "sign" as const, stepSize: 0.02, ball: "linf" as const, eps: 0.1, loss: "softmax-cross-entropy" as const };
    const a = gradientAttack(wrapped, images, labels, options);
    const b = gradientAttack(net, images, labels, options);
    const rng = createRng(0);
    for (let k = 0; k < 50; k++) {
      const q = rng.int(images.length);
      expect(a.images[q]).to.be.closeTo(b.images[q], 1e-3);
    }
  });
});
