import { expect } from "chai";
import { nativeIsaLevels } from "./support/native";
import { nativeKernelsOrWhy } from "../dist/kernels/native";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import {
  adversarial, adversarialBatch, createRng, feedforwardBatch, getThreads, makeDataset, Network, setThreads,
  sneakyAdversarial, sneakyAdversarialBatch,
} from "../dist";

/**
 * The SIMD kernels held to the float64 reference on random shapes (sizes not divisible by the
 * SIMD width of 4 included), and to themselves across thread counts, bit for bit.
 *
 * Tolerances: float32 carries ~7 significant digits. One forward pass: 1e-5 absolute on
 * activations. Attacks of 10 steps: 1e-4 on pixels (longer runs are chaotic: even the float64
 * reference moves by ~0.1 when its start is rounded to float32, so 100-step runs are compared
 * by their outcomes instead, in test/batch.test.ts). One epoch of sgd: 1e-4 on weights.
 */

const SHAPES = [[13, 7, 3], [784, 30, 10], [50, 17, 5, 10], [9, 4]];

function randomImages(n: number, size: number, seed: number): Float64Array {
  const rng = createRng(seed);
  return Float64Array.from({ length: n * size }, () => rng.uniform());
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).to.equal(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

function sameBits(a: Float32Array, b: Float32Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/** Runs `f` with 1 thread and with 2, and gives both results. */
function withOneAndTwoThreads<T>(f: () => T): [T, T] {
  const before = getThreads();
  try {
    setThreads(1);
    const one = f();
    setThreads(2);
    const two = f();
    return [one, two];
  } finally {
    setThreads(before);
  }
}

function netWeights(net: Network): Float32Array {
  return Float32Array.from([...net.weights.flatMap((w) => Array.from(w)), ...net.biases.flatMap((b) => Array.from(b))]);
}

describe("kernels", () => {
  for (const sizes of SHAPES) {
    describe(`network ${JSON.stringify(sizes)}`, () => {
      const net = new Network(sizes, { seed: 3 });
      const size = sizes[0];
      const outSize = sizes[sizes.length - 1];

      it("feedforwardBatch agrees with feedforward within 1e-5 for batches of 1, 6 and 9", () => {
        for (const n of [1, 6, 9]) {
          const images = randomImages(n, size, n);
          const out = feedforwardBatch(net, images);
          expect(out.length).to.equal(n * outSize);
          for (let i = 0; i < n; i++) {
            const ref = net.feedforward(images.subarray(i * size, (i + 1) * size));
            expect(maxAbsDiff(out.subarray(i * outSize, (i + 1) * outSize), ref)).to.be.below(1e-5);
          }
        }
      });

      it("feedforwardBatch gives an image the same bits alone as inside a batch, with 1 or 2 threads", () => {
        const images = randomImages(11, size, 7);
        const [one, two] = withOneAndTwoThreads(() => feedforwardBatch(net, images));
        expect(sameBits(one, two)).to.equal(true);
        const alone = feedforwardBatch(net, images.subarray(5 * size, 6 * size));
        expect(sameBits(alone, one.subarray(5 * outSize, 6 * outSize))).to.equal(true);
      });

      it("sneakyAdversarialBatch of one goal agrees with sneakyAdversarial within 1e-4 after 10 steps", () => {
        const target = randomImages(1, size, 11);
        for (const goal of [0, outSize - 1]) {
          const ref = sneakyAdversarial(net, goal, target, 10, 1, 0.05, { seed: 4 });
          const fast = sneakyAdversarialBatch(net, [goal], target, 10, 1, 0.05, { seed: 4 });
          expect(maxAbsDiff(fast, ref)).to.be.below(1e-4);
        }
      });

      it("adversarialBatch of one goal agrees with adversarial within 1e-4 after 10 steps", () => {
        const ref = adversarial(net, 1, 10, 1, { seed: 8 });
        const fast = adversarialBatch(net, [1], 10, 1, { seed: 8 });
        expect(maxAbsDiff(fast, ref)).to.be.below(1e-4);
      });

      it("attacks on 13 images give the same bits with 1 and 2 threads", () => {
        const goals = Array.from({ length: 13 }, (_, i) => i % outSize);
        const targets = randomImages(13, size, 12);
        const [one, two] = withOneAndTwoThreads(() => sneakyAdversarialBatch(net, goals, targets, 15, 1, 0.05, { seed: 2 }));
        expect(sameBits(one, two)).to.equal(true);
        const [a1, a2] = withOneAndTwoThreads(() => adversarialBatch(net, goals, 15, 1, { seed: 2 }));
        expect(sameBits(a1, a2)).to.equal(true);
      });

      it("sgd agrees with sgdReference within 1e-4 after one epoch of 203 examples", () => {
        const n = 203;
        const rng = createRng(5);
        const data = makeDataset(randomImages(n, size, 6), Uint8Array.from({ length: n }, () => rng.int(outSize)), size);
        const ref = new Network(sizes, { seed: 1 });
        const fast = new Network(sizes, { seed: 1 });
        ref.sgdReference(data, 1, 10, 3.0, { seed: 9 });
        fast.sgd(data, 1, 10, 3.0, { seed: 9 });
        ref.weights.forEach((w, l) => expect(maxAbsDiff(fast.weights[l], w)).to.be.below(1e-4));
        ref.biases.forEach((b, l) => expect(maxAbsDiff(fast.biases[l], b)).to.be.below(1e-4));
      });

      it("sgd gives the same bits with 1 and 2 threads, batches of 7 with a short last one included", () => {
        const n = 150;
        const rng = createRng(15);
        const data = makeDataset(randomImages(n, size, 16), Uint8Array.from({ length: n }, () => rng.int(outSize)), size);
        const [one, two] = withOneAndTwoThreads(() => {
          const net2 = new Network(sizes, { seed: 2 });
          net2.sgd(data, 2, 7, 3.0, { seed: 1 });
          return netWeights(net2);
        });
        expect(sameBits(one, two)).to.equal(true);
      });
    });
  }

  describe("in a fresh process", () => {
    // Each child trains and attacks, then prints its kernel build and a hash of the results.
    const dist = join(__dirname, "..", "dist");
    const script = `
      const { Network, makeDataset, setThreads, sneakyAdversarialBatch, createRng, kernelVariant } = require(${JSON.stringify(dist)});
      const { createHash } = require("node:crypto");
      setThreads(Number(process.env.THREADS));
      const rng = createRng(3);
      const n = 95;
      const data = makeDataset(Float32Array.from({ length: n * 784 }, () => rng.uniform()), Uint8Array.from({ length: n }, () => rng.int(10)));
      const net = new Network([784, 30, 10], { seed: 1 });
      net.sgd(data, 2, 10, 3.0);
      const x = sneakyAdversarialBatch(net, [1, 2, 3, 4, 5], data.images.subarray(0, 5 * 784), 10, 1);
      const h = createHash("sha256");
      net.weights.forEach((w) => h.update(new Uint8Array(w.buffer)));
      net.biases.forEach((b) => h.update(new Uint8Array(b.buffer)));
      h.update(new Uint8Array(x.buffer));
      console.log(JSON.stringify({ variant: kernelVariant(), hash: h.digest("hex"), w: Array.from(net.weights[1]), x: Array.from(x.subarray(0, 784)) }));`;
    const run = (flag: string, simd: string, threads: number) => JSON.parse(execFileSync(process.execPath, [flag, "-e", script],
      { encoding: "utf8", env: { ...process.env, ADVLAB_BACKEND: "wasm", ADVLAB_SIMD: simd, THREADS: String(threads) } }));
    const runNative = (isa: string, threads: number) => JSON.parse(execFileSync(process.execPath, ["-e", script],
      { encoding: "utf8", env: { ...process.env, ADVLAB_BACKEND: "native", ADVLAB_NATIVE_ISA: isa, THREADS: String(threads) } }));

    for (const simd of ["plain", "fma"]) {
      it(`the ${simd} build gives the same bits with 1 and 2 threads, under Node's baseline and optimizing wasm compilers`, () => {
        const baseline = run("--liftoff-only", simd, 2);
        expect(baseline.variant).to.equal(simd);
        expect(baseline.hash).to.match(/^[0-9a-f]{64}$/);
        expect(run("--no-liftoff", simd, 2).hash).to.equal(baseline.hash);
        expect(run("--no-liftoff", simd, 1).hash).to.equal(baseline.hash);
      });
    }

    it("the plain and fma builds agree within 1e-4 on weights and attack pixels", () => {
      const plain = run("--no-liftoff", "plain", 2);
      const fma = run("--no-liftoff", "fma", 2);
      expect(maxAbsDiff(plain.w, fma.w)).to.be.below(1e-4);
      expect(maxAbsDiff(plain.x, fma.x)).to.be.below(1e-4);
    });

    // The native module's instruction sets this processor runs: its best and every x86-64 level below it.
    const native = nativeKernelsOrWhy();
    const levels = nativeIsaLevels();
    for (const isa of levels) {
      it(`the native ${isa} build gives the same bits with 1 and 2 threads, and agrees with wasm within 1e-4`, () => {
        const two = runNative(isa, 2);
        expect(two.variant).to.equal(isa);
        expect(two.hash).to.match(/^[0-9a-f]{64}$/);
        expect(runNative(isa, 1).hash).to.equal(two.hash);
        const wasm = run("--no-liftoff", "fma", 2);
        expect(maxAbsDiff(two.w, wasm.w)).to.be.below(1e-4);
        expect(maxAbsDiff(two.x, wasm.x)).to.be.below(1e-4);
      });
    }
    if (native.available) {
      it("ADVLAB_NATIVE_ISA refuses a name it does not know, saying which there are", () => {
        expect(() => runNative("avx9000", 1)).to.throw(/ADVLAB_NATIVE_ISA is "avx9000"/);
      });
    }
  });

  it("feedforwardBatch refuses images that are not whole 784-pixel rows", () => {
    const net = new Network([784, 30, 10], { seed: 1 });
    expect(() => feedforwardBatch(net, new Float32Array(785))).to.throw(/images has 785 numbers, not a whole number of 784-pixel images/);
  });

  it("sneakyAdversarialBatch refuses a goal outside the labels and a target count that differs from the goals", () => {
    const net = new Network([784, 30, 10], { seed: 1 });
    expect(() => sneakyAdversarialBatch(net, [10], new Float32Array(784), 1, 1)).to.throw(/goals\[0\]/);
    expect(() => sneakyAdversarialBatch(net, [1, 2], new Float32Array(784), 1, 1)).to.throw(/xTargets holds 1 images but there are 2 goals/);
  });

  it("setThreads refuses 0 threads", () => {
    expect(() => setThreads(0)).to.throw(/threads must be a whole number from 1 to 64, got 0/);
  });
});
