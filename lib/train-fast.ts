import type { EpochReport, Network, SgdOptions } from "./network";
import { Dataset } from "./dataset";
import { createRng, DEFAULT_SEED } from "./random";
import { kernelEngine } from "./kernels/pool";
import { WAIT, Work } from "./kernels/drive";
import { downloadNetwork, feedforwardScratchBytes, freeNetwork, lineUp, NetHandle, uploadNetwork } from "./kernels/net";

/**
 * Nielsen's mini-batch sgd (the same algorithm as `Network.sgdReference`: the same seeded
 * shuffle every epoch, batches of `miniBatchSize` in that order, w -= eta / batch length *
 * summed gradient) on float32 SIMD kernels over every thread. The training images are copied
 * into kernel memory once (4 bytes a pixel); the weights live there during the call and are
 * copied back into `net` after every epoch. Arguments are checked by the caller.
 *
 * A generator run by `runSync` or `runAsync` (kernels/drive.ts): one job per epoch.
 */
export function* sgdFast(
  net: Network, training: Dataset, epochs: number, miniBatchSize: number, eta: number, options: SgdOptions,
): Work<void> {
  const engine = kernelEngine();
  const { arena } = engine;
  const n = training.length;
  const size = net.inputSize;
  const B = miniBatchSize;
  const units = net.sizes.slice(1);
  const unitsTotal = units.reduce((s, u) => s + u, 0);
  const regions: number[] = [];
  const take = (bytes: number) => { const p = arena.alloc(bytes); regions.push(p); return p; };
  let handle: NetHandle | null = null;
  engine.begin();
  try {
    handle = uploadNetwork(arena, net);
    const images = take(4 * n * size);
    arena.f32(images, n * size).set(training.images);
    const labels = take(n);
    arena.u8(labels, n).set(training.labels);
    const order = take(4 * n);
    const acts = take(8 * B * unitsTotal);
    const deltas = take(4 * B * unitsTotal);
    const T = engine.threadCount;
    const perThread = lineUp(4 * B + ((B + 3) & ~3) + 4 * B + 32 + 8 * Math.max(...net.sizes) + 64);
    const scratch = take(perThread * T);
    const ctx = take(64);
    const words = arena.u32(ctx, 16);
    words.fill(0);
    words[0] = images; words[1] = labels; words[2] = order; words[3] = n; words[4] = B;
    new Float32Array(arena.memory.buffer, ctx + 24, 1)[0] = eta;
    words[9] = acts; words[10] = deltas; words[11] = scratch; words[12] = perThread;

    const rng = createRng(options.seed ?? DEFAULT_SEED);
    const shuffled = Uint32Array.from({ length: n }, (_, i) => i);
    const batches = Math.ceil(n / B);
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const start = performance.now();
      rng.shuffle(shuffled);
      arena.u32(order, n).set(shuffled);
      engine.start({ kernel: "sgdRange", args: [handle.ptr, ctx, 0, batches], appendThread: true });
      yield WAIT;
      const seconds = (performance.now() - start) / 1000;
      downloadNetwork(arena, handle, net);
      if (options.onEpoch) options.onEpoch(epochReport(net, handle, epoch, epochs, seconds, options.testData));
      if (epoch < epochs) yield epoch;
    }
  } finally {
    engine.settle();
    engine.end();
    regions.forEach((p) => arena.free(p));
    if (handle) freeNetwork(arena, handle);
  }
}

/** The epoch's report; test accuracy from the float32 forward pass on the kernel's weights. */
function epochReport(net: Network, handle: NetHandle, epoch: number, epochs: number, seconds: number, testData?: Dataset): EpochReport {
  const report: EpochReport = { epoch, epochs, seconds };
  if (!testData) return report;
  report.correct = countCorrect(handle, net, testData);
  report.total = testData.length;
  report.accuracy = report.total === 0 ? 0 : report.correct / report.total;
  return report;
}

/** Images of `data` whose largest output (first on ties) is their label, with the weights at `handle`. */
export function countCorrect(handle: NetHandle, net: Network, data: Dataset): number {
  const engine = kernelEngine();
  const { arena } = engine;
  const n = data.length;
  if (n === 0) return 0;
  const k = net.outputSize;
  const images = arena.alloc(4 * n * net.inputSize);
  const out = arena.alloc(4 * n * k);
  const stride = lineUp(feedforwardScratchBytes(net.sizes));
  const scratch = arena.alloc(stride * engine.threadCount);
  try {
    arena.f32(images, n * net.inputSize).set(data.images);
    engine.run({ kernel: "feedforwardRange", args: [handle.ptr, images, 0, n, out, scratch], splitAt: 2, scratchAt: 5, scratchStride: stride });
    const a = arena.f32(out, n * k);
    let correct = 0;
    for (let i = 0; i < n; i++) {
      let best = 0;
      for (let j = 1; j < k; j++) if (a[i * k + j] > a[i * k + best]) best = j;
      if (best === data.labels[i]) correct++;
    }
    return correct;
  } finally {
    [images, out, scratch].forEach((p) => arena.free(p));
  }
}
