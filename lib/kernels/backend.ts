import { countArgmaxAt } from "../util/argmax";
import type {
  Backend, Ball, DenseModel, DescentProgram, DescentResult, GradientResult, LossName, LossSpec, StepRule, TrainProgram,
  TrainReport,
} from "../model/backend";
import { InterruptedError } from "../util/work";
import type { Pending, Work } from "../util/work";

const KERNEL_WHAT = "the fast kernels";
import { createRng, lcgJump } from "../util/random";
import { fillUniformLinfStarts, originsOf } from "../model/starts";
import { KernelEngine, kernelEngine, KernelKind } from "./pool";
import { Arena } from "./arena";
import { feedforwardScratchBytes, freeNetwork, lineUp, NetHandle, uploadModel } from "./net";
import {
  BALL_L2, BALL_LINF, BALL_NONE, CANCEL_FLAG, LOSS_BYTES, LOSS_COTANGENT, LOSS_KAPPA, LOSS_KIND, LOSS_MARGIN,
  LOSS_QUADRATIC, LOSS_SOFTMAX_CE, LOSS_TARGETED, PROG_BALL, PROG_BYTES, PROG_CLIP, PROG_EARLY_STOP, PROG_EPS,
  PROG_LABELS, PROG_LAM, PROG_LOSS, PROG_ORIGINS, PROG_PRIOR, PROG_STEPS, PROG_STEPS_USED, PROG_STEP_RULE,
  PROG_START, PROG_START_EPS, PROG_START_STATE, PROG_STEP_SIZE, PROG_THRESHOLD, PROG_THRESHOLDED, PROG_X, START_GIVEN, START_UNIFORM_LINF, SGD_ACTS, SGD_BATCH, SGD_BYTES, SGD_DELTAS, SGD_ETA, SGD_IMAGES, SGD_LABELS, SGD_LOSS, SGD_N,
  SGD_ORDER, SGD_SCRATCH, SGD_SCRATCH_BYTES, SGD_SPINS, STEP_GRADIENT, STEP_L2, STEP_SIGN,
} from "./layout";

/**
 * The float32 WebAssembly SIMD backend: `Backend` (model/backend.ts) on the kernels of
 * assembly/kernels.ts, run by every kernel thread over one shared memory (see setThreads).
 * The model is copied in (float64 -> float32) at each call; each image is computed by one
 * thread by one fixed sequence of operations, so results do not depend on the batch, its order
 * or the thread count. For sigmoid layers with the quadratic loss, forward, the article's attacks
 * and sgd give the same bits as feedforwardBatch, sneakyAdversarialBatch and Network.sgd.
 *
 *   const out = wasmBackend.forward(model, images);           // n x classes Float32Array
 *   const { loss, gradient } = wasmBackend.lossGradient(model, images, labels,
 *     { name: "softmax-cross-entropy", kappa: 0, targeted: false });
 *   const { images: adv } = runSync(wasmBackend.descend(model, program));
 *   runSync(wasmBackend.train(model, program));              // updates model's weights in place
 *
 * Other arguments are taken as validated by the caller (shapes, labels < classes, finite
 * numbers); the kernels still never read or write outside the memory given to them. A set
 * cancel word (layout.ts CANCEL_FLAG, set by util/work.ts's interruptWork) stops a running
 * call, which then throws InterruptedError.
 */

export const LOSS_CODES: Record<LossName, number> = {
  quadratic: LOSS_QUADRATIC, "softmax-cross-entropy": LOSS_SOFTMAX_CE, margin: LOSS_MARGIN,
};
export const STEP_CODES: Record<StepRule, number> = { gradient: STEP_GRADIENT, sign: STEP_SIGN, l2: STEP_L2 };
export const BALL_CODES: Record<Ball, number> = { none: BALL_NONE, linf: BALL_LINF, l2: BALL_L2 };

/** How many times a thread checks an sgd barrier before it sleeps (see train-fast.ts). */
const BARRIER_SPINS = 50_000;

function cancelWord(engine: KernelEngine): Int32Array {
  return new Int32Array(engine.memory.buffer, CANCEL_FLAG, 1);
}

function clearInterrupt(engine: KernelEngine): void {
  Atomics.store(cancelWord(engine), 0, 0);
}

/**
 * After a job: when the cancel word is set (util/work.ts's `interruptWork`, which SIGINT calls),
 * clears it and throws InterruptedError.
 */
function checkInterrupt(engine: KernelEngine, what: string): void {
  if (Atomics.load(cancelWord(engine), 0) !== 0) {
    clearInterrupt(engine);
    throw new InterruptedError(what);
  }
}

function pendingJob(engine: KernelEngine): Pending {
  return { finish: () => engine.finish(), finishAsync: () => engine.finishAsync() };
}

/** Kernel memory taken for one call, returned by `release`. */
class Regions {
  private taken: number[] = [];
  handle: NetHandle | null = null;
  constructor(readonly arena: Arena) {}
  take(bytes: number): number {
    const p = this.arena.alloc(bytes);
    this.taken.push(p);
    return p;
  }
  upload(model: DenseModel): NetHandle {
    this.handle = uploadModel(this.arena, model);
    return this.handle;
  }
  release(): void {
    this.taken.forEach((p) => this.arena.free(p));
    this.taken = [];
    if (this.handle) freeNetwork(this.arena, this.handle);
    this.handle = null;
  }
}

/** Rows [i0, i1) of a flat array of rows `size` long (a view when it can be one). */
function rowsOf(data: ArrayLike<number>, size: number, i0: number, i1: number): ArrayLike<number> {
  const typed = data as ArrayLike<number> & { subarray?: (a: number, b: number) => ArrayLike<number> };
  return typed.subarray ? typed.subarray(i0 * size, i1 * size) : Array.prototype.slice.call(data, i0 * size, i1 * size);
}

function writeLoss(arena: Arena, ptr: number, kind: number, kappa: number, targeted: boolean): void {
  const i32 = arena.i32(ptr, LOSS_BYTES / 4);
  i32.fill(0);
  i32[LOSS_KIND / 4] = kind;
  arena.f32(ptr + LOSS_KAPPA, 1)[0] = kappa;
  i32[LOSS_TARGETED / 4] = targeted ? 1 : 0;
}

/** Images per chunk of the batched calls without steps. */
const CHUNK = 4096;

function forward(engine: KernelEngine, model: DenseModel, images: ArrayLike<number>): Float32Array {
  const d = model.sizes[0], classes = model.sizes[model.sizes.length - 1];
  const n = Math.floor(images.length / d);
  const out = new Float32Array(n * classes);
  const mem = new Regions(engine.arena);
  clearInterrupt(engine);
  engine.begin();
  try {
    const net = mem.upload(model);
    const chunk = Math.max(1, Math.min(n, CHUNK));
    const inPtr = mem.take(4 * chunk * d), outPtr = mem.take(4 * chunk * classes);
    // The native kernels' forward pass uses their group scratch (see native.ts).
    const stride = lineUp(Math.max(feedforwardScratchBytes(model.sizes), engine.kernels.groupScratchBytes(net.ptr)));
    const scratch = mem.take(stride * engine.threadCount);
    for (let i0 = 0; i0 < n; i0 += chunk) {
      const m = Math.min(chunk, n - i0);
      engine.arena.f32(inPtr, m * d).set(rowsOf(images, d, i0, i0 + m));
      engine.run({ kernel: "feedforwardRange", args: [net.ptr, inPtr, 0, m, outPtr, scratch], splitAt: 2, scratchAt: 5, scratchStride: stride });
      checkInterrupt(engine, KERNEL_WHAT);
      out.set(engine.arena.f32(outPtr, m * classes), i0 * classes);
    }
  } finally {
    engine.settle();
    engine.end();
    mem.release();
  }
  return out;
}

/** lossGradient and vjp: `labels` for a loss, or `cotangents` (n x classes) for the vjp. */
function gradient(
  engine: KernelEngine, model: DenseModel, images: ArrayLike<number>, labels: Uint8Array | null, cotangents: ArrayLike<number> | null, loss: LossSpec | null,
): GradientResult {
  const { arena } = engine;
  const d = model.sizes[0], classes = model.sizes[model.sizes.length - 1];
  const n = Math.floor(images.length / d);
  const lossValues = new Float64Array(n);
  const grads = new Float32Array(n * d);
  const mem = new Regions(arena);
  clearInterrupt(engine);
  engine.begin();
  try {
    const net = mem.upload(model);
    const chunk = Math.max(1, Math.min(n, CHUNK));
    const lossBlock = mem.take(LOSS_BYTES);
    writeLoss(arena, lossBlock, loss ? LOSS_CODES[loss.name] : LOSS_COTANGENT, loss ? loss.kappa : 0, loss ? loss.targeted : false);
    const inPtr = mem.take(4 * chunk * d), gradPtr = mem.take(4 * chunk * d);
    const labPtr = mem.take(chunk), cotPtr = cotangents ? mem.take(4 * chunk * classes) : 0;
    const lossPtr = mem.take(4 * chunk);
    const stride = lineUp(engine.kernels.groupScratchBytes(net.ptr));
    const scratch = mem.take(stride * engine.threadCount);
    for (let i0 = 0; i0 < n; i0 += chunk) {
      const m = Math.min(chunk, n - i0);
      arena.f32(inPtr, m * d).set(rowsOf(images, d, i0, i0 + m));
      if (labels) arena.u8(labPtr, m).set(labels.subarray(i0, i0 + m));
      if (cotangents) arena.f32(cotPtr, m * classes).set(rowsOf(cotangents, classes, i0, i0 + m));
      engine.run({
        kernel: "gradientRange", args: [net.ptr, lossBlock, inPtr, labels ? labPtr : 0, cotPtr, 0, m, lossPtr, gradPtr, scratch],
        splitAt: 5, scratchAt: 9, scratchStride: stride,
      });
      checkInterrupt(engine, KERNEL_WHAT);
      grads.set(arena.f32(gradPtr, m * d), i0 * d);
      lossValues.set(arena.f32(lossPtr, m), i0);
    }
  } finally {
    engine.settle();
    engine.end();
    mem.release();
  }
  return { loss: lossValues, gradient: grads };
}

/** Images per descent chunk: about 20,000 image-steps per thread (~50 ms), whole groups of 4 per thread. */
function descentChunk(steps: number, threads: number): number {
  const group = 4 * threads;
  const want = Math.ceil((20_000 * threads) / Math.max(1, steps));
  return Math.min(4096, Math.max(group, Math.ceil(want / group) * group));
}

/**
 * Images a thread claims at a time in a descent job: about 8 claims a thread, in whole groups
 * of 8 images (the native kernels' group). Each image descends alone, so the bits do not depend
 * on who takes which; the threads balance the work between them.
 */
function descentSlice(m: number, threads: number): number {
  return threads <= 1 ? 0 : Math.max(8, Math.ceil(m / (8 * threads) / 8) * 8);
}

/** Writes a descent program block at `prog` (the pointers given; 0 for none). */
function writeProgram(
  arena: Arena, prog: number, p: { x: number; labels: number; prior: number; origins: number; used: number },
  s: {
    loss: LossSpec; steps: number; step: StepRule; stepSize: number; lam: number; ball: Ball; eps: number; clip: boolean; earlyStop: boolean;
    inputThreshold?: number | null;
  },
): void {
  const i32 = arena.i32(prog, PROG_BYTES / 4), f32 = arena.f32(prog, PROG_BYTES / 4);
  i32.fill(0);
  i32[PROG_X / 4] = p.x; i32[PROG_LABELS / 4] = p.labels; i32[PROG_PRIOR / 4] = p.prior;
  i32[PROG_ORIGINS / 4] = p.origins; i32[PROG_STEPS_USED / 4] = p.used;
  i32[PROG_STEPS / 4] = s.steps; i32[PROG_STEP_RULE / 4] = STEP_CODES[s.step];
  f32[PROG_STEP_SIZE / 4] = s.stepSize; f32[PROG_LAM / 4] = s.lam;
  i32[PROG_BALL / 4] = BALL_CODES[s.ball]; f32[PROG_EPS / 4] = s.eps;
  i32[PROG_CLIP / 4] = s.clip ? 1 : 0; i32[PROG_EARLY_STOP / 4] = s.earlyStop ? 1 : 0;
  const thresholded = s.inputThreshold !== undefined && s.inputThreshold !== null;
  i32[PROG_THRESHOLDED / 4] = thresholded ? 1 : 0; f32[PROG_THRESHOLD / 4] = thresholded ? s.inputThreshold! : 0;
  writeLoss(arena, prog + PROG_LOSS, LOSS_CODES[s.loss.name], s.loss.kappa, s.loss.targeted);
}

function* descend(engine: KernelEngine, model: DenseModel, program: DescentProgram, onChunk?: (done: number) => void): Work<DescentResult> {
  const { arena } = engine;
  const d = model.sizes[0];
  const n = program.labels.length;
  const images = new Float32Array(n * d);
  const stepsUsed = new Int32Array(n);
  const mem = new Regions(arena);
  clearInterrupt(engine);
  engine.begin();
  try {
    const net = mem.upload(model);
    const chunk = Math.max(1, Math.min(descentChunk(program.steps, engine.threadCount), n));
    const withPrior = program.priorTargets !== null && program.lam !== 0;
    // As the reference: without origins there is no ball to project into.
    const withOrigins = program.ball !== "none" && program.origins !== null;
    const sets = [0, 1].map(() => {
      const set = {
        x: mem.take(4 * chunk * d), labels: mem.take(chunk), used: mem.take(4 * chunk),
        prior: withPrior ? mem.take(4 * chunk * d) : 0, origins: withOrigins ? mem.take(4 * chunk * d) : 0,
        prog: mem.take(PROG_BYTES),
      };
      writeProgram(arena, set.prog, set, withOrigins ? program : { ...program, ball: "none" });
      return set;
    });
    const stride = lineUp(engine.kernels.groupScratchBytes(net.ptr));
    const scratch = mem.take(stride * engine.threadCount);
    const fill = (set: (typeof sets)[number], i0: number, m: number) => {
      const x = arena.f32(set.x, m * d);
      const starts = program.starts;
      // Uniform starts around the ball's centres are drawn by the kernels, each thread its own
      // images from this chunk's place in the stream; any other start is written here.
      const inKernels = typeof starts !== "function" && "kind" in starts && set.origins !== 0;
      arena.i32(set.prog + PROG_START, 1)[0] = inKernels ? START_UNIFORM_LINF : START_GIVEN;
      if (inKernels) {
        arena.i32(set.prog + PROG_START_STATE, 1)[0] = lcgJump(starts.state, i0 * d);
        arena.f64(set.prog + PROG_START_EPS, 1)[0] = starts.eps;
      } else if (typeof starts === "function") starts(i0, i0 + m, x);
      else if ("kind" in starts) fillUniformLinfStarts(starts, i0, originsOf(program).subarray(i0 * d, (i0 + m) * d), x, d);
      else x.set(starts.subarray(i0 * d, (i0 + m) * d));
      arena.u8(set.labels, m).set(program.labels.subarray(i0, i0 + m));
      if (set.prior) arena.f32(set.prior, m * d).set(program.priorTargets!.subarray(i0 * d, (i0 + m) * d));
      if (set.origins) arena.f32(set.origins, m * d).set(program.origins!.subarray(i0 * d, (i0 + m) * d));
    };
    // The first chunks are small, so the kernels start at once; each chunk after is up to 4 times
    // the one before, its starts drawn (and copied in) while the one before computes.
    const first = Math.min(chunk, 8 * engine.threadCount);
    const sizeAfter = (m: number, i0: number) => Math.min(chunk, 4 * m, n - i0);
    if (n > 0) fill(sets[0], 0, Math.min(first, n));
    for (let i0 = 0, k = 0, m = Math.min(first, n); i0 < n; i0 += m, m = sizeAfter(m, i0), k++) {
      const set = sets[k % 2];
      engine.start({
        kernel: "descendRange", args: [net.ptr, set.prog, 0, m, scratch], splitAt: 2, scratchAt: 4, scratchStride: stride,
        slice: descentSlice(m, engine.threadCount),
      });
      if (i0 + m < n) fill(sets[(k + 1) % 2], i0 + m, sizeAfter(m, i0 + m));
      yield pendingJob(engine);
      checkInterrupt(engine, KERNEL_WHAT);
      images.set(arena.f32(set.x, m * d), i0 * d);
      stepsUsed.set(arena.i32(set.used, m), i0);
      onChunk?.(i0 + m);
      if (i0 + m < n) yield i0 + m;
    }
  } finally {
    engine.settle();
    engine.end();
    mem.release();
  }
  return { images, stepsUsed };
}

/** Copies n rows of `size` numbers from `data` into kernel memory at `ptr` (float32), yielding between slices. */
function* copyRows(arena: Arena, ptr: number, data: ArrayLike<number>, n: number, size: number): Work<void> {
  const slice = 8192;
  for (let i = 0; i < n; i += slice) {
    const m = Math.min(slice, n - i);
    arena.f32(ptr + 4 * i * size, m * size).set(rowsOf(data, size, i, i + m));
    if (i + m < n) yield i + m;
  }
}


function* train(engine: KernelEngine, model: DenseModel, program: TrainProgram): Work<void> {
  const { arena } = engine;
  const sizes = model.sizes;
  const d = sizes[0], classes = sizes[sizes.length - 1];
  const n = program.labels.length;
  const B = program.miniBatchSize;
  if (program.loss !== "quadratic" && program.loss !== "softmax-cross-entropy") {
    throw new RangeError(`training takes the quadratic or softmax-cross-entropy loss, not ${program.loss}`);
  }
  const unitsTotal = sizes.slice(1).reduce((s, u) => s + u, 0);
  const mem = new Regions(arena);
  clearInterrupt(engine);
  engine.begin();
  try {
    const net = mem.upload(model);
    const T = engine.threadCount;
    const acts = mem.take(8 * B * unitsTotal);
    const deltas = mem.take(4 * B * unitsTotal);
    const perThread = lineUp(4 * B + ((B + 3) & ~3) + 4 * B + 32 + 8 * Math.max(...sizes) + 64);
    const sgdScratch = mem.take(perThread * T);
    const ctxFor = (images: number, labels: number, order: number, count: number) => {
      const ctx = mem.take(SGD_BYTES);
      const words = arena.u32(ctx, SGD_BYTES / 4);
      words.fill(0);
      words[SGD_IMAGES / 4] = images; words[SGD_LABELS / 4] = labels; words[SGD_ORDER / 4] = order;
      words[SGD_N / 4] = count; words[SGD_BATCH / 4] = B; words[SGD_SPINS / 4] = BARRIER_SPINS;
      arena.f32(ctx + SGD_ETA, 1)[0] = program.eta;
      words[SGD_ACTS / 4] = acts; words[SGD_DELTAS / 4] = deltas;
      words[SGD_SCRATCH / 4] = sgdScratch; words[SGD_SCRATCH_BYTES / 4] = perThread;
      words[SGD_LOSS / 4] = LOSS_CODES[program.loss];
      return ctx;
    };

    const test = program.test && program.test.labels.length > 0 ? program.test : null;
    let testImages = 0, testOut = 0, testScratch = 0, testStride = 0;
    if (test) {
      testImages = mem.take(4 * test.labels.length * d);
      yield* copyRows(arena, testImages, test.images, test.labels.length, d);
      testOut = mem.take(4 * test.labels.length * classes);
      testStride = lineUp(feedforwardScratchBytes(sizes));
      testScratch = mem.take(testStride * T);
    }

    const adversary = program.adversary;
    // Without an adversary: the training set in kernel memory, one job per epoch. With one: a
    // mini-batch at a time, two jobs per mini-batch (the attack, then the update).
    let epochCtx = 0, order = 0;
    let sets: { clean: number; x: number; labels: number; prog: number; ctx: number }[] = [];
    let descentStride = 0, descentScratch = 0;
    if (!adversary) {
      const images = mem.take(4 * n * d);
      yield* copyRows(arena, images, program.images, n, d);
      const labels = mem.take(Math.max(1, n));
      arena.u8(labels, n).set(program.labels);
      order = mem.take(4 * Math.max(1, n));
      epochCtx = ctxFor(images, labels, order, n);
    } else {
      const identity = mem.take(4 * B);
      arena.u32(identity, B).set(Uint32Array.from({ length: B }, (_, i) => i));
      sets = [0, 1].map(() => {
        const clean = mem.take(4 * B * d), x = mem.take(4 * B * d), labels = mem.take(B), prog = mem.take(PROG_BYTES);
        writeProgram(arena, prog, { x, labels, prior: 0, origins: adversary.ball !== "none" ? clean : 0, used: 0 },
          { ...adversary, lam: 0, earlyStop: false });
        return { clean, x, labels, prog, ctx: ctxFor(x, labels, identity, B) };
      });
      descentStride = lineUp(engine.kernels.groupScratchBytes(net.ptr));
      descentScratch = mem.take(descentStride * T);
    }

    const rng = createRng(program.seed);
    const shuffled = Uint32Array.from({ length: n }, (_, i) => i);
    const batches = Math.ceil(n / B);
    const fillBatch = (set: (typeof sets)[number], k: number): number => {
      const start = k * B, m = Math.min(B, n - start);
      const clean = arena.f32(set.clean, m * d);
      const labels = arena.u8(set.labels, m);
      for (let i = 0; i < m; i++) {
        const j = shuffled[start + i];
        clean.set(rowsOf(program.images, d, j, j + 1), i * d);
        labels[i] = program.labels[j];
      }
      adversary!.fillStarts(clean, arena.f32(set.x, m * d));
      arena.u32(set.ctx + SGD_N, 1)[0] = m;
      return m;
    };
    for (let epoch = 1; epoch <= program.epochs; epoch++) {
      const started = performance.now();
      rng.shuffle(shuffled);
      if (!adversary) {
        arena.u32(order, n).set(shuffled);
        engine.start({ kernel: "sgdRange", args: [net.ptr, epochCtx, 0, batches], appendThread: true });
        yield pendingJob(engine);
        checkInterrupt(engine, KERNEL_WHAT);
      } else if (batches > 0) {
        let m = fillBatch(sets[0], 0);
        for (let k = 0; k < batches; k++) {
          const set = sets[k % 2];
          engine.start({ kernel: "descendRange", args: [net.ptr, set.prog, 0, m, descentScratch], splitAt: 2, scratchAt: 4, scratchStride: descentStride });
          const next = k + 1 < batches ? fillBatch(sets[(k + 1) % 2], k + 1) : 0;
          yield pendingJob(engine);
          checkInterrupt(engine, KERNEL_WHAT);
          engine.start({ kernel: "sgdRange", args: [net.ptr, set.ctx, 0, 1], appendThread: true });
          yield pendingJob(engine);
          checkInterrupt(engine, KERNEL_WHAT);
          m = next;
        }
      }
      const seconds = (performance.now() - started) / 1000;
      sizes.slice(1).forEach((rows, l) => {
        model.weights[l].set(arena.f32(net.weights[l], rows * sizes[l]));
        model.biases[l].set(arena.f32(net.biases[l], rows));
      });
      const report: TrainReport = { epoch, epochs: program.epochs, seconds };
      if (program.test) {
        let correct = 0;
        if (test) {
          engine.start({
            kernel: "feedforwardRange", args: [net.ptr, testImages, 0, test.labels.length, testOut, testScratch],
            splitAt: 2, scratchAt: 5, scratchStride: testStride,
          });
          yield pendingJob(engine);
          checkInterrupt(engine, KERNEL_WHAT);
          correct = countArgmaxAt(arena.f32(testOut, test.labels.length * classes), test.labels, classes);
        }
        report.correct = correct;
      }
      program.onEpoch?.(report);
      if (epoch < program.epochs) yield epoch;
    }
  } finally {
    engine.settle();
    engine.end();
    mem.release();
  }
}

/** The `Backend` contract on the engine of `kind` kernels (started on first use). */
export function kernelBackend(kind: KernelKind): Backend {
  const engine = () => kernelEngine(kind);
  return {
    name: kind,
    forward: (model, images) => forward(engine(), model, images),
    lossGradient: (model, images, labels, loss) => gradient(engine(), model, images, labels, null, loss),
    vjp: (model, images, cotangents) => gradient(engine(), model, images, null, cotangents, null).gradient,
    descend: (model, program, onChunk) => descend(engine(), model, program, onChunk),
    train: (model, program) => train(engine(), model, program),
  };
}

export const wasmBackend = kernelBackend("wasm");
/** The native kernels (native.ts); using it throws when the module is not built. */
export const nativeBackend = kernelBackend("native");
