/**
 * npm run bench [-- --quick] [-- --no-anchors] [-- --backends native,wasm]
 *
 * Times the fast kernels on every kernel backend built here (medians of repeated runs), the
 * plain TypeScript reference, the full-size pipeline of the article (train 30 epochs on 50,000,
 * augment 50,000 x 100 sneaky steps, retrain 30 epochs on 100,000) and, in the same run, the
 * numpy anchors of ../shared/anchors/ref_numpy.py and the machine's float32 peak (numpy sgemm of
 * 2048 x 2048, all cores); prints a table with ratios and writes build/bench.json.
 * --quick skips the pipeline; --no-anchors skips numpy; --backends chooses the backends.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { loadavg } from "node:os";
import {
  adversarialBatch, adversarialTraining, augmentData, backendName, concatDatasets, feedforwardBatch, getThreads, kernelVariant,
  loadMnist, Network, pgd, setBackend, setThreads, sliceDataset, sneakyAdversarial, sneakyAdversarialBatch,
} from "../dist";
import type { BackendName } from "../dist/model/backend";
import { nativeKernelsOrWhy } from "../dist/kernels/native";
import { writeFileAtomic } from "../dist/util/files";

const ROOT = resolve(__dirname, "..");
const ANCHORS = resolve(ROOT, "..", "shared", "anchors", "ref_numpy.py");
const quick = process.argv.includes("--quick");
const withAnchors = !process.argv.includes("--no-anchors");
const backendsArg = process.argv[process.argv.indexOf("--backends") + 1];
const BACKENDS: BackendName[] = process.argv.includes("--backends") && backendsArg
  ? (backendsArg.split(",") as BackendName[])
  : nativeKernelsOrWhy().available ? ["native", "wasm"] : ["wasm"];

const SIZES = [784, 30, 10];
/** Multiply-adds of one forward pass: sum of rows x cols. */
const MACS = SIZES.slice(1).reduce((s, rows, l) => s + rows * SIZES[l], 0);
/** Flops of one attack step per image (forward and the transposed products down to x) and of one sgd example (forward and weight update). */
const ATTACK_FLOPS = 4 * MACS;
const SGD_FLOPS = 4 * MACS + 2 * 30 * 10;
/** The same for the ReLU [784, 100, 10] network of the PGD rows. */
const RELU_MACS = 784 * 100 + 100 * 10;
const RELU_ATTACK_FLOPS = 4 * RELU_MACS;
const RELU_SGD_FLOPS = 4 * RELU_MACS;
const reluNet = (seed: number) => new Network([784, 100, 10], { seed, activation: "relu", output: "identity", loss: "softmax-cross-entropy", init: "he" });

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/**
 * Median wall seconds of `repeats` runs of f (after one warm-up run); `lastCpu` keeps the
 * median process CPU seconds (all threads), which other programs on the machine disturb less.
 */
let lastCpu = 0;
function time(repeats: number, f: () => void): number {
  f();
  const ts: number[] = [];
  const cpus: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const c = process.cpuUsage();
    const t = performance.now();
    f();
    ts.push((performance.now() - t) / 1000);
    const u = process.cpuUsage(c);
    cpus.push((u.user + u.system) / 1e6);
  }
  lastCpu = median(cpus);
  return median(ts);
}

interface Row {
  name: string; unit: string; value: number; backend: string; build: string;
  gflops?: number; cpu?: number; anchor?: string; anchorValue?: number;
}
const rows: Row[] = [];
/**
 * Adds a row measured as `wall` seconds of wall time and `cpu` seconds of CPU time, computed by
 * `by` (default: the backend in use and its build).
 */
function add(row: Omit<Row, "backend" | "build">, wall: number, cpu: number, by = { backend: backendName() as string, build: kernelVariant() as string }): void {
  rows.push({ ...row, ...by, cpu: row.value * (cpu / wall) });
}
const TYPESCRIPT = { backend: "typescript", build: "float64" };
const anchors: Record<string, { value: number; unit: string; raw: unknown } | { skipped: string }> = {};

function anchor(what: string, n: number, key: string): number | undefined {
  if (!withAnchors) return undefined;
  const env = { ...process.env };
  // These slow a current numpy down (see the environment notes); unset for this process only.
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  try {
    const out = execFileSync("python3", [ANCHORS, what, String(n)], { env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    const json = JSON.parse(out.trim().split("\n").pop()!);
    const value = json[key] as number;
    anchors[what] = { value, unit: key, raw: json };
    return value;
  } catch (e) {
    anchors[what] = { skipped: (e as Error).message.split("\n")[0] };
    return undefined;
  }
}

function numpyAvailable(): string | null {
  if (!withAnchors) return "--no-anchors given";
  if (!existsSync(ANCHORS)) return `${ANCHORS} is absent`;
  try {
    execFileSync("python3", ["-c", "import numpy"], { stdio: "ignore" });
    return null;
  } catch {
    return "python3 with numpy is not available";
  }
}

/** The machine's float32 peak as numpy's sgemm reaches it: 2048 x 2048 x 2048, all cores, median of 7 (GFLOP/s). */
function sgemmPeak(): number | undefined {
  if (numpyAvailable()) return undefined;
  const code = "import numpy as np, time, statistics as s\n" +
    "a = np.random.default_rng(1).random((2048, 2048), dtype=np.float32); b = a.T.copy(); a @ b\n" +
    "ts = []\n" +
    "for _ in range(7):\n    t = time.perf_counter(); a @ b; ts.append(time.perf_counter() - t)\n" +
    "print(2 * 2048 ** 3 / s.median(ts) / 1e9)";
  try {
    return Number(execFileSync("python3", ["-c", code], { encoding: "utf8" }).trim());
  } catch {
    return undefined;
  }
}

type Mnist = ReturnType<typeof loadMnist>;

/** The kernel rows on the backend in use. */
function measureKernels({ training, test }: Mnist, threads: number): void {
  const net = new Network(SIZES, { seed: 1 });
  net.sgd(sliceDataset(training, 0, 10_000), 1, 10, 3.0);
  const ff = time(5, () => { feedforwardBatch(net, test.images); });
  add({ name: "feedforwardBatch, 10,000 images", unit: "us/image", value: (ff / 10_000) * 1e6, gflops: (2 * MACS * 10_000) / ff / 1e9 }, ff, lastCpu);

  const nSneaky = quick ? 1000 : 4000;
  const goals = Array.from({ length: nSneaky }, (_, i) => (training.labels[i] + 1) % 10);
  const targets = training.images.subarray(0, nSneaky * 784);
  const sneakyT = time(3, () => { sneakyAdversarialBatch(net, goals, targets, 100, 1, 0.05, { seed: 1 }); });
  const sneakyTCpu = lastCpu;
  const sneakyUs = (sneakyT / nSneaky / 100) * 1e6;
  setThreads(1);
  const sneaky1 = time(3, () => { sneakyAdversarialBatch(net, goals, targets, 100, 1, 0.05, { seed: 1 }); });
  const sneaky1Cpu = lastCpu;
  setThreads(threads);
  add({ name: `sneaky attack, ${nSneaky} images x 100 steps, ${threads} threads`, unit: "us/image-step", value: sneakyUs, gflops: ATTACK_FLOPS / sneakyUs / 1e3 }, sneakyT, sneakyTCpu);
  add({ name: "sneaky attack, 1 thread", unit: "us/image-step", value: (sneaky1 / nSneaky / 100) * 1e6, gflops: ATTACK_FLOPS / ((sneaky1 / nSneaky / 100) * 1e6) / 1e3 }, sneaky1, sneaky1Cpu);

  const nonT = time(3, () => { adversarialBatch(net, goals.slice(0, 200), 1000, 1, { seed: 1 }); });
  const nonTCpu = lastCpu;
  add({ name: `non-targeted attack, 200 images x 1000 steps, ${threads} threads`, unit: "us/image-step", value: (nonT / 200 / 1000) * 1e6, gflops: ATTACK_FLOPS / ((nonT / 200 / 1000) * 1e6) / 1e3 }, nonT, nonTCpu);

  const nSgd = quick ? 10_000 : 50_000;
  const sgdData = sliceDataset(training, 0, nSgd);
  const sgdT = time(3, () => { new Network(SIZES, { seed: 2 }).sgd(sgdData, 1, 10, 3.0); });
  const sgdTCpu = lastCpu;
  const sgdUs = (sgdT / nSgd) * 1e6;
  setThreads(1);
  const sgd1 = time(3, () => { new Network(SIZES, { seed: 2 }).sgd(sgdData, 1, 10, 3.0); });
  const sgd1Cpu = lastCpu;
  setThreads(threads);
  // An epoch as numpy's anchor times it: on data already in place (the anchor's arrays; here the
  // kernels' memory), so epochs 2-5 of one call, without the call's upload of the images.
  const epochSeconds: number[] = [];
  const epochCpu0 = process.cpuUsage(), epochT0 = performance.now();
  new Network(SIZES, { seed: 2 }).sgd(sgdData, 5, 10, 3.0, { onEpoch: (r) => { if (r.epoch > 1) epochSeconds.push(r.seconds); } });
  const epochCpuShare = (() => { const u = process.cpuUsage(epochCpu0); return (u.user + u.system) / 1e6 / ((performance.now() - epochT0) / 1000); })();
  const epochUs = (median(epochSeconds) / nSgd) * 1e6;
  add({ name: `sgd, mini-batch 10, epoch of ${nSgd} in kernel memory, ${threads} threads`, unit: "us/example", value: epochUs, gflops: SGD_FLOPS / epochUs / 1e3 }, 1, epochCpuShare);
  add({ name: `sgd, mini-batch 10, one call of one epoch of ${nSgd}, ${threads} threads`, unit: "us/example", value: sgdUs, gflops: SGD_FLOPS / sgdUs / 1e3 }, sgdT, sgdTCpu);
  add({ name: "sgd, 1 thread", unit: "us/example", value: (sgd1 / nSgd) * 1e6, gflops: SGD_FLOPS / ((sgd1 / nSgd) * 1e6) / 1e3 }, sgd1, sgd1Cpu);

  // PGD L-inf with softmax cross-entropy on a ReLU [784, 100, 10] network, as the pgd-batched anchor:
  // 40 sign steps of 0.01 in the eps = 0.1 ball from a uniform start.
  const relu = reluNet(3);
  const nPgd = quick ? 1000 : 4000;
  const pgdImages = test.images.subarray(0, nPgd * 784), pgdLabels = test.labels.subarray(0, nPgd);
  const pgdT = time(3, () => { pgd(relu, pgdImages, pgdLabels, { eps: 0.1, steps: 40, stepSize: 0.01, loss: "softmax-cross-entropy", seed: 1 }); });
  const pgdUs = (pgdT / nPgd / 40) * 1e6;
  add({ name: `PGD-40 L-inf, softmax CE, ReLU [784, 100, 10], ${nPgd} images`, unit: "us/image-step", value: pgdUs, gflops: RELU_ATTACK_FLOPS / pgdUs / 1e3 }, pgdT, lastCpu);

  const reluSgdT = time(3, () => { reluNet(4).sgd(sgdData, 1, 50, 0.1); });
  const reluSgdUs = (reluSgdT / nSgd) * 1e6;
  add({ name: `sgd, softmax CE, ReLU [784, 100, 10], mini-batch 50`, unit: "us/example", value: reluSgdUs, gflops: RELU_SGD_FLOPS / reluSgdUs / 1e3 }, reluSgdT, lastCpu);

  if (!quick) {
    // One epoch of PGD-40 adversarial training on all 50,000 training images.
    const advT = time(1, () => { adversarialTraining(reluNet(6), training, 1, 50, 0.1, { attack: "pgd", steps: 40, eps: 0.1, stepSize: 0.01, seed: 1 }); });
    add({ name: "PGD-40 adversarial training, ReLU [784, 100, 10], one epoch of 50,000", unit: "s", value: advT }, advT, lastCpu);
  }
}

/** The article's pipeline at full size on the backend in use (seconds and accuracies). */
function measurePipeline({ training, test }: Mnist): Record<string, number> {
  const pipeline: Record<string, number> = {};
  const cpuSeconds = (since: NodeJS.CpuUsage) => { const u = process.cpuUsage(since); return (u.user + u.system) / 1e6; };
  const cpu0 = process.cpuUsage();
  let t = performance.now();
  const trained = new Network(SIZES, { seed: 1 });
  trained.sgd(training, 30, 10, 3.0, { seed: 1 });
  pipeline.trainSeconds = (performance.now() - t) / 1000;
  pipeline.trainedTestAccuracy = trained.evaluate(test) / test.length;
  t = performance.now();
  const adv = augmentData(trained, 50_000, training, 100, { seed: 1 });
  pipeline.augmentSeconds = (performance.now() - t) / 1000;
  t = performance.now();
  const retrained = new Network(SIZES, { seed: 1 });
  retrained.sgd(concatDatasets(adv, training), 30, 10, 3.0, { seed: 1 });
  pipeline.retrainSeconds = (performance.now() - t) / 1000;
  pipeline.retrainedTestAccuracy = retrained.evaluate(test) / test.length;
  pipeline.totalSeconds = pipeline.trainSeconds + pipeline.augmentSeconds + pipeline.retrainSeconds;
  pipeline.cpuSeconds = cpuSeconds(cpu0);
  return pipeline;
}

function main(): void {
  const threads = getThreads();
  const mnist = loadMnist();
  const { training } = mnist;
  const builds = BACKENDS.map((b) => { setBackend(b); return `${b} (${kernelVariant()})`; });
  console.log(`bench: backends ${builds.join(", ")}; ${threads} thread(s); MNIST pixels stored at ${training.images.BYTES_PER_ELEMENT} bytes each${quick ? ", --quick" : ""}`);
  const loadBefore = loadavg();
  console.log(`load average before: ${loadBefore.map((x) => x.toFixed(2)).join(" ")} (compare ratios only from runs made on an idle machine)`);

  const pipelines: Record<string, Record<string, number>> = {};
  for (const b of BACKENDS) {
    setBackend(b);
    console.log(`measuring ${b} ...`);
    measureKernels(mnist, threads);
    if (!quick) pipelines[b] = measurePipeline(mnist);
  }

  // The readable float64 references, for scale (no backend: plain TypeScript).
  const net = new Network(SIZES, { seed: 1 });
  const goals = Array.from({ length: 5 }, (_, i) => (training.labels[i] + 1) % 10);
  const refSgd = time(1, () => { new Network(SIZES, { seed: 2 }).sgdReference(sliceDataset(training, 0, 2000), 1, 10, 3.0); });
  const refSgdCpu = lastCpu;
  add({ name: "reference sgd (float64 TypeScript)", unit: "us/example", value: (refSgd / 2000) * 1e6, gflops: SGD_FLOPS / ((refSgd / 2000) * 1e6) / 1e3 }, refSgd, refSgdCpu, TYPESCRIPT);
  const refSneaky = time(3, () => { for (let i = 0; i < 5; i++) sneakyAdversarial(net, goals[i], training.image(i), 100, 1); });
  const refSneakyCpu = lastCpu;
  add({ name: "reference sneaky attack (float64 TypeScript)", unit: "us/image-step", value: (refSneaky / 500) * 1e6, gflops: ATTACK_FLOPS / ((refSneaky / 500) * 1e6) / 1e3 }, refSneaky, refSneakyCpu, TYPESCRIPT);

  // Anchors and the peak, measured in the same run.
  const skip = numpyAvailable();
  let np: Record<string, number | undefined> = {};
  let peak: number | undefined;
  if (skip) {
    console.log(`numpy anchors skipped: ${skip}`);
  } else {
    np = {
      sneakyLoops: anchor("sneaky", 100, "per_example_step_us"),
      nontargetedLoops: anchor("nontargeted", 2, "per_example_step_us"),
      sgdLoops: anchor("sgd", 5000, "per_example_us"),
      sneakyBatched: anchor("sneaky-batched", 5000, "per_example_step_us"),
      sgdBatched: anchor("sgd-batched", 50_000, "per_example_us"),
      pgdBatched: anchor("pgd-batched", 10_000, "per_example_step_us"),
    };
    peak = sgemmPeak();
  }
  const attach = (match: string, label: string, value: number | undefined) => {
    for (const row of rows.filter((r) => r.name.startsWith(match))) {
      if (value !== undefined) { row.anchor = label; row.anchorValue = value; }
    }
  };
  attach("sneaky attack, ", "numpy batched", np.sneakyBatched);
  attach("PGD-40 L-inf", "numpy batched", np.pgdBatched);
  attach("non-targeted", "numpy loops", np.nontargetedLoops);
  attach("sgd, mini-batch", "numpy batched", np.sgdBatched);
  attach("reference sgd", "numpy loops", np.sgdLoops);
  attach("reference sneaky", "numpy loops", np.sneakyLoops);

  // Report.
  const pad = (s: string, n: number) => s.padEnd(n);
  console.log("(CPU time: the process's CPU time per unit, all threads; with 2 threads it exceeds wall time when both cores work)");
  if (peak !== undefined) console.log(`machine float32 peak (numpy sgemm 2048 x 2048, all cores): ${peak.toFixed(1)} GFLOP/s`);
  console.log("\n" + pad("work", 62) + pad("backend", 18) + pad("median (wall)", 24) + pad("GFLOP/s", 9) + pad("% peak", 8) + pad("CPU time", 10) + "anchor (same run)");
  const names = [...new Set(rows.map((r) => r.name))];
  for (const name of names) {
    for (const r of rows.filter((x) => x.name === name)) {
      const anchorText = r.anchorValue !== undefined
        ? `${r.anchor} ${r.anchorValue.toFixed(2)} ${r.unit}; anchor / this = ${(r.anchorValue / r.value).toFixed(2)}`
        : "";
      const share = r.gflops !== undefined && peak !== undefined ? `${((100 * r.gflops) / peak).toFixed(0)} %` : "";
      console.log(pad(r.name, 62) + pad(`${r.backend} ${r.build}`, 18) + pad(`${r.value.toFixed(3)} ${r.unit}`, 24) +
        pad(r.gflops ? r.gflops.toFixed(1) : "", 9) + pad(share, 8) + pad(r.cpu !== undefined ? r.cpu.toFixed(3) : "", 10) + anchorText);
    }
  }
  for (const [b, pipeline] of Object.entries(pipelines)) {
    console.log(`\npipeline on ${b} (full size): train ${pipeline.trainSeconds.toFixed(1)} s (test accuracy ${(100 * pipeline.trainedTestAccuracy).toFixed(2)} %), ` +
      `augment 50,000 x 100 ${pipeline.augmentSeconds.toFixed(1)} s, retrain on 100,000 ${pipeline.retrainSeconds.toFixed(1)} s ` +
      `(test accuracy ${(100 * pipeline.retrainedTestAccuracy).toFixed(2)} %): total ${pipeline.totalSeconds.toFixed(1)} s, ` +
      `${pipeline.cpuSeconds.toFixed(1)} CPU seconds over ${threads} thread(s)`);
    if (np.sgdBatched !== undefined && np.sneakyBatched !== undefined) {
      const est = (30 * 50_000 * np.sgdBatched + 50_000 * 100 * np.sneakyBatched + 30 * 100_000 * np.sgdBatched) / 1e6;
      pipeline.numpyBatchedEstimateSeconds = est;
      console.log(`numpy batched, the same pipeline estimated from this run's anchors: ${est.toFixed(1)} s (${(est / pipeline.totalSeconds).toFixed(1)}x)`);
    }
  }
  if (np.sgdBatched !== undefined) {
    // ref_numpy.py times sgd-batched as one epoch from fresh weights, with no warm-up: a slow first
    // epoch. Our sgd rows are medians of later epochs, so that ratio flatters us; say so beside it.
    console.log(`note: numpy's sgd-batched anchor is a single cold first epoch; ../shared/DESIGN.md measured 13-17 us/example ` +
      `for later epochs (30 us cold) and about 90 s for the whole pipeline batched in numpy, so compare the sgd ratio and ` +
      `the pipeline estimate with that in mind`);
  }
  const loadAfter = loadavg();
  console.log(`load average after: ${loadAfter.map((x) => x.toFixed(2)).join(" ")}`);
  const peakRssMiB = process.resourceUsage().maxRSS / 1024;
  console.log(`peak RSS ${peakRssMiB.toFixed(0)} MiB; MNIST stored at ${training.images.BYTES_PER_ELEMENT} bytes per pixel (<= 4)`);

  const out = join(ROOT, "build", "bench.json");
  mkdirSync(join(ROOT, "build"), { recursive: true });
  writeFileAtomic(out, JSON.stringify({
    date: new Date().toISOString(), node: process.version, backends: builds, threads, quick, loadBefore, loadAfter,
    sgemmPeakGflops: peak, rows, pipelines, anchors, peakRssMiB, mnistBytesPerPixel: training.images.BYTES_PER_ELEMENT,
  }, null, 2));
  console.log(`wrote ${out}`);
}

main();
