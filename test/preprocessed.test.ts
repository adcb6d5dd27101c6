import { expect } from "chai";
import { accuracyOf, binaryThreshold, loadMnist, lossSpec, Network, pgd, preprocessed } from "../dist";
import { COMMITTED_PATH } from "./support/reference";

describe("preprocessed: a transform, then a model, as one Classifier", () => {
  const { test } = loadMnist();
  const n = 200;
  const images = test.images.subarray(0, n * 784);
  const labels = test.labels.subarray(0, n);
  const net = Network.load(COMMITTED_PATH);

  it("forward is the model's forward of the transformed images", () => {
    const defended = preprocessed(net, binaryThreshold, { gradient: "straight-through" });
    expect(Array.from(defended.forward(images.subarray(0, 784 * 3)))).to.deep.equal(Array.from(net.forward(binaryThreshold(images.subarray(0, 784 * 3)))));
  });

  it("the exact gradient through binary thresholding is zero everywhere: the masked gradient a naive attacker sees", () => {
    const exact = preprocessed(net, binaryThreshold);
    const g = exact.lossGradient(images.subarray(0, 784 * 5), labels.subarray(0, 5), lossSpec("margin"));
    expect(Array.from(g.gradient).every((v) => v === 0)).to.equal(true);
  });

  it("straight-through (BPDA) passes the gradient at the thresholded image back unchanged", () => {
    const bpda = preprocessed(net, binaryThreshold, { gradient: "straight-through" });
    const x = images.subarray(0, 784 * 2);
    const g = bpda.lossGradient(x, labels.subarray(0, 2), lossSpec("margin"));
    const direct = net.lossGradient(binaryThreshold(x), labels.subarray(0, 2), lossSpec("margin"));
    expect(Array.from(g.gradient)).to.deep.equal(Array.from(direct.gradient));
  });

  it("PGD through the exact (zero) gradient leaves the defended accuracy where it was; through BPDA it drops it", () => {
    const exact = preprocessed(net, binaryThreshold);
    const bpda = preprocessed(net, binaryThreshold, { gradient: "straight-through" });
    const clean = accuracyOf(exact, images, labels);
    const masked = accuracyOf(exact, pgd(exact, images, labels, { eps: 0.3, steps: 20, randomStart: false }).images, labels);
    const adaptive = accuracyOf(exact, pgd(bpda, images, labels, { eps: 0.3, steps: 20, seed: 1 }).images, labels);
    expect(masked).to.equal(clean);
    expect(adaptive).to.be.below(clean - 0.2);
  });

  it("PGD through BPDA on binary thresholding runs in the fused kernels (no per-step gradient calls) and agrees with the readable loop", () => {
    const bpda = preprocessed(net, binaryThreshold, { gradient: "straight-through" });
    expect(bpda.thresholded!()).to.deep.include({ threshold: 0.5 });
    let calls = 0;
    const counted = { ...bpda, lossGradient: (...a: Parameters<typeof bpda.lossGradient>) => { calls++; return bpda.lossGradient(...a); } };
    const options = { eps: 0.3, steps: 50, loss: "margin" as const, seed: 3, earlyStop: true };
    const fused = pgd(counted, images, labels, options);
    expect(calls).to.equal(0);
    // The same composition without `thresholded`: the readable float64 loop, one gradient call per step.
    const readable = { inputSize: bpda.inputSize, classes: bpda.classes, forward: bpda.forward, lossGradient: bpda.lossGradient };
    const slow = pgd(readable, images, labels, options);
    const rate = (s: Uint8Array) => s.reduce((a, v) => a + v, 0) / s.length;
    expect(rate(fused.success)).to.be.above(0.3);
    expect(Math.abs(rate(fused.success) - rate(slow.success))).to.be.at.most(0.02);
    // Only straight-through thresholding at 0.5 is fused: the exact gradient and other transforms are not.
    expect(preprocessed(net, binaryThreshold).thresholded!()).to.equal(null);
    expect(preprocessed(net, (x) => x, { gradient: "straight-through" }).thresholded!()).to.equal(null);
  });

  it("a caller's gradient rule is used as given", () => {
    const doubled = preprocessed(net, binaryThreshold, { gradient: (_x, g) => Float64Array.from(g, (v) => 2 * v) });
    const x = images.subarray(0, 784);
    const a = doubled.lossGradient(x, labels.subarray(0, 1), lossSpec("quadratic")).gradient;
    const b = net.lossGradient(binaryThreshold(x), labels.subarray(0, 1), lossSpec("quadratic")).gradient;
    a.forEach((v, i) => expect(v).to.equal(2 * b[i]));
  });

  it("refuses an exact gradient for a transform without a backward rule, and a transform that changes the shape", () => {
    const blur = (x: ArrayLike<number>) => Float64Array.from(x);
    expect(() => preprocessed(net, blur)).to.throw(/gradient "exact" needs a transform with a backward\(images, gradOut\) rule; blur has none/);
    const cut = preprocessed(net, (x: ArrayLike<number>) => Float64Array.from(x).subarray(1), { gradient: "straight-through" });
    expect(() => cut.forward(images.subarray(0, 784))).to.throw(/transform returned 783 numbers for 784; it must keep the images' shape/);
  });
});
