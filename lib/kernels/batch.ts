import { Network } from "../model/network";
import { Dataset } from "../data/dataset";
import { START_MEAN, START_SD } from "../attacks/article";
import { createRng, DEFAULT_SEED } from "../util/random";
import { checkCount, checkFinite, checkLabel, checkSeed } from "../util/validate";
import { kernelEngine } from "./pool";
import { feedforwardScratchBytes, freeNetwork, lineUp, NetHandle, uploadNetwork } from "./net";
import { runSync, WAIT, Work } from "./drive";

/**
 * Batched, float32 versions of the network's forward pass and of the article's attacks, run
 * by the SIMD kernels on every thread. Each image is computed exactly as it would be alone, so
 * results do not depend on the batch, its order or the thread count; they agree with the
 * float64 reference (`Network.feedforward`, `adversarial`, `sneakyAdversarial`) up to float32
 * rounding.
 */

function checkNet(net: Network): void {
  if (!(net instanceof Network)) throw new TypeError("net must be a Network");
}

/** The number of images in a flat array of `size`-pixel images, or an error naming the mismatch. */
function imageCount(images: ArrayLike<number>, size: number, name: string): number {
  if (!images || typeof images.length !== "number") throw new TypeError(`${name} must be an array of numbers`);
  if (images.length % size !== 0) {
    throw new RangeError(`${name} has ${images.length} numbers, not a whole number of ${size}-pixel images`);
  }
  return images.length / size;
}

/**
 * The outputs of `net` for n images at once: `images` holds n x sizes[0] numbers back to back;
 * returns n x sizes[L] float32 activations (row i = image i).
 *
 *   feedforwardBatch(net, test.images.subarray(0, 2 * 784))  // Float32Array of 20 numbers
 */
export function feedforwardBatch(net: Network, images: ArrayLike<number>): Float32Array {
  checkNet(net);
  const n = imageCount(images, net.inputSize, "images");
  const engine = kernelEngine();
  const { arena } = engine;
  const out = new Float32Array(n * net.outputSize);
  // Every region is taken inside the try, so a failed allocation frees the ones before it.
  let handle: NetHandle | null = null;
  const regions: number[] = [];
  const take = (bytes: number) => { const p = arena.alloc(bytes); regions.push(p); return p; };
  try {
    handle = arena.allOrNothing(() => uploadNetwork(arena, net));
    const chunk = 8192;
    const inPtr = take(4 * Math.min(n, chunk) * net.inputSize);
    const outPtr = take(4 * Math.min(n, chunk) * net.outputSize);
    const stride = lineUp(feedforwardScratchBytes(net.sizes));
    const scratch = take(stride * engine.threadCount);
    for (let i0 = 0; i0 < n; i0 += chunk) {
      const m = Math.min(chunk, n - i0);
      const src = images as ArrayLike<number> & { subarray?: (a: number, b: number) => ArrayLike<number> };
      const rows = src.subarray ? src.subarray(i0 * net.inputSize, (i0 + m) * net.inputSize)
        : Array.prototype.slice.call(images, i0 * net.inputSize, (i0 + m) * net.inputSize);
      arena.f32(inPtr, m * net.inputSize).set(rows);
      engine.run({ kernel: "feedforwardRange", args: [handle.ptr, inPtr, 0, m, outPtr, scratch], splitAt: 2, scratchAt: 5, scratchStride: stride });
      out.set(arena.f32(outPtr, m * net.outputSize), i0 * net.outputSize);
    }
  } finally {
    regions.forEach((p) => arena.free(p));
    if (handle) freeNetwork(arena, handle);
  }
  return out;
}

/** The index of the largest of `row`'s numbers (first one on ties), as `argmax`. */
function rowArgmax(out: Float32Array, i: number, k: number): number {
  let best = 0;
  for (let j = 1; j < k; j++) if (out[i * k + j] > out[i * k + best]) best = j;
  return best;
}

/**
 * How many images of `data` the network classifies right, with the batched float32 forward
 * pass: the fast counterpart of `Network.evaluate`.
 *
 *   evaluateBatch(net, test)  // e.g. 9496 for the article's network
 */
export function evaluateBatch(net: Network, data: Dataset): number {
  const predicted = predictBatch(net, data.images);
  let correct = 0;
  for (let i = 0; i < data.length; i++) if (predicted[i] === data.labels[i]) correct++;
  return correct;
}

/**
 * The predicted digit (argmax of the output, first on ties) of each of the n images in `images`
 * (n x inputSize numbers, back to back), from one `feedforwardBatch`: the batched `predict`.
 *
 *   predictBatch(net, test.images)  // Uint8Array of 10,000 digits
 */
export function predictBatch(net: Network, images: ArrayLike<number>): Uint8Array {
  const out = feedforwardBatch(net, images);
  const k = net.outputSize;
  const predicted = new Uint8Array(out.length / k);
  for (let i = 0; i < predicted.length; i++) predicted[i] = rowArgmax(out, i, k);
  return predicted;
}

/**
 * Where a batched attack's images come from: `fill` writes images [i0, i1)'s starting points,
 * targets (when the attack has a prior) and goal labels into the given rows (row k = image i0 + k).
 * It is called once per chunk, in order, so it may draw random numbers as it goes.
 */
export interface AttackSource {
  fill(i0: number, i1: number, starts: Float32Array, targets: Float32Array | null, goals: Uint8Array): void;
}

/** Images per chunk: about 20,000 image-steps per thread (~50 ms), whole groups of 4 per thread. */
export function attackChunkSize(steps: number, threads: number): number {
  const group = 4 * threads;
  const want = Math.ceil((20_000 * threads) / Math.max(1, steps));
  return Math.min(4096, Math.max(group, Math.ceil(want / group) * group));
}

/**
 * Runs the attack loop (x -= eta (dC/dx + lam (x - target))) on n images chunk by chunk,
 * writing results to `out` (n x sizes[0]). While the workers run a chunk, this thread has the
 * source fill the next one (two sets of buffers take turns). `withTargets` false is the
 * non-targeted attack (no prior). Calls `onChunk(done)` after every chunk.
 */
export function* attackChunks(
  net: Network, n: number, source: AttackSource, withTargets: boolean, steps: number, eta: number, lam: number,
  out: Float32Array, onChunk?: (done: number) => void,
): Work<Float32Array> {
  const engine = kernelEngine();
  const { arena } = engine;
  const size = net.inputSize;
  let handle: NetHandle | null = null;
  const regions: number[] = [];
  const take = (bytes: number) => { const p = arena.alloc(bytes); regions.push(p); return p; };
  engine.begin();
  try {
    handle = arena.allOrNothing(() => uploadNetwork(arena, net));
    const chunk = Math.min(attackChunkSize(steps, engine.threadCount), Math.max(n, 1));
    const sets = [0, 1].map(() => ({
      x: take(4 * chunk * size), targets: withTargets ? take(4 * chunk * size) : 0, goals: take(chunk),
    }));
    const stride = lineUp(engine.kernels.attackScratchBytes(handle.ptr));
    const scratch = take(stride * engine.threadCount);
    const fill = (set: (typeof sets)[number], i0: number, m: number) =>
      source.fill(i0, i0 + m, arena.f32(set.x, m * size), set.targets ? arena.f32(set.targets, m * size) : null, arena.u8(set.goals, m));
    if (n > 0) fill(sets[0], 0, Math.min(chunk, n));
    for (let i0 = 0, k = 0; i0 < n; i0 += chunk, k++) {
      const set = sets[k % 2];
      const m = Math.min(chunk, n - i0);
      engine.start({
        kernel: "attackRange", args: [handle.ptr, set.x, set.targets, set.goals, 0, m, steps, eta, lam, scratch],
        splitAt: 4, scratchAt: 9, scratchStride: stride,
      });
      if (i0 + m < n) fill(sets[(k + 1) % 2], i0 + m, Math.min(chunk, n - i0 - m));
      yield WAIT;
      out.set(arena.f32(set.x, m * size), i0 * size);
      onChunk?.(i0 + m);
      yield i0 + m;
    }
  } finally {
    engine.settle();
    engine.end();
    regions.forEach((p) => arena.free(p));
    if (handle) freeNetwork(arena, handle);
  }
  return out;
}

export interface BatchAttackOptions {
  /** Seed of the random starting images, drawn image after image (default 0). */
  seed?: number;
}

function checkGoals(net: Network, goals: ArrayLike<number>): Uint8Array {
  if (!goals || typeof goals.length !== "number") throw new TypeError("goals must be an array of labels");
  const out = new Uint8Array(goals.length);
  for (let i = 0; i < goals.length; i++) {
    checkLabel(goals[i], `goals[${i}]`, net.outputSize);
    out[i] = goals[i];
  }
  return out;
}

function checkAttackArgs(net: Network, steps: number, eta: number, seed: number): void {
  checkNet(net);
  if (net.outputSize > 256) throw new RangeError(`batched attacks take at most 256 output units, the network has ${net.outputSize}`);
  checkCount(steps, "steps");
  checkFinite(eta, "eta");
  checkSeed(seed);
}

/** Fills rows with N(0.5, 0.3) starts from `rng`, image after image, as `noiseImage` draws them. */
function drawStarts(rng: ReturnType<typeof createRng>, rows: Float32Array): void {
  for (let p = 0; p < rows.length; p++) rows[p] = rng.normal(START_MEAN, START_SD);
}

/**
 * The non-targeted attack (`adversarial`) on many goals at once: image i starts from
 * N(0.5, 0.3) noise (drawn from one stream seeded by `seed`, image 0 first) and descends
 * towards the one-hot output of `goals[i]`. Returns goals.length x sizes[0] float32 numbers.
 * With one goal it gives `adversarial(net, goal, steps, eta, { seed })` up to float32 rounding.
 *
 *   const xs = adversarialBatch(net, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 1000, 1, { seed: 1 });
 */
export function adversarialBatch(
  net: Network, goals: ArrayLike<number>, steps: number, eta: number, options: BatchAttackOptions = {},
): Float32Array {
  const seed = options.seed ?? DEFAULT_SEED;
  checkAttackArgs(net, steps, eta, seed);
  const g = checkGoals(net, goals);
  const rng = createRng(seed);
  const size = net.inputSize;
  const source: AttackSource = {
    fill(i0, i1, starts, _targets, goalRows) {
      drawStarts(rng, starts);
      goalRows.set(g.subarray(i0, i1));
    },
  };
  return runSync(attackChunks(net, g.length, source, false, steps, eta, 0, new Float32Array(g.length * size)));
}

/**
 * The sneaky attack (`sneakyAdversarial`) on many images at once: image i starts from
 * N(0.5, 0.3) noise (one stream seeded by `seed`, image 0 first) and descends on
 * 1/2 ||a(x) - onehot(goals[i])||^2 + lam/2 ||x - target_i||^2, where target_i is row i of
 * `xTargets` (goals.length x sizes[0] numbers in [0, 1]). Returns goals.length x sizes[0]
 * float32 numbers. With one goal it gives `sneakyAdversarial(net, goal, target, steps, eta,
 * lam, { seed })` up to float32 rounding.
 *
 *   const xs = sneakyAdversarialBatch(net, [8, 8], test.images.subarray(0, 2 * 784), 100, 1);
 */
export function sneakyAdversarialBatch(
  net: Network, goals: ArrayLike<number>, xTargets: ArrayLike<number>, steps: number, eta: number, lam = 0.05,
  options: BatchAttackOptions = {},
): Float32Array {
  const seed = options.seed ?? DEFAULT_SEED;
  checkAttackArgs(net, steps, eta, seed);
  checkFinite(lam, "lam");
  const g = checkGoals(net, goals);
  const size = net.inputSize;
  const n = imageCount(xTargets, size, "xTargets");
  if (n !== g.length) throw new RangeError(`xTargets holds ${n} images but there are ${g.length} goals`);
  const rng = createRng(seed);
  const source: AttackSource = {
    fill(i0, i1, starts, targets, goalRows) {
      drawStarts(rng, starts);
      for (let p = 0; p < (i1 - i0) * size; p++) {
        const v = xTargets[i0 * size + p];
        if (!Number.isFinite(v)) throw new RangeError(`xTargets[${i0 * size + p}] is ${v}, not a finite number`);
        targets![p] = v;
      }
      goalRows.set(g.subarray(i0, i1));
    },
  };
  return runSync(attackChunks(net, g.length, source, true, steps, eta, lam, new Float32Array(n * size)));
}
