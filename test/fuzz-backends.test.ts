/**
 * The batch functions fuzzed on every kernel backend present: seeded calls with mutated
 * arguments (rows that do not divide, NaN and infinite pixels, labels past the classes, label
 * counts that differ, empty batches, odd network shapes, bad step counts, budgets and mini-batch
 * sizes) go to `forward`, `lossGradient`, `gradientAttack` and `sgd` on the native and the wasm
 * backend. Each case must end the same way on both: the same error message, or results of the
 * same shape that agree within float32 rounding (forward and gradients) or are finite (attacks,
 * training). A native call that read or wrote past its memory would crash the process here.
 * ADVLAB_FUZZ_SEED and ADVLAB_FUZZ_SCALE as in fuzz.test.ts.
 */
import { expect } from "chai";
import { backendName, gradientAttack, lossSpec, makeDataset, Network, setBackend } from "../dist";
import type { BackendName } from "../dist/model/backend";
import { nativeKernelsOrWhy } from "../dist/kernels/native";
import { generator } from "./support/fuzz";

const FUZZ_SEED = Number(process.env.ADVLAB_FUZZ_SEED ?? 20261125);
const SCALE = Number(process.env.ADVLAB_FUZZ_SCALE ?? 1);

/** An error's message, or the results (`close`: they must agree within float32 rounding across backends). */
type Outcome = { error: string } | { values: number[][]; close: boolean };

/** One fuzz case: a call built from the case's generator, the same on every backend. */
function fuzzCase(index: number): () => Outcome {
  const g = generator(FUZZ_SEED, index);
  const depth = 1 + g.int(3);
  const sizes = [1 + g.int(40), ...Array.from({ length: depth - 1 }, () => 1 + g.int(12)), 2 + g.int(9)];
  const activation = g.pick(["sigmoid", "relu", "identity"] as const);
  const output = g.pick(["sigmoid", "identity"] as const);
  const loss = g.pick(["quadratic", "softmax-cross-entropy", "margin"] as const);
  const d = sizes[0], k = sizes[sizes.length - 1];
  const n = g.pick([0, 1, 2, 3, 5, 8, 9, 17]);
  const images = Float32Array.from({ length: n * d + g.pick([0, 0, 0, 1, -1, d - 1]) }, () => g.next());
  if (images.length > 0 && g.next() < 0.2) images[g.int(images.length)] = g.pick([NaN, Infinity, -Infinity]);
  const labels = Uint8Array.from({ length: n + g.pick([0, 0, 0, 1, -1]) }, () => (g.next() < 0.1 ? k + g.int(250 - k) : g.int(k)));
  const what = g.pick(["forward", "lossGradient", "attack", "sgd"] as const);
  const steps = g.pick([0, 1, 3, 7, -1, 2.5]);
  const eps = g.pick([0, 0.05, 0.3, 1, -0.1, NaN]);
  const step = g.pick(["gradient", "sign", "l2"] as const);
  const ball = g.pick(["none", "linf", "l2"] as const);
  const start = g.pick(["clean", "noise", "uniform"] as const);
  const miniBatch = g.pick([1, 3, 10, 0, 1000]);
  const netSeed = g.int(1000);
  return () => {
    try {
      const net = new Network(sizes, { seed: netSeed, activation, output, loss: loss === "margin" ? "quadratic" : loss });
      if (what === "forward") return { values: [Array.from(net.forward(images))], close: true };
      if (what === "lossGradient") {
        const r = net.lossGradient(images, labels, lossSpec(loss));
        return { values: [Array.from(r.loss), Array.from(r.gradient)], close: true };
      }
      if (what === "attack") {
        const r = gradientAttack(net, images, labels, { steps, step, stepSize: 0.05, ball, eps, start, loss, earlyStop: steps === 3, seed: 1 });
        return { values: [Array.from(r.images)], close: false };
      }
      net.sgd(makeDataset(images, labels), 1, miniBatch, 0.5, { seed: 2 });
      return { values: [...net.weights.map((w) => Array.from(w)), ...net.biases.map((b) => Array.from(b))], close: false };
    } catch (e) {
      return { error: (e as Error).message };
    }
  };
}

const backends: BackendName[] = nativeKernelsOrWhy().available ? ["native", "wasm"] : ["wasm"];

describe("fuzz: batch functions on every kernel backend", function () {
  this.timeout(300_000);
  const first = backendName();
  after(() => setBackend(first));

  it(`${600 * SCALE} mutated calls of forward, lossGradient, gradientAttack and sgd end the same way on ${backends.join(" and ")}`, () => {
    let errors = 0;
    for (let c = 0; c < 600 * SCALE; c++) {
      const call = fuzzCase(c);
      const outcomes = backends.map((b) => { setBackend(b); return call(); });
      const where = `seed ${FUZZ_SEED}, case ${c}`;
      const [a, b] = [outcomes[0], outcomes[outcomes.length - 1]];
      if ("error" in a) {
        errors++;
        expect(a.error, where).to.not.match(/RangeError|Invalid array length|out of bounds|passes the end of memory/i);
        expect(b, where).to.deep.equal(a);
        continue;
      }
      expect("values" in b, `${where}: ${JSON.stringify(b)}`).to.equal(true);
      const bv = (b as { values: number[][] }).values;
      expect(bv.map((v) => v.length), where).to.deep.equal(a.values.map((v) => v.length));
      a.values.forEach((v, i) => v.forEach((x, j) => {
        expect(Number.isFinite(x), `${where}: value ${i}/${j} is ${x}`).to.equal(true);
        expect(Number.isFinite(bv[i][j]), `${where}: value ${i}/${j} is ${bv[i][j]}`).to.equal(true);
        if (a.close) expect(Math.abs(x - bv[i][j]), `${where}: value ${i}/${j}`).to.be.at.most(1e-4 * Math.max(1, Math.abs(x)));
      }));
    }
    // The mutations must reach both sides: some calls fail, most succeed.
    expect(errors).to.be.above(60 * SCALE);
    expect(errors).to.be.below(500 * SCALE);
  });
});
