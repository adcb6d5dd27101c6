/**
 * Development check of the native kernels (build/Release/advlab_native.node) against the
 * WebAssembly kernels (dist/kernels/*.wasm, `npm run build:wasm`), over one shared memory:
 *
 *   npx tsx native/check.ts            layout, every entry point and descent configuration against
 *                                      wasm, bit identity across range splits and thread counts,
 *                                      the argument checks
 *   npx tsx native/check.ts --bench    the same, then timings (2 threads; medians)
 *   npx tsx native/check.ts --bench-only
 *
 * ADVLAB_NATIVE_ISA=avx2|sse2 checks another instruction-set level. Exits 1 on any failure.
 * Without Node: native/bench_kernels.cc times the inner kernels (GFLOP/s), native/selftest.cc
 * runs the kernel bodies of one instruction set (e.g. NEON under qemu-aarch64) for comparison.
 */
import { readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import * as v8 from "node:v8";
import * as layout from "../lib/kernels/layout";
import { Arena } from "../lib/kernels/arena";
import { uploadModel, feedforwardScratchBytes, lineUp } from "../lib/kernels/net";
import { loadMnist } from "../lib/data/mnist";
import type { ActivationName } from "../lib/model/backend";

const L = layout;
const ROOT = join(__dirname, "..");
const ADDON = join(ROOT, "build", "Release", "advlab_native.node");
const bench = process.argv.includes("--bench") || process.argv.includes("--bench-only");
const benchOnly = process.argv.includes("--bench-only");

// eslint-disable-next-line @typescript-eslint/no-require-imports
const native = require(ADDON);
const W = (globalThis as any).WebAssembly;

let failures = 0;
function fail(msg: string): void {
  failures++;
  console.log(`FAIL ${msg}`);
}
function ok(cond: boolean, msg: string): void {
  if (!cond) fail(msg);
}

// ---------------------------------------------------------------- layout.h == layout.ts

function checkLayout(): void {
  const header = readFileSync(join(__dirname, "layout.h"), "utf8");
  const defs = new Map<string, number>();
  for (const m of header.matchAll(/^#define (\w+) (-?\d+)\s*$/gm)) defs.set(m[1], Number(m[2]));
  let n = 0;
  for (const [name, value] of Object.entries(layout)) {
    if (typeof value !== "number") continue;
    n++;
    if (!defs.has(name)) fail(`layout.h lacks ${name} (layout.ts: ${value})`);
    else if (defs.get(name) !== value) fail(`layout.h ${name} = ${defs.get(name)}, layout.ts ${value}`);
  }
  for (const name of defs.keys()) if (!(name in layout)) fail(`layout.h ${name} is not in layout.ts`);
  console.log(`layout.h: ${n} constants equal layout.ts's`);
}

// ---------------------------------------------------------------- memory, both kernel sets

if (!W.validate(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]))) throw new Error("no WebAssembly");
const fmaPath = join(ROOT, "dist", "kernels", "kernels-fma.wasm");
const plainPath = join(ROOT, "dist", "kernels", "kernels.wasm");
if (!existsSync(fmaPath)) throw new Error(`${fmaPath} is missing: npm run build:wasm`);
let wasmBytes = readFileSync(fmaPath);
if (!W.validate(wasmBytes)) v8.setFlagsFromString("--experimental-wasm-relaxed-simd");
if (!W.validate(wasmBytes)) wasmBytes = readFileSync(plainPath);
const wasmModule = new W.Module(wasmBytes);
const memory = new W.Memory({ initial: 64, maximum: 32768, shared: true });
const wasm = new W.Instance(wasmModule, { env: { memory } }).exports;
const arena = new Arena(memory);
const mem = () => new Uint8Array(memory.buffer);
const cancelWord = () => new Int32Array(memory.buffer, L.CANCEL_FLAG, 1);

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function gauss(r: () => number): number {
  return Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
}

interface Model { sizes: number[]; activations: ActivationName[]; weights: Float64Array[]; biases: Float64Array[] }
function randomModel(sizes: number[], activations: ActivationName[], seed: number, gain = 1): Model {
  const r = rng(seed);
  const weights: Float64Array[] = [], biases: Float64Array[] = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    const w = new Float64Array(sizes[l + 1] * sizes[l]);
    for (let k = 0; k < w.length; k++) w[k] = gauss(r) * gain * Math.sqrt(2 / sizes[l]);
    const b = new Float64Array(sizes[l + 1]);
    for (let k = 0; k < b.length; k++) b[k] = 0.1 * gauss(r);
    weights.push(w);
    biases.push(b);
  }
  return { sizes, activations, weights, biases };
}
function loadModel(file: string): Model {
  const j = JSON.parse(readFileSync(join(ROOT, "data", file), "utf8"));
  return {
    sizes: j.sizes, activations: j.activations,
    weights: j.weights.map((w: number[][]) => Float64Array.from(w.flat())),
    biases: j.biases.map((b: number[]) => Float64Array.from(b.flat())),
  };
}

const f32 = (p: number, n: number) => new Float32Array(memory.buffer, p, n);
const u32v = (p: number, n: number) => new Uint32Array(memory.buffer, p, n);
function put(values: ArrayLike<number>): number {
  const p = arena.alloc(4 * Math.max(1, values.length));
  f32(p, values.length).set(values);
  return p;
}
function putU8(values: ArrayLike<number>): number {
  const p = arena.alloc(Math.max(1, values.length));
  new Uint8Array(memory.buffer, p, values.length).set(values);
  return p;
}
const get = (p: number, n: number) => f32(p, n).slice();
const bits = (p: number, n: number) => u32v(p, n).slice();
function sameBits(a: Uint32Array | Int32Array, b: Uint32Array | Int32Array): boolean {
  if (a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return false;
  return true;
}

let mnist: { images: Float32Array; labels: Uint8Array } | null = null;
function mnistImages(n: number, from = 0): { images: Float32Array; labels: Uint8Array } {
  if (!mnist) {
    const t = loadMnist().training;
    mnist = { images: Float32Array.from(t.images), labels: t.labels };
  }
  if (from + n > mnist.labels.length) throw new Error(`MNIST has ${mnist.labels.length} training images, not ${from + n}`);
  return { images: mnist.images.subarray(784 * from, 784 * (from + n)), labels: mnist.labels.subarray(from, from + n) };
}
function randomImages(n: number, d: number, seed: number): Float32Array {
  const r = rng(seed);
  const x = new Float32Array(n * d);
  for (let k = 0; k < x.length; k++) x[k] = r();
  return x;
}
function imagesFor(sizes: number[], n: number, seed: number): Float32Array {
  return sizes[0] === 784 ? mnistImages(n, seed % 5000).images.slice() : randomImages(n, sizes[0], seed);
}
function labelsFor(classes: number, n: number, seed: number): Uint8Array {
  const r = rng(seed + 99);
  return Uint8Array.from({ length: n }, () => Math.floor(r() * classes));
}

/** max |a - b| / max(|a|) (or absolute when the scale is below 1). */
function relDiff(a: Float32Array, b: Float32Array): number {
  let mx = 0, scale = 1;
  for (let k = 0; k < a.length; k++) {
    mx = Math.max(mx, Math.abs(a[k] - b[k]));
    if (Number.isNaN(a[k]) !== Number.isNaN(b[k])) return Infinity;
    scale = Math.max(scale, Math.abs(a[k]));
  }
  return mx / scale;
}

// ---------------------------------------------------------------- networks

interface NetCase { name: string; model: Model; losses: number[] }
function nets(): NetCase[] {
  return [
    { name: "[784,30,10] sigmoid (trained)", model: loadModel("network-784-30-10.json"), losses: [L.LOSS_QUADRATIC, L.LOSS_SOFTMAX_CE, L.LOSS_MARGIN] },
    { name: "[784,100,10] relu/identity", model: randomModel([784, 100, 10], ["relu", "identity"], 3), losses: [L.LOSS_SOFTMAX_CE, L.LOSS_MARGIN, L.LOSS_QUADRATIC] },
    { name: "[784,64,32,10] relu/sigmoid/identity", model: randomModel([784, 64, 32, 10], ["relu", "sigmoid", "identity"], 4), losses: [L.LOSS_SOFTMAX_CE, L.LOSS_MARGIN] },
    { name: "[37,13,5,3] sigmoid", model: randomModel([37, 13, 5, 3], ["sigmoid", "sigmoid", "sigmoid"], 5, 3), losses: [L.LOSS_QUADRATIC, L.LOSS_SOFTMAX_CE, L.LOSS_MARGIN] },
    { name: "[37,13,5,3] relu/sigmoid/identity", model: randomModel([37, 13, 5, 3], ["relu", "sigmoid", "identity"], 6), losses: [L.LOSS_SOFTMAX_CE, L.LOSS_MARGIN, L.LOSS_QUADRATIC] },
    { name: "[21,7] sigmoid (one layer)", model: randomModel([21, 7], ["sigmoid"], 7, 2), losses: [L.LOSS_QUADRATIC, L.LOSS_SOFTMAX_CE] },
  ];
}

function scratchFor(netPtr: number, sizes: number[], T = 1): { wasm: number; native: number; stride: number } {
  const stride = lineUp(Math.max(wasm.groupScratchBytes(netPtr), native.groupScratchBytes(mem(), netPtr), feedforwardScratchBytes(sizes)));
  return { wasm: arena.alloc(stride * T), native: arena.alloc(stride * T), stride };
}

// ---------------------------------------------------------------- forward and gradient

function checkForward(c: NetCase): void {
  const net = uploadModel(arena, c.model);
  const d = c.model.sizes[0], classes = c.model.sizes[c.model.sizes.length - 1];
  const s = scratchFor(net.ptr, c.model.sizes);
  let worst = 0;
  for (const n of [1, 2, 3, 4, 5, 6, 7, 8, 9, 17, 37]) {
    const img = put(imagesFor(c.model.sizes, n, n));
    const ow = arena.alloc(4 * n * classes), on = arena.alloc(4 * n * classes);
    wasm.feedforwardRange(net.ptr, img, 0, n, ow, s.wasm);
    native.feedforwardRange(mem(), net.ptr, img, 0, n, on, s.native);
    worst = Math.max(worst, relDiff(get(ow, n * classes), get(on, n * classes)));
    const whole = bits(on, n * classes);
    for (let k = 1; k < n; k += n > 9 ? 5 : 1) {
      f32(on, n * classes).fill(0);
      native.feedforwardRange(mem(), net.ptr, img, 0, k, on, s.native);
      native.feedforwardRange(mem(), net.ptr, img, k, n, on, s.native);
      ok(sameBits(whole, bits(on, n * classes)), `${c.name} feedforward n=${n}: [0,${k})+[${k},${n}) differs from [0,${n})`);
    }
    void d;
    arena.free(img); arena.free(ow); arena.free(on);
  }
  ok(worst < 2e-5, `${c.name} feedforward: native vs wasm ${worst.toExponential(2)}`);
  console.log(`feedforward ${c.name}: max rel diff vs wasm ${worst.toExponential(2)}; range splits bit-identical`);
  arena.free(s.wasm); arena.free(s.native);
}

function lossBlock(kind: number, kappa: number, targeted: boolean): number {
  const p = arena.alloc(L.LOSS_BYTES);
  new Int32Array(memory.buffer, p, 4).set([kind, 0, targeted ? 1 : 0, 0]);
  f32(p + L.LOSS_KAPPA, 1)[0] = kappa;
  return p;
}

function checkGradient(c: NetCase): void {
  const net = uploadModel(arena, c.model);
  const d = c.model.sizes[0], classes = c.model.sizes[c.model.sizes.length - 1];
  const s = scratchFor(net.ptr, c.model.sizes);
  let worstG = 0, worstL = 0;
  const kinds: [number, number, boolean][] = [];
  for (const k of c.losses) kinds.push([k, 0, false], [k, 0.3, true]);
  kinds.push([L.LOSS_COTANGENT, 0, false]);
  for (const [kind, kappa, targeted] of kinds) {
    for (const n of [1, 3, 8, 9, 17]) {
      const img = put(imagesFor(c.model.sizes, n, 7 * n));
      const lab = putU8(labelsFor(classes, n, n));
      const cot = put(randomImages(n, classes, n).map((v) => v - 0.5));
      const loss = lossBlock(kind, kappa, targeted);
      const lw = arena.alloc(4 * n), ln = arena.alloc(4 * n), gw = arena.alloc(4 * n * d), gn = arena.alloc(4 * n * d);
      wasm.gradientRange(net.ptr, loss, img, lab, cot, 0, n, lw, gw, s.wasm);
      native.gradientRange(mem(), net.ptr, loss, img, lab, cot, 0, n, ln, gn, s.native);
      worstG = Math.max(worstG, relDiff(get(gw, n * d), get(gn, n * d)));
      if (kind !== L.LOSS_COTANGENT) worstL = Math.max(worstL, relDiff(get(lw, n), get(ln, n)));
      const whole = bits(gn, n * d), wholeL = bits(ln, n);
      for (const k of [1, Math.floor(n / 2), n - 1]) {
        if (k <= 0 || k >= n) continue;
        f32(gn, n * d).fill(7);
        native.gradientRange(mem(), net.ptr, loss, img, lab, cot, 0, k, ln, gn, s.native);
        native.gradientRange(mem(), net.ptr, loss, img, lab, cot, k, n, ln, gn, s.native);
        ok(sameBits(whole, bits(gn, n * d)) && sameBits(wholeL, bits(ln, n)), `${c.name} gradient kind ${kind} n=${n}: split at ${k} differs`);
      }
      // lossOut 0: no losses written, the same gradients
      native.gradientRange(mem(), net.ptr, loss, img, lab, cot, 0, n, 0, gn, s.native);
      ok(sameBits(whole, bits(gn, n * d)), `${c.name} gradient kind ${kind}: lossOut 0 changes the gradients`);
      for (const p of [img, lab, cot, loss, lw, ln, gw, gn]) arena.free(p);
    }
  }
  ok(worstG < 3e-4 && worstL < 3e-4, `${c.name} gradient: native vs wasm grad ${worstG.toExponential(2)}, loss ${worstL.toExponential(2)}`);
  console.log(`gradient ${c.name}: max rel diff vs wasm grad ${worstG.toExponential(2)} loss ${worstL.toExponential(2)}; splits bit-identical`);
  arena.free(s.wasm); arena.free(s.native);
}

// ---------------------------------------------------------------- descent

interface Config { rule: number; ball: number; clip: boolean; prior: boolean; early: boolean; targeted: boolean; loss: number; kappa: number; threshold?: number }
function configs(losses: number[]): Config[] {
  const out: Config[] = [];
  for (const rule of [L.STEP_GRADIENT, L.STEP_SIGN, L.STEP_L2])
    for (const ball of [L.BALL_NONE, L.BALL_LINF, L.BALL_L2])
      for (const clip of [false, true])
        for (const prior of [false, true])
          for (const early of [false, true])
            for (const targeted of [false, true])
              for (const loss of losses) out.push({ rule, ball, clip, prior, early, targeted, loss, kappa: loss === L.LOSS_MARGIN ? 0.2 : 0 });
  // thresholded inputs (BPDA), with each step rule and ball
  for (const rule of [L.STEP_GRADIENT, L.STEP_SIGN, L.STEP_L2])
    for (const ball of [L.BALL_NONE, L.BALL_LINF, L.BALL_L2])
      for (const early of [false, true]) out.push({ rule, ball, clip: true, prior: false, early, targeted: false, loss: losses[0], kappa: 0, threshold: 0.5 });
  return out;
}

function writeProg(p: number, x: number, lab: number, prior: number, origins: number, used: number, steps: number, c: Config): void {
  new Uint8Array(memory.buffer, p, L.PROG_BYTES).fill(0);
  const i = new Int32Array(memory.buffer, p, L.PROG_BYTES / 4);
  const f = new Float32Array(memory.buffer, p, L.PROG_BYTES / 4);
  i[L.PROG_X / 4] = x; i[L.PROG_LABELS / 4] = lab; i[L.PROG_PRIOR / 4] = prior; i[L.PROG_ORIGINS / 4] = origins;
  i[L.PROG_STEPS_USED / 4] = used; i[L.PROG_STEPS / 4] = steps; i[L.PROG_STEP_RULE / 4] = c.rule;
  f[L.PROG_STEP_SIZE / 4] = c.rule === L.STEP_SIGN ? 0.01 : c.rule === L.STEP_L2 ? 0.3 : 0.5;
  f[L.PROG_LAM / 4] = 0.05; i[L.PROG_BALL / 4] = c.ball; f[L.PROG_EPS / 4] = c.ball === L.BALL_L2 ? 1.0 : 0.08;
  i[L.PROG_CLIP / 4] = c.clip ? 1 : 0; i[L.PROG_EARLY_STOP / 4] = c.early ? 1 : 0;
  i[(L.PROG_LOSS + L.LOSS_KIND) / 4] = c.loss; f[(L.PROG_LOSS + L.LOSS_KAPPA) / 4] = c.kappa;
  i[(L.PROG_LOSS + L.LOSS_TARGETED) / 4] = c.targeted ? 1 : 0;
  i[L.PROG_THRESHOLDED / 4] = c.threshold !== undefined ? 1 : 0;
  f[L.PROG_THRESHOLD / 4] = c.threshold ?? 0;
}

function checkDescent(c: NetCase, n: number, steps: number): void {
  const net = uploadModel(arena, c.model);
  const d = c.model.sizes[0], classes = c.model.sizes[c.model.sizes.length - 1];
  const s = scratchFor(net.ptr, c.model.sizes);
  const start = imagesFor(c.model.sizes, n, 11);
  const prior = put(imagesFor(c.model.sizes, n, 500));
  const origins = put(start);
  const lab = putU8(labelsFor(classes, n, 3));
  const xw = arena.alloc(4 * n * d), xn = arena.alloc(4 * n * d), uw = arena.alloc(4 * n), un = arena.alloc(4 * n);
  const pw = arena.alloc(L.PROG_BYTES), pn = arena.alloc(L.PROG_BYTES);
  let worst = 0, worstCfg = "", stepDiffs = 0, moved = 0, splitFails = 0, runs = 0;
  const cfgs = configs(c.losses);
  for (const cfg of cfgs) {
    const pr = cfg.prior ? prior : 0, org = cfg.ball !== L.BALL_NONE ? origins : 0;
    writeProg(pw, xw, lab, pr, org, uw, steps, cfg);
    writeProg(pn, xn, lab, pr, org, un, steps, cfg);
    f32(xw, n * d).set(start);
    f32(xn, n * d).set(start);
    wasm.descendRange(net.ptr, pw, 0, n, s.wasm);
    native.descendRange(mem(), net.ptr, pn, 0, n, s.native);
    runs++;
    const a = get(xw, n * d), b = get(xn, n * d);
    // Sign steps amplify rounding differences (a component near 0 can change sign), and early
    // stop can end an image a step sooner or later: compare image by image, counting those.
    const usedW = new Int32Array(memory.buffer, uw, n).slice(), usedN = new Int32Array(memory.buffer, un, n).slice();
    for (let k = 0; k < n; k++) {
      if (usedW[k] !== usedN[k]) { stepDiffs++; continue; }
      let mx = 0;
      for (let j = 0; j < d; j++) mx = Math.max(mx, Math.abs(a[k * d + j] - b[k * d + j]));
      for (let j = 0; j < d; j++) if (a[k * d + j] !== start[k * d + j]) { moved++; break; }
      if (mx > worst) { worst = mx; worstCfg = JSON.stringify(cfg); }
    }
    // bit identity across splits
    const whole = bits(xn, n * d), wholeU = new Int32Array(memory.buffer, un, n).slice();
    for (const k of [1, 5]) {
      if (k >= n) continue;
      f32(xn, n * d).set(start);
      native.descendRange(mem(), net.ptr, pn, 0, k, s.native);
      native.descendRange(mem(), net.ptr, pn, k, n, s.native);
      if (!sameBits(whole, bits(xn, n * d)) || !sameBits(wholeU, new Int32Array(memory.buffer, un, n).slice())) {
        splitFails++;
        if (splitFails < 4) fail(`${c.name} descent ${JSON.stringify(cfg)}: split at ${k} differs`);
      }
    }
  }
  // Sign steps move by +-eta where a gradient component is near 0 in one and not the other.
  ok(stepDiffs <= 0.03 * runs * n, `${c.name} descent: ${stepDiffs} of ${runs * n} images used other step counts than wasm`);
  ok(worst <= 0.021, `${c.name} descent: max |x diff| vs wasm ${worst} at ${worstCfg}`);
  ok(splitFails === 0, `${c.name} descent: ${splitFails} split mismatches`);
  console.log(`descent ${c.name}: ${cfgs.length} configs x ${n} images x ${steps} steps; max |x diff| vs wasm ${worst.toExponential(2)}; `
    + `${stepDiffs} step-count differences; ${moved} images moved; splits bit-identical`);
  for (const p of [prior, origins, lab, xw, xn, uw, un, pw, pn, s.wasm, s.native]) arena.free(p);
}

// ---------------------------------------------------------------- threads

/** Worker threads that call the native (or wasm) kernels on the shared memory, as the library's pool does. */
const WORKER = `
const { workerData } = require("node:worker_threads");
const native = require(workerData.addon);
const wasm = new WebAssembly.Instance(workerData.module, { env: { memory: workerData.memory } }).exports;
const ctrl = new Int32Array(workerData.ctrl), args = new Float64Array(workerData.args);
const names = ["feedforwardRange", "gradientRange", "descendRange", "sgdRange"];
let seen = 0;
Atomics.add(ctrl, 1, 1); Atomics.notify(ctrl, 1);
for (;;) {
  Atomics.wait(ctrl, 0, seen);
  seen = Atomics.load(ctrl, 0);
  if (ctrl[2] < 0) break;
  const t = workerData.t;
  if (t < ctrl[4]) {
    const a = Array.from(args.subarray(t * 16, t * 16 + ctrl[3]));
    const t0 = performance.now();
    try {
      if (ctrl[5] === 1) native[names[ctrl[2]]](new Uint8Array(workerData.memory.buffer), ...a);
      else wasm[names[ctrl[2]]](...a);
    } catch (e) { console.log("worker " + t + ": " + e.message); Atomics.store(ctrl, 6, 1); }
    args[15 * 8 + t] = performance.now() - t0;
  }
  Atomics.add(ctrl, 1, 1); Atomics.notify(ctrl, 1);
}`;
const FN = { feedforwardRange: 0, gradientRange: 1, descendRange: 2, sgdRange: 3 };
const ctrl = new Int32Array(new SharedArrayBuffer(64));
const argsBuf = new Float64Array(new SharedArrayBuffer(8 * 16 * 8));
const workers: Worker[] = [];
async function startWorkers(T: number): Promise<void> {
  for (let t = 0; t < T; t++) {
    workers.push(new Worker(WORKER, { eval: true, workerData: { addon: ADDON, module: wasmModule, memory, ctrl: ctrl.buffer, args: argsBuf.buffer, t } }));
  }
  while (Atomics.load(ctrl, 1) < T) await new Promise((r) => setTimeout(r, 5));
}
/** Runs fn on threads 0..T-1 with per-thread arguments, waits for all; its wall seconds. */
function runThreads(fn: keyof typeof FN, perThread: number[][], useNative: boolean): number {
  const T = perThread.length;
  perThread.forEach((a, t) => argsBuf.set(a, t * 16));
  ctrl[2] = FN[fn]; ctrl[3] = perThread[0].length; ctrl[4] = T; ctrl[5] = useNative ? 1 : 0; ctrl[6] = 0;
  Atomics.store(ctrl, 1, 0);
  const t0 = performance.now();
  Atomics.add(ctrl, 0, 1);
  Atomics.notify(ctrl, 0);
  for (;;) {
    const done = Atomics.load(ctrl, 1);
    if (done >= workers.length) break;
    Atomics.wait(ctrl, 1, done, 1000);
  }
  const dt = (performance.now() - t0) / 1000;
  if (ctrl[6]) fail(`${fn}: a worker threw`);
  return dt;
}
/** Starts fn on threads 0..k-1 (k = perThread.length) without waiting; resolves when they are done. */
async function runThreadsAsync(fn: keyof typeof FN, perThread: number[][]): Promise<void> {
  perThread.forEach((a, t) => argsBuf.set(a, t * 16));
  ctrl[2] = FN[fn]; ctrl[3] = perThread[0].length; ctrl[4] = perThread.length; ctrl[5] = 1; ctrl[6] = 0;
  Atomics.store(ctrl, 1, 0);
  Atomics.add(ctrl, 0, 1);
  Atomics.notify(ctrl, 0);
  while (Atomics.load(ctrl, 1) < workers.length) await new Promise((r) => setTimeout(r, 5));
}
function stopWorkers(): Promise<number[]> {
  ctrl[2] = -1;
  Atomics.add(ctrl, 0, 1);
  Atomics.notify(ctrl, 0);
  return Promise.all(workers.map((w) => w.terminate()));
}

// ---------------------------------------------------------------- sgd

interface SgdSet { ctx: number; images: number; labels: number; order: number; acts: number; deltas: number; scratch: number; n: number; B: number }
function sgdSet(model: Model, n: number, B: number, loss: number, eta: number, T: number, seed: number): SgdSet {
  const d = model.sizes[0], classes = model.sizes[model.sizes.length - 1];
  const units = model.sizes.slice(1).reduce((s, u) => s + u, 0);
  const images = put(imagesFor(model.sizes, n, seed)), labels = putU8(labelsFor(classes, n, seed));
  const r = rng(seed + 5);
  const perm = Array.from({ length: n }, (_, k) => k);
  for (let k = n - 1; k > 0; k--) { const j = Math.floor(r() * (k + 1)); [perm[k], perm[j]] = [perm[j], perm[k]]; }
  const order = arena.alloc(4 * n);
  u32v(order, n).set(perm);
  const acts = arena.alloc(8 * B * units), deltas = arena.alloc(4 * B * units);
  const perThread = lineUp(4 * B + ((B + 3) & ~3) + 4 * B + 32 + 8 * Math.max(...model.sizes) + 64);
  const scratch = arena.alloc(perThread * T);
  const ctx = arena.alloc(L.SGD_BYTES);
  const w = u32v(ctx, L.SGD_BYTES / 4);
  w.fill(0);
  w[L.SGD_IMAGES / 4] = images; w[L.SGD_LABELS / 4] = labels; w[L.SGD_ORDER / 4] = order; w[L.SGD_N / 4] = n;
  w[L.SGD_BATCH / 4] = B; w[L.SGD_SPINS / 4] = 50_000; f32(ctx + L.SGD_ETA, 1)[0] = eta;
  w[L.SGD_ACTS / 4] = acts; w[L.SGD_DELTAS / 4] = deltas; w[L.SGD_SCRATCH / 4] = scratch; w[L.SGD_SCRATCH_BYTES / 4] = perThread;
  w[L.SGD_LOSS / 4] = loss;
  void d;
  return { ctx, images, labels, order, acts, deltas, scratch, n, B };
}
function netWeights(model: Model, netPtr: number): Uint32Array[] {
  const out: Uint32Array[] = [];
  const t = new Int32Array(memory.buffer, netPtr, (L.NET_FIRST_LAYER + L.LAYER_BYTES * (model.sizes.length - 1)) / 4);
  for (let l = 0; l + 1 < model.sizes.length; l++) {
    const at = (L.NET_FIRST_LAYER + L.LAYER_BYTES * l) / 4;
    out.push(bits(t[at + L.LAYER_W / 4], model.sizes[l + 1] * model.sizes[l]), bits(t[at + L.LAYER_B / 4], model.sizes[l + 1]));
  }
  return out;
}
const asF32 = (u: Uint32Array) => new Float32Array(u.buffer, u.byteOffset, u.length);

function checkSgd(c: NetCase): void {
  for (const loss of [L.LOSS_QUADRATIC, L.LOSS_SOFTMAX_CE]) {
    for (const [n, B] of [[53, 10], [40, 7], [9, 4]]) {
      const batches = Math.ceil(n / B);
      const sigmoidOut = c.model.activations[c.model.activations.length - 1] === "sigmoid";
      const set = sgdSet(c.model, n, B, loss, loss === L.LOSS_QUADRATIC && sigmoidOut ? 3.0 : 0.05, 3, n + B);
      // wasm, one thread
      const nw = uploadModel(arena, c.model);
      wasm.sgdRange(nw.ptr, set.ctx, 0, batches, 0, 1);
      const ww = netWeights(c.model, nw.ptr);
      // native, one thread, whole epoch
      const n1 = uploadModel(arena, c.model);
      native.sgdRange(mem(), n1.ptr, set.ctx, 0, batches, 0, 1);
      const w1 = netWeights(c.model, n1.ptr);
      let worst = 0;
      for (let k = 0; k < ww.length; k++) worst = Math.max(worst, relDiff(asF32(ww[k]), asF32(w1[k])));
      ok(worst < 2e-4, `${c.name} sgd loss ${loss} n=${n} B=${B}: native vs wasm ${worst.toExponential(2)}`);
      // native, batches split over two calls
      const n2 = uploadModel(arena, c.model);
      const half = Math.floor(batches / 2);
      native.sgdRange(mem(), n2.ptr, set.ctx, 0, half, 0, 1);
      native.sgdRange(mem(), n2.ptr, set.ctx, half, batches, 0, 1);
      ok(netWeights(c.model, n2.ptr).every((w, k) => sameBits(w, w1[k])), `${c.name} sgd: batches split over two calls differ`);
      // native, 2 and 3 threads
      for (const T of [2, 3]) {
        const nt = uploadModel(arena, c.model);
        runThreads("sgdRange", Array.from({ length: T }, (_, t) => [nt.ptr, set.ctx, 0, batches, t, T]), true);
        ok(netWeights(c.model, nt.ptr).every((w, k) => sameBits(w, w1[k])), `${c.name} sgd loss ${loss} n=${n} B=${B}: ${T} threads differ from 1`);
      }
      if (n === 53) console.log(`sgd ${c.name} loss ${loss}: max rel diff vs wasm ${worst.toExponential(2)}; 1 = 2 = 3 threads = split calls, bit for bit`);
    }
  }
}

// ---------------------------------------------------------------- the argument checks

function expectThrow(what: string, f: () => void, pattern: RegExp): void {
  try {
    f();
    fail(`${what}: no error`);
  } catch (e) {
    const m = (e as Error).message;
    if (!pattern.test(m)) fail(`${what}: message "${m}" does not match ${pattern}`);
    else if (process.env.SHOW_ERRORS) console.log(`  ${m}`);
  }
}

function checkValidation(): void {
  const model = randomModel([37, 13, 5], ["sigmoid", "identity"], 9);
  const net = uploadModel(arena, model);
  const end = memory.buffer.byteLength;
  const s = native.groupScratchBytes(mem(), net.ptr);
  const scratch = arena.alloc(s);
  const img = put(randomImages(4, 37, 1)), out = arena.alloc(4 * 4 * 5), lab = putU8([0, 1, 2, 3]);
  const M = () => mem();
  expectThrow("arg count", () => native.feedforwardRange(M(), net.ptr, img, 0, 4, out), /feedforwardRange: expected 7 arguments/);
  expectThrow("mem type", () => native.feedforwardRange(new Float32Array(memory.buffer), net.ptr, img, 0, 4, out, scratch), /Uint8Array/);
  expectThrow("mem offset", () => native.feedforwardRange(new Uint8Array(memory.buffer, 64), net.ptr, img, 0, 4, out, scratch), /byteOffset/);
  expectThrow("arg type", () => native.feedforwardRange(M(), net.ptr, "1", 0, 4, out, scratch), /images must be a number/);
  expectThrow("negative", () => native.feedforwardRange(M(), net.ptr, img, -1, 4, out, scratch), /i0 is -1/);
  expectThrow("fraction", () => native.feedforwardRange(M(), net.ptr, img, 0, 4.5, out, scratch), /i1 is 4.5/);
  expectThrow("i0 > i1", () => native.feedforwardRange(M(), net.ptr, img, 3, 2, out, scratch), /i0 = 3 is above i1 = 2/);
  expectThrow("images past end", () => native.feedforwardRange(M(), net.ptr, end - 100, 0, 4, out, scratch), /feedforwardRange: images region \[\d+, \d+\) passes the end of memory \(\d+ bytes\)/);
  expectThrow("out past end", () => native.feedforwardRange(M(), net.ptr, img, 0, 4, end - 8, scratch), /out region/);
  expectThrow("scratch past end", () => native.feedforwardRange(M(), net.ptr, img, 0, 4, out, end - 64), /scratch region/);
  expectThrow("unaligned", () => native.feedforwardRange(M(), net.ptr, img + 2, 0, 4, out, scratch), /images at \d+ is not 4-byte aligned/);
  // the network table
  const table = new Int32Array(memory.buffer, net.ptr, 16);
  const saved = table.slice();
  const broken = (what: string, edit: () => void, pattern: RegExp) => {
    edit();
    expectThrow(what, () => native.feedforwardRange(M(), net.ptr, img, 0, 4, out, scratch), pattern);
    table.set(saved);
  };
  broken("layers 0", () => { table[0] = 0; }, /NET_LAYERS\) is 0/);
  broken("layers 65", () => { table[0] = 65; }, /NET_LAYERS\) is 65/);
  broken("rows 0", () => { table[4] = 0; }, /layer 0 LAYER_ROWS is 0/);
  broken("chain", () => { table[4] = 12; }, /layer 1 LAYER_COLS is 13, not layer 0's LAYER_ROWS \(12\)/);
  broken("act", () => { table[8] = 7; }, /layer 0 LAYER_ACT is 7/);
  broken("W past end", () => { table[6] = end - 16; }, /layer 0 LAYER_W region/);
  broken("b unaligned", () => { table[15] += 1; }, /layer 1 LAYER_B at \d+ is not 4-byte aligned/);
  expectThrow("net past end", () => native.groupScratchBytes(M(), end - 8), /network table region/);
  // gradient
  const loss = lossBlock(L.LOSS_SOFTMAX_CE, 0, false), grad = arena.alloc(4 * 4 * 37), lo = arena.alloc(16);
  new Int32Array(memory.buffer, loss, 1)[0] = 9;
  expectThrow("loss kind", () => native.gradientRange(M(), net.ptr, loss, img, lab, 0, 0, 4, lo, grad, scratch), /gradientRange: loss block LOSS_KIND is 9/);
  new Int32Array(memory.buffer, loss, 1)[0] = L.LOSS_SOFTMAX_CE;
  expectThrow("labels past end", () => native.gradientRange(M(), net.ptr, loss, img, end - 2, 0, 0, 4, lo, grad, scratch), /labels region/);
  expectThrow("lossOut past end", () => native.gradientRange(M(), net.ptr, loss, img, lab, 0, 0, 4, end - 4, grad, scratch), /lossOut region/);
  expectThrow("gradOut past end", () => native.gradientRange(M(), net.ptr, loss, img, lab, 0, 0, 4, lo, end - 400, scratch), /gradOut region/);
  expectThrow("scratch short", () => native.gradientRange(M(), net.ptr, loss, img, lab, 0, 0, 4, lo, grad, end - s + 64), /scratch region/);
  new Int32Array(memory.buffer, loss, 1)[0] = L.LOSS_COTANGENT;
  expectThrow("cot past end", () => native.gradientRange(M(), net.ptr, loss, img, 0, end - 20, 0, 4, lo, grad, scratch), /cot region/);
  // descent
  const prog = arena.alloc(L.PROG_BYTES), x = put(randomImages(4, 37, 2)), used = arena.alloc(16);
  const cfg: Config = { rule: L.STEP_SIGN, ball: L.BALL_LINF, clip: true, prior: false, early: true, targeted: false, loss: L.LOSS_MARGIN, kappa: 0 };
  const progWith = (edit: (i: Int32Array) => void) => {
    writeProg(prog, x, lab, 0, img, used, 3, cfg);
    edit(new Int32Array(memory.buffer, prog, L.PROG_BYTES / 4));
  };
  const badProg = (what: string, edit: (i: Int32Array) => void, pattern: RegExp) => {
    progWith(edit);
    expectThrow(what, () => native.descendRange(M(), net.ptr, prog, 0, 4, scratch), pattern);
  };
  progWith(() => {});
  native.descendRange(M(), net.ptr, prog, 0, 4, scratch);
  badProg("origins past end", (i) => { i[L.PROG_ORIGINS / 4] = end - 64; }, /descendRange: PROG_ORIGINS region \[\d+, \d+\) passes the end of memory/);
  badProg("origins 0 with a ball", (i) => { i[L.PROG_ORIGINS / 4] = 0; }, /PROG_ORIGINS is 0 but PROG_BALL is 1/);
  badProg("x past end", (i) => { i[L.PROG_X / 4] = end - 64; }, /PROG_X region/);
  badProg("prior past end", (i) => { i[L.PROG_PRIOR / 4] = end - 64; }, /PROG_PRIOR region/);
  badProg("labels past end", (i) => { i[L.PROG_LABELS / 4] = end - 1; }, /PROG_LABELS region/);
  badProg("used past end", (i) => { i[L.PROG_STEPS_USED / 4] = end - 4; }, /PROG_STEPS_USED region/);
  badProg("steps < 0", (i) => { i[L.PROG_STEPS / 4] = -1; }, /PROG_STEPS is -1/);
  badProg("rule", (i) => { i[L.PROG_STEP_RULE / 4] = 3; }, /PROG_STEP_RULE is 3/);
  badProg("ball", (i) => { i[L.PROG_BALL / 4] = 5; }, /PROG_BALL is 5/);
  badProg("loss kind", (i) => { i[(L.PROG_LOSS + L.LOSS_KIND) / 4] = L.LOSS_COTANGENT; }, /PROG_LOSS LOSS_KIND is 3/);
  badProg("start kind", (i) => { i[L.PROG_START / 4] = 2; }, /PROG_START is 2, not 0 \(given\) or 1/);
  badProg("uniform start without origins", (i) => { i[L.PROG_START / 4] = L.START_UNIFORM_LINF; i[L.PROG_ORIGINS / 4] = 0; i[L.PROG_BALL / 4] = L.BALL_NONE; },
    /PROG_START is 1 \(uniform in the L-inf ball\) but PROG_ORIGINS is 0/);
  badProg("uniform start eps", (i) => { i[L.PROG_START / 4] = L.START_UNIFORM_LINF; new Float64Array(i.buffer, i.byteOffset + L.PROG_START_EPS, 1)[0] = NaN; },
    /PROG_START_EPS is nan/);
  expectThrow("prog past end", () => native.descendRange(M(), net.ptr, end - 40, 0, 4, scratch), /program region/);
  progWith(() => {});
  expectThrow("descend scratch", () => native.descendRange(M(), net.ptr, prog, 0, 4, end - 128), /scratch region/);
  // labels out of range are harmless (compared only)
  new Uint8Array(memory.buffer, lab, 4).set([255, 200, 3, 77]);
  native.descendRange(M(), net.ptr, prog, 0, 4, scratch);
  new Int32Array(memory.buffer, loss, 1)[0] = L.LOSS_SOFTMAX_CE;
  native.gradientRange(M(), net.ptr, loss, img, lab, 0, 0, 4, lo, grad, scratch);
  // sgd
  const set = sgdSet(model, 20, 6, L.LOSS_QUADRATIC, 1, 2, 1);
  const cw = new Int32Array(memory.buffer, set.ctx, L.SGD_BYTES / 4);
  const savedCtx = cw.slice();
  const badCtx = (what: string, edit: () => void, args: number[], pattern: RegExp) => {
    edit();
    expectThrow(what, () => native.sgdRange(M(), net.ptr, set.ctx, ...args), pattern);
    cw.set(savedCtx);
  };
  badCtx("t >= T", () => {}, [0, 4, 2, 2], /thread t = 2 of T = 2/);
  badCtx("T = 0", () => {}, [0, 4, 0, 0], /T = 0/);
  badCtx("k past n", () => {}, [0, 5, 0, 1], /batches \[0, 5\) of SGD_BATCH = 6 pass SGD_N = 20/);
  badCtx("B = 0", () => { cw[L.SGD_BATCH / 4] = 0; }, [0, 1, 0, 1], /SGD_BATCH is 0/);
  badCtx("loss", () => { cw[L.SGD_LOSS / 4] = 2; }, [0, 1, 0, 1], /SGD_LOSS is 2/);
  badCtx("order entry", () => { u32v(set.order, 20)[13] = 20; }, [0, 4, 0, 1], /SGD_ORDER entry 13 is 20, not below SGD_N = 20/);
  u32v(set.order, 20)[13] = 13;
  badCtx("order past end", () => { cw[L.SGD_ORDER / 4] = end - 8; }, [0, 4, 0, 1], /SGD_ORDER region/);
  badCtx("images past end", () => { cw[L.SGD_IMAGES / 4] = end - 800; }, [0, 4, 0, 1], /SGD_IMAGES region/);
  badCtx("acts past end", () => { cw[L.SGD_ACTS / 4] = end - 800; }, [0, 4, 0, 1], /SGD_ACTS region/);
  badCtx("deltas past end", () => { cw[L.SGD_DELTAS / 4] = end - 100; }, [0, 4, 0, 1], /SGD_DELTAS region/);
  badCtx("scratch of all threads", () => { cw[L.SGD_SCRATCH / 4] = end - cw[L.SGD_SCRATCH_BYTES / 4]; }, [0, 4, 0, 2], /SGD_SCRATCH \(all T threads\) region/);
  badCtx("scratch bytes", () => { cw[L.SGD_SCRATCH_BYTES / 4] = 3; }, [0, 4, 0, 1], /SGD_SCRATCH_BYTES is 3/);
  expectThrow("ctx past end", () => native.sgdRange(M(), net.ptr, end - 32, 0, 1, 0, 1), /sgd context region/);
  native.sgdRange(M(), net.ptr, set.ctx, 0, 4, 0, 1);
  expectThrow("isa args", () => native.isa(1), /isa: expected no arguments/);
  console.log("argument checks: every bad region, code and count rejected with its name");
}

// ---------------------------------------------------------------- cancel

function checkCancel(): void {
  const model = loadModel("network-784-30-10.json");
  const net = uploadModel(arena, model);
  const n = 16;
  const s = native.groupScratchBytes(mem(), net.ptr);
  const scratch = arena.alloc(s), x = put(imagesFor(model.sizes, n, 1)), lab = putU8(labelsFor(10, n, 1)), used = arena.alloc(4 * n);
  const prog = arena.alloc(L.PROG_BYTES);
  writeProg(prog, x, lab, 0, 0, used, 5, { rule: L.STEP_GRADIENT, ball: 0, clip: false, prior: false, early: false, targeted: true, loss: 0, kappa: 0 });
  const before = get(x, n * 784);
  Atomics.store(cancelWord(), 0, 1);
  native.descendRange(mem(), net.ptr, prog, 0, n, scratch);
  ok(sameBits(new Uint32Array(before.buffer), bits(x, n * 784)), "cancel: descendRange changed images while the cancel word was set");
  const set = sgdSet(model, 30, 10, L.LOSS_QUADRATIC, 3, 2, 2);
  const w0 = netWeights(model, net.ptr);
  runThreads("sgdRange", [[net.ptr, set.ctx, 0, 3, 0, 2], [net.ptr, set.ctx, 0, 3, 1, 2]], true);
  ok(netWeights(model, net.ptr).every((w, k) => sameBits(w, w0[k])), "cancel: sgd with 2 threads changed weights while the cancel word was set");
  Atomics.store(cancelWord(), 0, 0);
  console.log("cancel word: descent and 2-thread sgd return at once, both threads");
}

/**
 * A thread left waiting at an sgd barrier for a thread that never comes (a worker terminated
 * during a job) returns once the cancel word is set.
 */
async function checkBrokenBarrier(): Promise<void> {
  const model = loadModel("network-784-30-10.json");
  const net = uploadModel(arena, model);
  const set = sgdSet(model, 100, 10, L.LOSS_QUADRATIC, 3, 2, 3);
  const t0 = performance.now();
  let cancelledAt = 0;
  const timer = setTimeout(() => { cancelledAt = performance.now(); Atomics.store(cancelWord(), 0, 1); }, 300);
  await runThreadsAsync("sgdRange", [[net.ptr, set.ctx, 0, 10, 0, 2]]); // thread 0 of 2 only
  clearTimeout(timer);
  const end = performance.now();
  Atomics.store(cancelWord(), 0, 0);
  ok(cancelledAt > 0 && end - cancelledAt < 1500, `broken barrier: thread 0 returned ${(end - cancelledAt).toFixed(0)} ms after the cancel word (${(end - t0).toFixed(0)} ms in all)`);
  console.log(`sgd barrier without its second thread: released ${(end - cancelledAt).toFixed(0)} ms after the cancel word was set`);
}

// ---------------------------------------------------------------- timing

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function benchDescent(label: string, model: Model, cfg: Config, n: number, steps: number, flopsPerStep: number, T: number, useNative: boolean, repeats: number): number {
  const net = uploadModel(arena, model);
  const d = model.sizes[0];
  const stride = lineUp(Math.max(native.groupScratchBytes(mem(), net.ptr), wasm.groupScratchBytes(net.ptr)));
  const scratch = arena.alloc(stride * T);
  const start = mnistImages(n, 0);
  const x = put(start.images), lab = putU8(cfg.targeted ? start.labels.map((v) => (v + 1) % 10) : start.labels);
  const prior = cfg.prior ? put(mnistImages(n, 1000).images) : 0, origins = cfg.ball ? put(start.images) : 0;
  const prog = arena.alloc(L.PROG_BYTES), used = arena.alloc(4 * n);
  writeProg(prog, x, lab, prior, origins, used, steps, cfg);
  const f = new Float32Array(memory.buffer, prog, L.PROG_BYTES / 4);
  if (cfg.rule === L.STEP_GRADIENT) { f[L.PROG_STEP_SIZE / 4] = 1.0; f[L.PROG_LAM / 4] = 0.05; }
  if (cfg.rule === L.STEP_SIGN) { f[L.PROG_STEP_SIZE / 4] = 0.01; f[L.PROG_EPS / 4] = 0.1; }
  const times: number[] = [];
  for (let r = 0; r < repeats + 1; r++) {
    f32(x, n * d).set(start.images);
    const per = Array.from({ length: T }, (_, t) => [net.ptr, prog, Math.floor((n * t) / T), Math.floor((n * (t + 1)) / T), scratch + t * stride]);
    const dt = runThreads("descendRange", per, useNative);
    if (r > 0) times.push(dt);
  }
  const us = (median(times) / (n * steps)) * 1e6;
  const perThread = Array.from({ length: T }, (_, t) => ((argsBuf[15 * 8 + t] / 1000 / ((n / T) * steps)) * 1e6).toFixed(3)).join(", ");
  console.log(`  ${label} ${useNative ? "native" : "wasm"} ${T} thread${T > 1 ? "s" : ""}: ${us.toFixed(3)} us per image-step, `
    + `${((flopsPerStep / us) * 1e-3).toFixed(1)} GFLOP/s (${(flopsPerStep / us / T * 1e-3).toFixed(1)} per thread; each thread's own us per image-step, last run: ${perThread})`);
  for (const p of [scratch, x, lab, prog, used]) arena.free(p);
  if (prior) arena.free(prior);
  if (origins) arena.free(origins);
  return us;
}

function benchSgd(model: Model, n: number, B: number, T: number, useNative: boolean, repeats: number): number {
  const set = sgdSet(model, n, B, L.LOSS_QUADRATIC, 3.0, T, 1);
  const net = uploadModel(arena, model);
  const batches = Math.ceil(n / B);
  const times: number[] = [];
  for (let r = 0; r < repeats + 1; r++) {
    const dt = runThreads("sgdRange", Array.from({ length: T }, (_, t) => [net.ptr, set.ctx, 0, batches, t, T]), useNative);
    if (r > 0) times.push(dt);
  }
  const us = (median(times) / n) * 1e6;
  const flops = 4 * (784 * 30 + 30 * 10);
  console.log(`  sgd mini-batch ${B} [784,30,10] ${useNative ? "native" : "wasm"} ${T} thread${T > 1 ? "s" : ""}: ${us.toFixed(3)} us per example, ${((flops / us) * 1e-3).toFixed(1)} GFLOP/s`);
  return us;
}

function benchKernels(): void {
  // Single-thread rates of the inner kernels: forward (z = W x) and forward + backward (W^T delta).
  const model = randomModel([784, 100, 10], ["relu", "identity"], 3);
  const net = uploadModel(arena, model);
  const n = 4096;
  const { images } = mnistImages(n, 0);
  const img = put(images), out = arena.alloc(4 * n * 10), lab = putU8(mnistImages(n, 0).labels);
  const grad = arena.alloc(4 * n * 784), lo = arena.alloc(4 * n);
  const scratch = arena.alloc(native.groupScratchBytes(mem(), net.ptr));
  const loss = lossBlock(L.LOSS_SOFTMAX_CE, 0, false);
  const macs = 784 * 100 + 100 * 10;
  const time = (f: () => void) => {
    f();
    const ts: number[] = [];
    for (let r = 0; r < 7; r++) { const t0 = performance.now(); f(); ts.push((performance.now() - t0) / 1000); }
    return median(ts);
  };
  const tf = time(() => native.feedforwardRange(mem(), net.ptr, img, 0, n, out, scratch));
  const tg = time(() => native.gradientRange(mem(), net.ptr, loss, img, lab, 0, 0, n, lo, grad, scratch));
  console.log(`  feedforwardRange [784,100,10] 1 thread: ${(2 * macs * n / tf * 1e-9).toFixed(1)} GFLOP/s (${(tf / n * 1e6).toFixed(3)} us per image)`);
  console.log(`  gradientRange [784,100,10] softmax-ce 1 thread: ${(4 * macs * n / tg * 1e-9).toFixed(1)} GFLOP/s (${(tg / n * 1e6).toFixed(3)} us per image)`);
  const sig = loadModel("network-784-30-10.json");
  const net2 = uploadModel(arena, sig);
  const tf2 = time(() => native.feedforwardRange(mem(), net2.ptr, img, 0, n, out, scratch));
  const loss2 = lossBlock(L.LOSS_QUADRATIC, 0, false);
  const tg2 = time(() => native.gradientRange(mem(), net2.ptr, loss2, img, lab, 0, 0, n, lo, grad, scratch));
  const m2 = 784 * 30 + 300;
  console.log(`  feedforwardRange [784,30,10] 1 thread: ${(2 * m2 * n / tf2 * 1e-9).toFixed(1)} GFLOP/s; gradientRange quadratic: ${(4 * m2 * n / tg2 * 1e-9).toFixed(1)} GFLOP/s`);
}

async function main(): Promise<void> {
  console.log(`native isa: ${native.isa()}; wasm build: ${wasmBytes.length === readFileSync(fmaPath).length ? "fma" : "plain"}; node ${process.version}`);
  await startWorkers(3);
  if (!benchOnly) {
    checkLayout();
    checkValidation();
    const cases = nets();
    for (const c of cases) checkForward(c);
    for (const c of cases) checkGradient(c);
    for (const c of cases) checkDescent(c, c.model.sizes[0] === 784 ? 9 : 11, c.model.sizes[0] === 784 ? 4 : 6);
    for (const c of cases) checkSgd(c);
    checkCancel();
    await checkBrokenBarrier();
  }
  if (bench) {
    const load = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
    console.log(`timing (load average ${load}; medians):`);
    benchKernels();
    const sig = loadModel("network-784-30-10.json");
    const relu = randomModel([784, 100, 10], ["relu", "identity"], 3);
    const sneaky: Config = { rule: L.STEP_GRADIENT, ball: L.BALL_NONE, clip: false, prior: true, early: false, targeted: true, loss: L.LOSS_QUADRATIC, kappa: 0 };
    const pgd: Config = { rule: L.STEP_SIGN, ball: L.BALL_LINF, clip: true, prior: false, early: false, targeted: false, loss: L.LOSS_SOFTMAX_CE, kappa: 0 };
    const sf = 4 * (784 * 30 + 300), pf = 4 * (784 * 100 + 1000);
    for (const T of [1, 2]) benchDescent("sneaky [784,30,10]", sig, sneaky, 1000, 100, sf, T, true, 5);
    benchDescent("sneaky [784,30,10]", sig, sneaky, 1000, 20, sf, 2, false, 3);
    for (const T of [1, 2]) benchDescent("PGD-40 L-inf softmax-ce [784,100,10] relu", relu, pgd, 1000, 40, pf, T, true, 5);
    benchDescent("PGD-40 L-inf softmax-ce [784,100,10] relu", relu, pgd, 1000, 10, pf, 2, false, 3);
    for (const T of [1, 2]) benchSgd(sig, 20000, 10, T, true, 5);
    benchSgd(sig, 10000, 10, 2, false, 3);
  }
  await stopWorkers();
  console.log(failures === 0 ? "all checks passed" : `${failures} checks FAILED`);
  process.exit(failures === 0 ? 0 : 1);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
