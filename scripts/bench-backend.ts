/**
 * Speed of the wasm backend's kernels on the project's targets: medians of several runs, with the
 * machine's load average before and after (the machine is shared: compare runs made together).
 *
 *   npm run build && npx tsx scripts/bench-backend.ts            # everything (about 2 minutes)
 *   npx tsx scripts/bench-backend.ts sneaky sgd pgd sgd-relu advtrain   # some of it
 */
import { loadavg } from "node:os";
import { createRng, getThreads, loadMnist, sliceDataset, sneakyAdversarialBatch } from "../dist";
import { wasmBackend } from "../dist/kernels/backend";
import { runSync } from "../dist/util/work";
import type { ActivationName, DenseModel, TrainProgram } from "../dist/model/backend";

const { training, test } = loadMnist();
const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * CPU seconds of the median run over the threads, beside the wall time: on a loaded machine
 * (other processes on the cores) it estimates the idle machine's wall time better, except
 * where threads spin at a barrier waiting for a descheduled partner (sgd), which it counts.
 */
let lastCpu = 0;

function time(runs: number, f: () => void): number {
  f(); // warm-up
  const ts: number[] = [], cpus: number[] = [];
  for (let r = 0; r < runs; r++) {
    const c = process.cpuUsage();
    const t = performance.now();
    f();
    ts.push((performance.now() - t) / 1000);
    const u = process.cpuUsage(c);
    cpus.push((u.user + u.system) / 1e6 / getThreads());
  }
  lastCpu = median(cpus);
  return median(ts);
}

function model(sizes: number[], activations: ActivationName[], seed: number): DenseModel {
  const rng = createRng(seed);
  return {
    sizes, activations,
    weights: sizes.slice(1).map((rows, l) => Float64Array.from({ length: rows * sizes[l] }, () => rng.normal(0, Math.sqrt(2 / sizes[l])))),
    biases: sizes.slice(1).map((rows) => new Float64Array(rows)),
  };
}

/** The wall-time figure, then the same figure from CPU time per thread (see `time`). */
function report(name: string, value: number, unit: string, target: number, cpuValue?: number): void {
  const cpu = cpuValue === undefined ? "" : ` (CPU/thread ${cpuValue.toFixed(3)})`;
  console.log(`${name.padEnd(58)} ${value.toFixed(3).padStart(8)} ${unit.padEnd(14)}${cpu} target <= ${target} ${value <= target ? "ok" : "MISSED"}`);
}

const pgdProgram = (n: number, steps: number) => {
  const origins = Float32Array.from(test.images.subarray(0, n * 784));
  const rng = createRng(1);
  return {
    starts: origins.map((v) => Math.min(1, Math.max(0, v + (rng.uniform() - 0.5) * 0.2))), labels: test.labels.subarray(0, n),
    loss: { name: "softmax-cross-entropy" as const, kappa: 0, targeted: false }, steps, step: "sign" as const, stepSize: 0.01,
    priorTargets: null, lam: 0, origins, ball: "linf" as const, eps: 0.1, clip: true, earlyStop: false,
  };
};

const benches: Record<string, () => void> = {
  sneaky() {
    // The article's sneaky attack: 100 gradient steps of eta 1 with the ridge prior (lam 0.05).
    const net = model([784, 30, 10], ["sigmoid", "sigmoid"], 1);
    const n = 4000;
    const goals = Array.from({ length: n }, (_, i) => i % 10);
    const targets = training.images.subarray(0, n * 784);
    const { Network } = require("../dist") as typeof import("../dist");
    const nn = new Network([784, 30, 10], { seed: 1 });
    const t = time(5, () => { sneakyAdversarialBatch(nn, goals, targets, 100, 1, 0.05, { seed: 1 }); });
    report("sneaky attack [784, 30, 10] (sneakyAdversarialBatch)", (t / n / 100) * 1e6, "us/image-step", 1.6, (lastCpu / n / 100) * 1e6);
    const starts = new Float32Array(n * 784).map((_, i) => 0.5 + 0.3 * Math.sin(i));
    const prog = {
      starts, labels: Uint8Array.from(goals), loss: { name: "quadratic" as const, kappa: 0, targeted: true }, steps: 100,
      step: "gradient" as const, stepSize: 1, priorTargets: Float32Array.from(targets), lam: 0.05, origins: null, ball: "none" as const,
      eps: 0, clip: false, earlyStop: false,
    };
    const t2 = time(5, () => { runSync(wasmBackend.descend(net, prog)); });
    report("sneaky attack [784, 30, 10] (wasmBackend.descend)", (t2 / n / 100) * 1e6, "us/image-step", 1.6, (lastCpu / n / 100) * 1e6);
  },
  sgd() {
    const n = 20000;
    const data = sliceDataset(training, 0, n);
    const prog: TrainProgram = {
      images: data.images, labels: data.labels, epochs: 1, miniBatchSize: 10, eta: 3, loss: "quadratic", seed: 1, test: null, adversary: null,
    };
    const t = time(5, () => { runSync(wasmBackend.train(model([784, 30, 10], ["sigmoid", "sigmoid"], 2), prog)); });
    report("sgd, mini-batch 10, [784, 30, 10]", (t / n) * 1e6, "us/example", 2.8, (lastCpu / n) * 1e6);
  },
  pgd() {
    const n = 2000, steps = 40;
    const net = model([784, 100, 10], ["relu", "identity"], 3);
    const prog = pgdProgram(n, steps);
    const t = time(5, () => { runSync(wasmBackend.descend(net, prog)); });
    report("PGD L-inf, softmax CE, ReLU [784, 100, 10]", (t / n / steps) * 1e6, "us/image-step", 4.5, (lastCpu / n / steps) * 1e6);
  },
  "sgd-relu"() {
    const n = 20000;
    const data = sliceDataset(training, 0, n);
    const prog: TrainProgram = {
      images: data.images, labels: data.labels, epochs: 1, miniBatchSize: 50, eta: 0.1, loss: "softmax-cross-entropy", seed: 1, test: null, adversary: null,
    };
    const t = time(5, () => { runSync(wasmBackend.train(model([784, 100, 10], ["relu", "identity"], 4), prog)); });
    report("sgd, softmax CE, ReLU [784, 100, 10], mini-batch 50", (t / n) * 1e6, "us/example", 8, (lastCpu / n) * 1e6);
  },
  advtrain() {
    const rng = createRng(5);
    const prog: TrainProgram = {
      images: training.images, labels: training.labels, epochs: 1, miniBatchSize: 50, eta: 0.1, loss: "softmax-cross-entropy", seed: 1,
      test: null,
      adversary: {
        fillStarts(clean, starts) { for (let i = 0; i < clean.length; i++) starts[i] = clean[i] + (rng.uniform() * 0.2 - 0.1); },
        loss: { name: "softmax-cross-entropy", kappa: 0, targeted: false }, steps: 40, step: "sign", stepSize: 0.01, ball: "linf", eps: 0.1, clip: true,
      },
    };
    const ts: number[] = [], cpus: number[] = [];
    for (let r = 0; r < 2; r++) {
      const c = process.cpuUsage();
      const t = performance.now();
      runSync(wasmBackend.train(model([784, 100, 10], ["relu", "identity"], 6), prog));
      ts.push((performance.now() - t) / 1000);
      const u = process.cpuUsage(c);
      cpus.push((u.user + u.system) / 1e6 / getThreads());
    }
    report("PGD-40 adversarial training [784, 100, 10], one epoch of 50,000", median(ts), "s", 15, median(cpus));
  },
};

const chosen = process.argv.slice(2);
console.log(`threads ${getThreads()}, load average before: ${loadavg().map((x) => x.toFixed(2)).join(" ")}`);
for (const [name, run] of Object.entries(benches)) if (chosen.length === 0 || chosen.includes(name)) run();
console.log(`load average after: ${loadavg().map((x) => x.toFixed(2)).join(" ")}`);
