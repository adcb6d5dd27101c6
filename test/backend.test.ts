import { expect } from "chai";
import { createRng, getThreads, loadMnist, setThreads } from "../dist";
import { nativeBackend, wasmBackend } from "../dist/kernels/backend";
import { nativeKernelsOrWhy } from "../dist/kernels/native";
import { interruptWork, InterruptedError } from "../dist/util/work";
import { referenceBackend } from "../dist/model/reference-backend";
import { fillUniformLinfStarts } from "../dist/model/starts";
import { runAsync, runSync } from "../dist/util/work";
import { CANCEL_FLAG } from "../dist/kernels/layout";
import { WASM_PATHS } from "../dist/kernels/wasm";
import { readFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import type {
  ActivationName, Ball, DenseModel, DescentProgram, LossSpec, StepRule, TrainingAdversary, TrainProgram,
} from "../dist/model/backend";

/**
 * Each kernel backend (float32 SIMD kernels: WebAssembly, and native when built) held to the
 * float64 reference backend, entry by entry, for every activation pair, loss, step rule, ball and clip, on small odd shapes and on the
 * article's [784, 30, 10] with real MNIST digits; and to itself across thread counts, bit for bit.
 *
 * Tolerances (float32 carries ~7 significant digits): forward 1e-5 relative to max(1, |a|);
 * loss values and gradients (and vjp) 1e-4 relative to the image's largest reference entry;
 * 10 descent steps 1e-4 on pixels, where sign steps are compared on the pixels whose reference
 * direction never came near 0 (a sign there is a coin toss between float32 and float64).
 * One epoch of sgd: 1e-4 on weights.
 */

/** The kernel backends built here: WebAssembly always, native when its module is built. */
const KERNEL_BACKENDS = nativeKernelsOrWhy().available ? [wasmBackend, nativeBackend] : [wasmBackend];

const ACTS: ActivationName[] = ["sigmoid", "relu", "identity"];
const LOSSES: LossSpec[] = [
  { name: "quadratic", kappa: 0, targeted: true },
  { name: "softmax-cross-entropy", kappa: 0, targeted: false },
  { name: "margin", kappa: 0, targeted: true },
  { name: "margin", kappa: 0.5, targeted: true },
  { name: "margin", kappa: 0, targeted: false },
  { name: "margin", kappa: 0.5, targeted: false },
];
const RULES: StepRule[] = ["gradient", "sign", "l2"];
const BALLS: Ball[] = ["none", "linf", "l2"];

const lossName = (l: LossSpec) => (l.name === "margin" ? `margin(${l.targeted ? "targeted" : "untargeted"}, kappa ${l.kappa})` : l.name);

/** A dense model with N(0, 2 / cols) weights and N(0, 0.1) biases: outputs neither saturated nor tiny. */
function randomModel(sizes: number[], activations: ActivationName[], seed: number): DenseModel {
  const rng = createRng(seed);
  return {
    sizes,
    activations,
    weights: sizes.slice(1).map((rows, l) => Float64Array.from({ length: rows * sizes[l] }, () => rng.normal(0, Math.sqrt(2 / sizes[l])))),
    biases: sizes.slice(1).map((rows) => Float64Array.from({ length: rows }, () => rng.normal(0, 0.1))),
  };
}

/** Every activation combination for a shape: hidden x output (one layer: output only). */
function activationSets(layers: number): ActivationName[][] {
  if (layers === 1) return ACTS.map((a) => [a]);
  return ACTS.flatMap((h) => ACTS.map((o) => [...Array(layers - 1).fill(h), o]));
}

function randomImages(n: number, d: number, seed: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: n * d }, () => rng.uniform());
}

function labelsFor(n: number, classes: number, seed: number): Uint8Array {
  const rng = createRng(seed);
  return Uint8Array.from({ length: n }, () => rng.int(classes));
}

function sameBits(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/** Largest |a - b| / scale over rows of `size`, scale = max(floor, largest |b| of the row). */
function worstRelative(a: ArrayLike<number>, b: ArrayLike<number>, size: number, floor: number): number {
  expect(a.length).to.equal(b.length);
  let worst = 0;
  for (let r = 0; r < a.length / size; r++) {
    let scale = floor, diff = 0;
    for (let p = r * size; p < (r + 1) * size; p++) {
      scale = Math.max(scale, Math.abs(b[p]));
      diff = Math.max(diff, Math.abs(a[p] - b[p]));
    }
    worst = Math.max(worst, diff / scale);
  }
  return worst;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).to.equal(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

function withThreads<T>(n: number, f: () => T): T {
  const before = getThreads();
  setThreads(n);
  try {
    return f();
  } finally {
    setThreads(before);
  }
}

/** The shapes of the table: small odd ones on uniform noise, the article's on MNIST test digits. */
interface Case { sizes: number[]; images: (n: number, seed: number) => Float32Array }
const mnist = loadMnist();
const CASES: Case[] = [
  { sizes: [13, 7, 5], images: (n, seed) => randomImages(n, 13, seed) },
  { sizes: [9, 4], images: (n, seed) => randomImages(n, 9, seed) },
  { sizes: [784, 30, 10], images: (n, seed) => Float32Array.from(mnist.test.images.subarray(seed * 784, (seed + n) * 784)) },
];

/** A program whose starts are an array (the form these comparisons read back). */
type ArrayProgram = DescentProgram & { starts: Float32Array | Float64Array };

function program(c: Case, n: number, loss: LossSpec, step: StepRule, ball: Ball, clip: boolean, seed: number, extra: Partial<ArrayProgram> = {}): ArrayProgram {
  const classes = c.sizes[c.sizes.length - 1];
  const origins = c.images(n, seed);
  // Starts: the clean images moved a little (inside every ball used here), so balls and clips bite.
  const rng = createRng(seed + 1);
  const starts = origins.map((v) => v + rng.uniform() * 0.04 - 0.02);
  const stepSize = step === "gradient" ? 0.05 : step === "sign" ? 0.01 : 0.1;
  return {
    starts, labels: labelsFor(n, classes, seed + 2), loss, steps: 10, step, stepSize,
    priorTargets: null, lam: 0, origins: ball === "none" ? null : origins, ball, eps: ball === "l2" ? 0.3 : 0.05, clip, earlyStop: false,
    ...extra,
  };
}

/**
 * Pixels whose reference direction never came within `tol` of 0 (relative to the image's
 * largest entry) over the run's steps: there a float32 sign step equals the float64 one.
 */
function signSafePixels(model: DenseModel, p: ArrayProgram, tol: number): Uint8Array {
  const d = model.sizes[0];
  const n = p.labels.length;
  const safe = new Uint8Array(n * d).fill(1);
  let x = Float64Array.from(p.starts);
  for (let s = 0; s < p.steps; s++) {
    const { gradient } = referenceBackend.lossGradient(model, x, p.labels, p.loss);
    for (let i = 0; i < n; i++) {
      let big = 0;
      for (let q = 0; q < d; q++) big = Math.max(big, Math.abs(gradient[i * d + q]));
      for (let q = 0; q < d; q++) if (Math.abs(gradient[i * d + q]) <= tol * big) safe[i * d + q] = 0;
    }
    x = Float64Array.from(runSync(referenceBackend.descend(model, { ...p, starts: Float32Array.from(x), steps: 1 })).images);
  }
  return safe;
}

for (const under of KERNEL_BACKENDS) {
  describe(`${under.name}Backend against the float64 reference backend`, () => {
    for (const c of CASES) {
      const name = JSON.stringify(c.sizes);
      const d = c.sizes[0], classes = c.sizes[c.sizes.length - 1];
      const sets = activationSets(c.sizes.length - 1);

      it(`forward agrees within 1e-5 for every activation combination on ${name}, batches of 1, 6 and 9`, () => {
        for (const acts of sets) {
          const model = randomModel(c.sizes, acts, 1);
          for (const n of [1, 6, 9]) {
            const images = c.images(n, n);
            expect(worstRelative(under.forward(model, images), referenceBackend.forward(model, images), classes, 1), `${acts} n=${n}`).to.be.below(1e-5);
          }
        }
      });

      it(`lossGradient agrees within 1e-4 (loss and gradient) for every activation combination and loss on ${name}`, () => {
        const n = 9;
        const images = c.images(n, 3);
        for (const acts of sets) {
          const model = randomModel(c.sizes, acts, 2);
          for (const loss of LOSSES) {
            const labels = labelsFor(n, classes, 4);
            const fast = under.lossGradient(model, images, labels, loss);
            const ref = referenceBackend.lossGradient(model, images, labels, loss);
            const what = `${acts} ${lossName(loss)}`;
            expect(worstRelative(fast.loss, ref.loss, 1, 1), what).to.be.below(1e-4);
            expect(worstRelative(fast.gradient, ref.gradient, d, 1e-6), what).to.be.below(1e-4);
          }
        }
      });

      it(`vjp agrees within 1e-4 for every activation combination on ${name}`, () => {
        const n = 6;
        const images = c.images(n, 5);
        const rng = createRng(6);
        const cot = Float64Array.from({ length: n * classes }, () => rng.normal());
        for (const acts of sets) {
          const model = randomModel(c.sizes, acts, 3);
          expect(worstRelative(under.vjp(model, images, cot), referenceBackend.vjp(model, images, cot), d, 1e-6), `${acts}`).to.be.below(1e-4);
        }
      });

      it(`10 descent steps agree within 1e-4 for every activation combination, loss, step rule, ball and clip on ${name}`, () => {
        const n = 5;
        let compared = 0, skipped = 0;
        for (const acts of sets) {
          const model = randomModel(c.sizes, acts, 4);
          for (const loss of LOSSES) for (const step of RULES) for (const ball of BALLS) for (const clip of [false, true]) {
            const p = program(c, n, loss, step, ball, clip, 7);
            const fast = runSync(under.descend(model, p));
            const ref = runSync(referenceBackend.descend(model, p));
            const safe = step === "sign" ? signSafePixels(model, p, 1e-3) : new Uint8Array(n * d).fill(1);
            const what = `${acts} ${lossName(loss)} ${step} ${ball} clip=${clip}`;
            let worst = 0, at = -1;
            for (let q = 0; q < n * d; q++) {
              if (!safe[q]) { skipped++; continue; }
              compared++;
              const diff = Math.abs(fast.images[q] - ref.images[q]);
              if (diff > worst) { worst = diff; at = q; }
            }
            expect(worst, `${what} pixel ${at}`).to.be.below(1e-4);
            expect(Array.from(fast.stepsUsed), what).to.deep.equal(Array.from(ref.stepsUsed));
          }
        }
        // Most pixels are compared (the skipped ones include every pixel of a clamped margin, whose direction is 0).
        expect(compared).to.be.above(2 * skipped);
      });

      it(`the article's attacks (gradient steps, the ridge prior) and early stop agree with the reference on ${name}`, () => {
        const n = 7;
        for (const acts of sets) {
          const model = randomModel(c.sizes, acts, 5);
          const prior = c.images(n, 11);
          for (const loss of LOSSES) {
            const p = program(c, n, loss, "gradient", "none", false, 9, { priorTargets: prior, lam: 0.05 });
            expect(maxAbsDiff(runSync(under.descend(model, p)).images, runSync(referenceBackend.descend(model, p)).images), `${acts} ${lossName(loss)} prior`).to.be.below(1e-4);
            const e = program(c, n, loss, "sign", "linf", true, 9, { earlyStop: true, steps: 10, stepSize: 0.05, eps: 0.3 });
            const fast = runSync(under.descend(model, e));
            const ref = runSync(referenceBackend.descend(model, e));
            expect(Array.from(fast.stepsUsed), `${acts} ${lossName(loss)} early stop`).to.deep.equal(Array.from(ref.stepsUsed));
          }
        }
      });
    }

    it("draws uniform L-inf starts in the kernels bit for bit as JavaScript does (every chunk and thread, float32), and descends from them as the reference does", () => {
      const sizes = [784, 30, 10];
      const model = randomModel(sizes, ["relu", "identity"], 21);
      // 700 images: several chunks (the first ones small), so chunks and threads start mid-stream.
      const n = 700, d = 784;
      const origins = Float32Array.from(mnist.test.images.subarray(0, n * d));
      const labels = mnist.test.labels.subarray(0, n);
      const stream = createRng(5);
      stream.uniform();
      const starts = { kind: "uniform-linf" as const, state: stream.claimUniforms(n * d), eps: 0.1 };
      const expected = new Float32Array(n * d);
      fillUniformLinfStarts(starts, 0, origins, expected, d);
      const base: DescentProgram = {
        starts, labels, loss: LOSSES[1], steps: 0, step: "sign", stepSize: 0.01, priorTargets: null, lam: 0,
        origins, ball: "linf", eps: 0.1, clip: true, earlyStop: false,
      };
      for (const threads of [1, 2]) {
        const drawn = withThreads(threads, () => runSync(under.descend(model, base)).images);
        expect(sameBits(drawn, expected), `${threads} thread(s)`).to.equal(true);
      }
      // The same numbers as drawing from the stream one uniform at a time (the original formula).
      const rng = createRng(5);
      rng.uniform();
      const direct = Float32Array.from(origins, (c) => Math.min(1, Math.max(0, c + 0.1 * (2 * rng.uniform() - 1))));
      expect(sameBits(direct, expected)).to.equal(true);
      expect(stream.uniform()).to.equal(rng.uniform());
      // Some pixels clipped at 0 and 1, the rest moved by less than eps.
      expect(expected.some((x, i) => x === 0 && origins[i] < 0.1 && origins[i] > 0)).to.equal(true);
      expect(expected.some((x, i) => x === 1 && origins[i] < 1)).to.equal(true);
      const steps = { ...base, steps: 5, origins: origins.subarray(0, 40 * d), labels: labels.subarray(0, 40) };
      expect(maxAbsDiff(runSync(under.descend(model, steps)).images, runSync(referenceBackend.descend(model, steps)).images)).to.be.below(1e-4);
    });

    it("descent through an input threshold (BPDA) agrees with the reference: the network sees the binarised image, pixels that cross 0.5 flip what it sees", () => {
      // Pixels start at 0.1, 0.3, 0.45, 0.55, 0.7 or 0.9 and move by sign steps of 0.03 (clipped at 0 and 1):
      // they cross 0.5 but never come within 0.01 of it, so float32 and float64 see the same binary images.
      const sizes = [13, 7, 5];
      const model = randomModel(sizes, ["relu", "identity"], 12);
      const rng = createRng(13);
      const levels = [0.1, 0.3, 0.45, 0.55, 0.7, 0.9];
      const n = 9;
      const starts = Float32Array.from({ length: n * 13 }, () => levels[rng.int(levels.length)]);
      const base: ArrayProgram = {
        starts, labels: labelsFor(n, 5, 14), loss: LOSSES[1], steps: 3, step: "sign", stepSize: 0.03, priorTargets: null, lam: 0,
        origins: null, ball: "none", eps: 0, clip: true, earlyStop: false, inputThreshold: 0.5,
      };
      const fast = runSync(under.descend(model, base)), ref = runSync(referenceBackend.descend(model, base));
      expect(maxAbsDiff(fast.images, ref.images)).to.be.below(1e-6);
      // The same steps without the threshold go elsewhere: the gradient is taken at the binarised image.
      const plain = runSync(referenceBackend.descend(model, { ...base, inputThreshold: null }));
      expect(maxAbsDiff(plain.images, ref.images)).to.be.above(0.01);
      // Early stop judges the binarised image too.
      const early = { ...base, steps: 12, earlyStop: true, loss: LOSSES[4] };
      const a = runSync(under.descend(model, early)), b = runSync(referenceBackend.descend(model, early));
      expect(Array.from(a.stepsUsed)).to.deep.equal(Array.from(b.stepsUsed));
    });

    it("sgd agrees with the reference within 1e-4 after one epoch of 300 examples in mini-batches of 7: softmax cross-entropy on ReLU, quadratic on sigmoid and on ReLU, on [784, 30, 10], [13, 7, 5] and [9, 4]", () => {
      for (const sizes of [[784, 30, 10], [13, 7, 5], [9, 4]]) {
        const d = sizes[0], classes = sizes[sizes.length - 1];
        const n = 300;
        const images = d === 784 ? Float32Array.from(mnist.training.images.subarray(0, n * d)) : randomImages(n, d, 8);
        for (const [acts, loss] of [[sizes.length === 2 ? ["identity"] : ["relu", "identity"], "softmax-cross-entropy"],
          [sizes.map(() => "sigmoid").slice(1), "quadratic"], [sizes.length === 2 ? ["relu"] : ["relu", "sigmoid"], "quadratic"]] as [ActivationName[], "quadratic"][]) {
          const fast = randomModel(sizes, acts, 6), ref = randomModel(sizes, acts, 6);
          const prog: TrainProgram = {
            images, labels: labelsFor(n, classes, 9), epochs: 1, miniBatchSize: 7, eta: 0.1, loss, seed: 3, test: null, adversary: null,
          };
          runSync(under.train(fast, prog));
          runSync(referenceBackend.train(ref, prog));
          ref.weights.forEach((w, l) => expect(maxAbsDiff(fast.weights[l], w), `${sizes} ${acts} ${loss} W${l}`).to.be.below(1e-4));
          ref.biases.forEach((b, l) => expect(maxAbsDiff(fast.biases[l], b), `${sizes} ${acts} ${loss} b${l}`).to.be.below(1e-4));
        }
      }
    });

    it("adversarial training (5 gradient steps in the loop) agrees with the reference within 1e-4 after one epoch of 60 examples", () => {
      const sizes = [784, 30, 10];
      const n = 60;
      const images = Float32Array.from(mnist.training.images.subarray(0, n * 784));
      const adversary = (seed: number): TrainingAdversary => {
        const rng = createRng(seed);
        return {
          fillStarts(clean, starts) { for (let i = 0; i < clean.length; i++) starts[i] = clean[i] + (rng.uniform() - 0.5) * 0.02; },
          loss: { name: "softmax-cross-entropy", kappa: 0, targeted: false }, steps: 5, step: "gradient", stepSize: 0.01,
          ball: "linf", eps: 0.1, clip: true,
        };
      };
      const fast = randomModel(sizes, ["relu", "identity"], 7), ref = randomModel(sizes, ["relu", "identity"], 7);
      const prog = (seed: number): TrainProgram => ({
        images, labels: mnist.training.labels.subarray(0, n), epochs: 1, miniBatchSize: 10, eta: 0.1, loss: "softmax-cross-entropy",
        seed: 2, test: null, adversary: adversary(seed),
      });
      runSync(under.train(fast, prog(1)));
      runSync(referenceBackend.train(ref, prog(1)));
      ref.weights.forEach((w, l) => expect(maxAbsDiff(fast.weights[l], w), `W${l}`).to.be.below(1e-4));
      ref.biases.forEach((b, l) => expect(maxAbsDiff(fast.biases[l], b), `b${l}`).to.be.below(1e-4));
    });

    it("train reports each epoch with the test images the epoch's weights classify right", () => {
      const sizes = [784, 30, 10];
      const model = randomModel(sizes, ["relu", "identity"], 8);
      const reports: { epoch: number; correct?: number }[] = [];
      const test = { images: mnist.test.images.subarray(0, 500 * 784), labels: mnist.test.labels.subarray(0, 500) };
      runSync(under.train(model, {
        images: mnist.training.images.subarray(0, 2000 * 784), labels: mnist.training.labels.subarray(0, 2000), epochs: 2,
        miniBatchSize: 20, eta: 0.1, loss: "softmax-cross-entropy", seed: 1, test, adversary: null, onEpoch: (r) => reports.push(r),
      }));
      expect(reports.map((r) => r.epoch)).to.deep.equal([1, 2]);
      const out = referenceBackend.forward(model, test.images);
      let right = 0;
      for (let i = 0; i < 500; i++) {
        let best = 0;
        for (let j = 1; j < 10; j++) if (out[i * 10 + j] > out[i * 10 + best]) best = j;
        if (best === test.labels[i]) right++;
      }
      expect(right).to.be.above(300);
      expect(Math.abs(reports[1].correct! - right)).to.be.at.most(2);
    });
  });
}

describe("wasmBackend in a fresh process", () => {
  // Each child trains a ReLU network with softmax cross-entropy (PGD in the loop for one epoch),
  // attacks with PGD L2 and early stop, takes margin gradients, then prints its build and a hash.
  const dist = join(__dirname, "..", "dist");
  const script = `
    const { setThreads, createRng, loadMnist, kernelVariant } = require(${JSON.stringify(dist)});
    const { wasmBackend } = require(${JSON.stringify(join(dist, "kernels", "backend"))});
    const { runSync } = require(${JSON.stringify(join(dist, "util", "work"))});
    const { createHash } = require("node:crypto");
    setThreads(Number(process.env.THREADS));
    const { training } = loadMnist();
    const rng = createRng(1);
    const sizes = [784, 30, 10];
    const model = { sizes, activations: ["relu", "identity"],
      weights: [Float64Array.from({ length: 23520 }, () => rng.normal(0, 0.05)), Float64Array.from({ length: 300 }, () => rng.normal(0, 0.2))],
      biases: [new Float64Array(30), new Float64Array(10)] };
    const n = 90, images = Float32Array.from(training.images.subarray(0, n * 784)), labels = training.labels.subarray(0, n);
    const loss = { name: "softmax-cross-entropy", kappa: 0, targeted: false };
    const r2 = createRng(2);
    runSync(wasmBackend.train(model, { images, labels, epochs: 2, miniBatchSize: 9, eta: 0.1, loss: loss.name, seed: 1, test: null,
      adversary: { fillStarts(c, s) { for (let i = 0; i < c.length; i++) s[i] = c[i] + (r2.uniform() - 0.5) * 0.1; },
        loss, steps: 3, step: "sign", stepSize: 0.02, ball: "linf", eps: 0.05, clip: true } }));
    const a = runSync(wasmBackend.descend(model, { starts: images, labels, loss, steps: 8, step: "l2", stepSize: 0.3,
      priorTargets: null, lam: 0, origins: images, ball: "l2", eps: 1, clip: true, earlyStop: true }));
    const g = wasmBackend.lossGradient(model, images, labels, { name: "margin", kappa: 0.5, targeted: true });
    const h = createHash("sha256");
    for (const v of [...model.weights, ...model.biases, a.images, a.stepsUsed, g.gradient, g.loss]) h.update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    console.log(JSON.stringify({ variant: kernelVariant(), hash: h.digest("hex") }));`;
  const run = (flag: string, simd: string, threads: number) =>
    JSON.parse(execFileSync(process.execPath, [flag, "-e", script], { encoding: "utf8", env: { ...process.env, ADVLAB_BACKEND: "wasm", ADVLAB_SIMD: simd, THREADS: String(threads) } }));

  for (const simd of ["plain", "fma"]) {
    it(`the ${simd} build gives the same bits for ReLU/softmax training with an adversary, PGD L2 with early stop and margin gradients, with 1 and 2 threads, under Node's baseline and optimizing wasm compilers`, () => {
      const baseline = run("--liftoff-only", simd, 2);
      expect(baseline.variant).to.equal(simd);
      expect(run("--no-liftoff", simd, 2).hash).to.equal(baseline.hash);
      expect(run("--no-liftoff", simd, 1).hash).to.equal(baseline.hash);
    });
  }
});

for (const under of KERNEL_BACKENDS) {
  describe(`${under.name}Backend gives the same bits with 1 and 2 threads`, () => {
    const sizes = [784, 30, 10];
    const model = randomModel(sizes, ["relu", "identity"], 9);
    const sigmoidModel = randomModel([13, 7, 5], ["sigmoid", "sigmoid"], 9);
    const images = Float32Array.from(mnist.test.images.subarray(0, 23 * 784));
    const labels = mnist.test.labels.subarray(0, 23);

    it("for forward, lossGradient (every loss) and vjp on 23 images", () => {
      const run = () => {
        const parts: ArrayBufferView[] = [under.forward(model, images), under.forward(sigmoidModel, randomImages(23, 13, 1))];
        for (const loss of LOSSES) {
          const g = under.lossGradient(model, images, labels, loss);
          parts.push(g.loss, g.gradient);
        }
        parts.push(under.vjp(model, images, Float64Array.from({ length: 230 }, (_, i) => Math.sin(i))));
        return parts;
      };
      const one = withThreads(1, run), two = withThreads(2, run);
      one.forEach((p, i) => expect(sameBits(p, two[i]), `part ${i}`).to.equal(true));
    });

    it("for the descent loop with every step rule and ball, the prior and early stop", () => {
      const c = CASES[2];
      const run = () => {
        const parts: ArrayBufferView[] = [];
        for (const step of RULES) for (const ball of BALLS) {
          const r = runSync(under.descend(model, program(c, 23, LOSSES[1], step, ball, true, 13, { steps: 12, earlyStop: ball === "linf" })));
          parts.push(r.images, r.stepsUsed);
        }
        const prior = c.images(23, 40);
        parts.push(runSync(under.descend(model, program(c, 23, LOSSES[0], "gradient", "none", false, 13, { priorTargets: prior, lam: 0.05 }))).images);
        return parts;
      };
      const one = withThreads(1, run), two = withThreads(2, run);
      one.forEach((p, i) => expect(sameBits(p, two[i]), `part ${i}`).to.equal(true));
    });

    it("for sgd (softmax cross-entropy, ReLU, mini-batches of 7; one-layer and small networks too) and adversarial training (PGD in the loop)", () => {
      const n = 150;
      const data = Float32Array.from(mnist.training.images.subarray(0, n * 784));
      const run = (adversarial: boolean) => {
        const m = randomModel(sizes, ["relu", "identity"], 10);
        const rng = createRng(4);
        runSync(under.train(m, {
          images: data, labels: mnist.training.labels.subarray(0, n), epochs: 2, miniBatchSize: 7, eta: 0.1,
          loss: "softmax-cross-entropy", seed: 5, test: null,
          adversary: adversarial ? {
            fillStarts(clean, starts) { for (let i = 0; i < clean.length; i++) starts[i] = clean[i] + (rng.uniform() - 0.5) * 0.2; },
            loss: { name: "softmax-cross-entropy", kappa: 0, targeted: false }, steps: 7, step: "sign", stepSize: 0.02, ball: "linf", eps: 0.1, clip: true,
          } : null,
        }));
        return Float64Array.from([...m.weights.flatMap((w) => Array.from(w)), ...m.biases.flatMap((b) => Array.from(b))]);
      };
      for (const adversarial of [false, true]) {
        expect(sameBits(withThreads(1, () => run(adversarial)), withThreads(2, () => run(adversarial))), `adversarial ${adversarial}`).to.equal(true);
      }
      // One layer: softmax cross-entropy needs the whole output row, so the threads meet there too.
      for (const [small, acts, loss] of [[[9, 4], ["identity"], "softmax-cross-entropy"], [[9, 4], ["sigmoid"], "quadratic"],
        [[13, 7, 5], ["sigmoid", "relu"], "softmax-cross-entropy"]] as [number[], ActivationName[], "quadratic"][]) {
        const runSmall = () => {
          const m = randomModel(small, acts, 11);
          runSync(under.train(m, {
            images: randomImages(101, small[0], 3), labels: labelsFor(101, small[small.length - 1], 4), epochs: 2, miniBatchSize: 6,
            eta: 0.5, loss, seed: 2, test: null, adversary: null,
          }));
          return Float64Array.from([...m.weights.flatMap((w) => Array.from(w)), ...m.biases.flatMap((b) => Array.from(b))]);
        };
        expect(sameBits(withThreads(1, runSmall), withThreads(2, runSmall)), `${small} ${acts} ${loss}`).to.equal(true);
      }
    });
  });
}

/** [start, end) of every active data segment of a wasm module (its static data in memory). */
function dataSegments(bytes: Uint8Array): [number, number][] {
  let at = 8;
  const leb = () => { let v = 0, shift = 0, b = 0; do { b = bytes[at++]; v += (b & 0x7f) * 2 ** shift; shift += 7; } while (b & 0x80); return v; };
  const out: [number, number][] = [];
  while (at < bytes.length) {
    const id = bytes[at++];
    const size = leb();
    const end = at + size;
    if (id === 11) {
      for (let k = leb(); k > 0; k--) {
        const flags = leb();
        expect(flags, "an active segment at an i32.const offset").to.equal(0);
        expect(bytes[at++]).to.equal(0x41); // i32.const
        const offset = leb();
        expect(bytes[at++]).to.equal(0x0b); // end
        const length = leb();
        out.push([offset, offset + length]);
        at += length;
      }
    }
    at = end;
  }
  return out;
}

describe("wasmBackend's memory", () => {
  it("the cancel word lies below the arena and above the static data of both kernel builds", () => {
    expect(CANCEL_FLAG + 4).to.be.at.most(65536);
    for (const path of Object.values(WASM_PATHS)) {
      const segments = dataSegments(readFileSync(path));
      expect(segments.length).to.be.above(0);
      for (const [, end] of segments) expect(end, path).to.be.at.most(CANCEL_FLAG);
    }
  });
});

for (const under of KERNEL_BACKENDS) describe(`${under.name}Backend checks and interrupts`, () => {

  it("refuses weights or biases that are not finite as float32, naming the layer and index", () => {
    const model = randomModel([13, 7, 5], ["relu", "identity"], 1);
    (model.weights[1] as Float64Array)[8] = 1e39;
    expect(() => under.forward(model, randomImages(1, 13, 1))).to.throw(/weights\[1\]\[8\] is 1e\+39, not a finite float32/);
    const other = randomModel([13, 7, 5], ["relu", "identity"], 1);
    (other.biases[0] as Float64Array)[3] = NaN;
    expect(() => under.forward(other, randomImages(1, 13, 1))).to.throw(/biases\[0\]\[3\] is NaN/);
  });

  it("a label past the classes reads no memory outside its row (the loss is still finite)", () => {
    const model = randomModel([13, 7, 5], ["relu", "identity"], 1);
    for (const loss of LOSSES) {
      const g = under.lossGradient(model, randomImages(3, 13, 1), Uint8Array.from([255, 5, 0]), loss);
      expect(Array.from(g.loss).every(Number.isFinite)).to.equal(true);
    }
  });

  it("setting the cancel word makes a long attack return promptly with InterruptedError, and the next call runs", async () => {
    const model = randomModel([784, 100, 10], ["relu", "identity"], 2);
    const c = CASES[2];
    const p = program(c, 2000, LOSSES[1], "sign", "linf", true, 0, { steps: 2000 });
    const started = performance.now();
    const timer = setTimeout(() => interruptWork(), 100);
    let error: unknown = null;
    try {
      await runAsync(() => under.descend(model, p));
    } catch (e) {
      error = e;
    } finally {
      clearTimeout(timer);
    }
    const seconds = (performance.now() - started) / 1000;
    expect(error).to.be.instanceOf(InterruptedError);
    // The whole run would take about 2000 x 2000 x 4.5 us = 18 s.
    expect(seconds).to.be.below(2);
    const after = runSync(under.descend(model, { ...p, steps: 2, starts: p.starts.subarray(0, 784), labels: p.labels.subarray(0, 1), origins: p.origins!.subarray(0, 784) }));
    expect(after.stepsUsed[0]).to.equal(2);
  });

  it("setting the cancel word makes a long sgd return promptly with InterruptedError", async () => {
    const model = randomModel([784, 100, 10], ["relu", "identity"], 3);
    const before = Float64Array.from(model.weights[0]);
    const timer = setTimeout(() => interruptWork(), 100);
    const started = performance.now();
    let error: unknown = null;
    try {
      await runAsync(() => under.train(model, {
        images: mnist.training.images, labels: mnist.training.labels, epochs: 3, miniBatchSize: 10, eta: 0.1,
        loss: "softmax-cross-entropy", seed: 1, test: null, adversary: null,
      }));
    } catch (e) {
      error = e;
    } finally {
      clearTimeout(timer);
    }
    expect(error).to.be.instanceOf(InterruptedError);
    expect((performance.now() - started) / 1000).to.be.below(3);
    // Interrupted inside the first epoch: the model keeps its weights.
    expect(sameBits(model.weights[0], before)).to.equal(true);
  });
});
