import { Dataset } from "../data/dataset";
import { addOuter, denseBackward, denseForward } from "./layer";
import { createRng, DEFAULT_SEED } from "../util/random";
import { checkCount, checkFinite, checkSeed, checkVector } from "../util/validate";
import { NetworkJson, parseNetworkJson } from "./network-json";
import { readJsonFile, writeFileAtomic } from "../util/files";
import { argmax } from "../attacks/criteria";
import { sgdFast } from "../kernels/train-fast";
import { runAsync, runSync } from "../kernels/drive";

/** What `sgd` reports after each epoch. */
export interface EpochReport {
  /** 1-based epoch number. */
  epoch: number;
  epochs: number;
  /** Seconds the epoch's training took (evaluation excluded). */
  seconds: number;
  /** With `testData`: images classified right, their count and the ratio. */
  correct?: number;
  total?: number;
  accuracy?: number;
}

export interface SgdOptions {
  testData?: Dataset;
  /** Seed of the per-epoch shuffles (default 0). */
  seed?: number;
  onEpoch?: (report: EpochReport) => void;
}

/**
 * Michael Nielsen's feed-forward network (network.py): sigmoid on every layer, the quadratic
 * cost C = 1/2 ||a - y||^2, mini-batch stochastic gradient descent.
 *
 * `weights[l]` is a Float64Array of `sizes[l+1] x sizes[l]` numbers, row-major (row = unit fed,
 * col = unit feeding); `biases[l]` has `sizes[l+1]` numbers.
 *
 *   const net = new Network([784, 30, 10], { seed: 1 });
 *   net.feedforward(test.image(0))  // Float64Array of 10 activations in (0, 1)
 */
export class Network {
  readonly sizes: number[];
  readonly weights: Float64Array[];
  readonly biases: Float64Array[];

  /** Weights and biases drawn from N(0, 1) (biases first, then weights, as network.py). */
  constructor(sizes: number[], options: { seed?: number } = {}) {
    if (!Array.isArray(sizes) || sizes.length < 2) {
      throw new RangeError(`sizes must list at least two layers, e.g. [784, 30, 10], got ${JSON.stringify(sizes)}`);
    }
    sizes.forEach((n, l) => checkCount(n, `sizes[${l}]`, 1));
    const rng = createRng(options.seed ?? DEFAULT_SEED);
    this.sizes = sizes.slice();
    this.biases = this.layerShapes().map(([rows]) => Float64Array.from({ length: rows }, () => rng.normal()));
    this.weights = this.layerShapes().map(([rows, cols]) => Float64Array.from({ length: rows * cols }, () => rng.normal()));
  }

  /** [rows, cols] of each weight matrix. */
  layerShapes(): [number, number][] {
    return this.sizes.slice(1).map((rows, l) => [rows, this.sizes[l]]);
  }

  get inputSize(): number {
    return this.sizes[0];
  }

  get outputSize(): number {
    return this.sizes[this.sizes.length - 1];
  }

  /** The activations of every layer for input x (`sizes[0]` numbers), input included. */
  activations(x: ArrayLike<number>): Float64Array[] {
    checkVector(x, this.inputSize, "input x");
    const as: Float64Array[] = [Float64Array.from(x)];
    this.layerShapes().forEach(([rows, cols], l) => {
      const out = new Float64Array(rows);
      denseForward(this.weights[l], this.biases[l], as[l], rows, cols, out);
      as.push(out);
    });
    return as;
  }

  /** The output layer's activations for input x: `sizes[last]` numbers in (0, 1). */
  feedforward(x: ArrayLike<number>): Float64Array {
    const as = this.activations(x);
    return as[as.length - 1];
  }

  /** The index of the largest output: the digit the network sees in x. */
  predict(x: ArrayLike<number>): number {
    return argmax(this.feedforward(x));
  }

  /**
   * Gradients of C = 1/2 ||feedforward(x) - y||^2 for one example: `nablaB[l]` and `nablaW[l]`
   * shaped like `biases[l]` and `weights[l]`, and `nablaX`, the gradient with respect to x.
   */
  backprop(x: ArrayLike<number>, y: ArrayLike<number>): { nablaB: Float64Array[]; nablaW: Float64Array[]; nablaX: Float64Array } {
    checkVector(y, this.outputSize, "goal y");
    const nablaB = this.biases.map((b) => new Float64Array(b.length));
    const nablaW = this.weights.map((w) => new Float64Array(w.length));
    const nablaX = this.backpropInto(this.activations(x), y, nablaB, nablaW, true)!;
    return { nablaB, nablaW, nablaX };
  }

  /**
   * Gradient of 1/2 ||feedforward(x) - goal||^2 with respect to the input x (`sizes[0]` numbers):
   * ordinary backpropagation carried one layer further down, with the weights held fixed.
   */
  inputDerivative(x: ArrayLike<number>, goal: ArrayLike<number>): Float64Array {
    checkVector(goal, this.outputSize, "goal");
    return this.backpropInto(this.activations(x), goal, null, null, true)!;
  }

  /**
   * Adds one example's gradients into nablaB / nablaW (when given) and returns dC/dx when
   * `wantInput`. `as` are the activations from `activations(x)`.
   */
  backpropInto(
    as: Float64Array[], y: ArrayLike<number>, nablaB: Float64Array[] | null, nablaW: Float64Array[] | null, wantInput: boolean,
  ): Float64Array | null {
    const shapes = this.layerShapes();
    const L = shapes.length;
    // dC/da of the output layer for the quadratic cost: (a - y).
    let grad = new Float64Array(this.outputSize);
    for (let j = 0; j < grad.length; j++) grad[j] = as[L][j] - y[j];
    for (let l = L - 1; l >= 0; l--) {
      const [rows, cols] = shapes[l];
      const delta = new Float64Array(rows);
      const below = l > 0 || wantInput ? new Float64Array(cols) : null;
      denseBackward(this.weights[l], as[l + 1], grad, rows, cols, delta, below);
      if (nablaB && nablaW) addOuter(nablaW[l], nablaB[l], delta, as[l], rows, cols);
      if (below === null) return null;
      grad = below;
    }
    return grad;
  }

  /**
   * Mini-batch stochastic gradient descent, as network.py, on the fast float32 kernels
   * (`sgdReference` is the same algorithm in plain float64 code): each epoch shuffles the training
   * images (seeded), cuts them into batches of `miniBatchSize` and moves every weight by
   * `-eta / batch length` times the batch's summed gradient. With `testData`, each epoch's
   * report carries the number it classifies right (float32 forward pass). Runs on the kernel
   * worker threads (see `setThreads`) and returns when training is done.
   *
   *   net.sgd(training, 30, 10, 3.0, { testData: test, onEpoch: (r) => console.log(r.epoch, r.accuracy) })
   */
  sgd(training: Dataset, epochs: number, miniBatchSize: number, eta: number, options: SgdOptions = {}): void {
    this.checkSgd(training, epochs, miniBatchSize, eta, options);
    runSync(sgdFast(this, training, epochs, miniBatchSize, eta, options));
  }

  /**
   * `sgd` that leaves the event loop free while the worker threads train (so a notebook can
   * show progress and stay responsive); `onEpoch` runs between epochs. The same numbers as `sgd`.
   *
   *   const bar = progress(30, "epochs");
   *   await net.sgdAsync(training, 30, 10, 3.0, { testData: test, onEpoch: (r) => bar.update(r.epoch) });
   *   await bar.finish();
   */
  async sgdAsync(training: Dataset, epochs: number, miniBatchSize: number, eta: number, options: SgdOptions = {}): Promise<void> {
    this.checkSgd(training, epochs, miniBatchSize, eta, options);
    await runAsync(() => sgdFast(this, training, epochs, miniBatchSize, eta, options));
  }

  /**
   * The readable float64 reference for `sgd` (one example at a time, as network.py), which the
   * tests hold the fast kernels to. The same shuffles and update rule; about 30 times slower.
   */
  sgdReference(training: Dataset, epochs: number, miniBatchSize: number, eta: number, options: SgdOptions = {}): void {
    this.checkSgd(training, epochs, miniBatchSize, eta, options);
    const rng = createRng(options.seed ?? DEFAULT_SEED);
    const order = Uint32Array.from({ length: training.length }, (_, i) => i);
    const nablaB = this.biases.map((b) => new Float64Array(b.length));
    const nablaW = this.weights.map((w) => new Float64Array(w.length));
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const start = performance.now();
      rng.shuffle(order);
      for (let k = 0; k < order.length; k += miniBatchSize) {
        const end = Math.min(k + miniBatchSize, order.length);
        nablaB.forEach((b) => b.fill(0));
        nablaW.forEach((w) => w.fill(0));
        for (let i = k; i < end; i++) {
          const j = order[i];
          const y = new Float64Array(this.outputSize);
          y[training.labels[j]] = 1;
          this.backpropInto(this.activations(training.image(j)), y, nablaB, nablaW, false);
        }
        this.step(nablaB, nablaW, eta / (end - k));
      }
      this.report(epoch, epochs, (performance.now() - start) / 1000, options);
    }
  }

  private checkSgd(training: Dataset, epochs: number, miniBatchSize: number, eta: number, options: SgdOptions): void {
    checkCount(epochs, "epochs");
    checkCount(miniBatchSize, "miniBatchSize", 1);
    checkFinite(eta, "eta");
    checkSeed(options.seed ?? DEFAULT_SEED);
    this.checkDataset(training, "training data");
    if (options.testData) this.checkDataset(options.testData, "testData");
  }

  /** weights -= rate * nablaW, biases -= rate * nablaB. */
  step(nablaB: Float64Array[], nablaW: Float64Array[], rate: number): void {
    this.weights.forEach((w, l) => {
      const nw = nablaW[l];
      for (let i = 0; i < w.length; i++) w[i] -= rate * nw[i];
    });
    this.biases.forEach((b, l) => {
      const nb = nablaB[l];
      for (let i = 0; i < b.length; i++) b[i] -= rate * nb[i];
    });
  }

  /** Calls `onEpoch` with the epoch's time and, with test data, its accuracy. */
  report(epoch: number, epochs: number, seconds: number, options: SgdOptions): void {
    if (!options.onEpoch) return;
    const report: EpochReport = { epoch, epochs, seconds };
    if (options.testData) {
      report.correct = this.evaluate(options.testData);
      report.total = options.testData.length;
      report.accuracy = report.total === 0 ? 0 : report.correct / report.total;
    }
    options.onEpoch(report);
  }

  /** How many images of `data` the network classifies right (argmax of the output = label). */
  evaluate(data: Dataset): number {
    this.checkDataset(data, "data");
    let correct = 0;
    for (let i = 0; i < data.length; i++) if (this.predict(data.image(i)) === data.labels[i]) correct++;
    return correct;
  }

  /** An independent copy with the same weights. */
  clone(): Network {
    return Network.fromJSON(this.toJSON());
  }

  /** The reference JSON format: `weights[l][row][col]`, `biases[l][row]`. */
  toJSON(): NetworkJson {
    return {
      sizes: this.sizes.slice(),
      weights: this.layerShapes().map(([rows, cols], l) =>
        Array.from({ length: rows }, (_, r) => Array.from(this.weights[l].subarray(r * cols, (r + 1) * cols)))),
      biases: this.biases.map((b) => Array.from(b)),
    };
  }

  /** A network from the JSON of `toJSON` (or the reference file), its shapes checked. */
  static fromJSON(json: unknown, source = "network JSON"): Network {
    const parsed = parseNetworkJson(json, source);
    const net = Object.create(Network.prototype) as Network;
    (net as { sizes: number[] }).sizes = parsed.sizes;
    (net as { weights: Float64Array[] }).weights = parsed.weights.map((rows) => Float64Array.from(rows.flat()));
    (net as { biases: Float64Array[] }).biases = parsed.biases.map((b) => Float64Array.from(b));
    return net;
  }

  /** Writes the JSON to `path` atomically (a temporary file renamed over it). */
  save(path: string): void {
    writeFileAtomic(path, JSON.stringify(this.toJSON()));
  }

  /** Reads a network saved by `save` (or the reference file). */
  static load(path: string): Network {
    return Network.fromJSON(readJsonFile(path), path);
  }

  private checkDataset(data: Dataset, name: string): void {
    if (!data || typeof data.length !== "number" || !data.images || !data.labels) {
      throw new TypeError(`${name} must be a Dataset ({ images, labels, length, image(i) })`);
    }
    if (data.length > 0 && data.images.length !== data.length * this.inputSize) {
      throw new RangeError(`${name}: images have ${data.images.length / data.length} pixels, the network takes ${this.inputSize}`);
    }
  }
}
