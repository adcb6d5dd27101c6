import { Dataset } from "../data/dataset";
import { createRng, DEFAULT_SEED } from "../util/random";
import { checkCount, checkFinite, checkSeed, checkVector } from "../util/validate";
import { NETWORK_FORMAT, NetworkJson, parseNetworkJson } from "./network-json";
import { readJsonFile, writeFileAtomic } from "../util/files";
import { argmax } from "../util/argmax";
import { runAsync, runSync, Work } from "../util/work";
import type { ActivationName, DenseModel, GradientResult, LossName, LossSpec, TrainProgram, TrainReport } from "./backend";
import { activation as checkActivation } from "./activations";
import { backpropFrom, forwardAll } from "./dense";
import { backend } from "./backends";
import { referenceBackend } from "./reference-backend";
import type { Classifier } from "./classifier";
import { checkImages, checkLabels } from "./checks";

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

export interface NetworkOptions {
  /** Seed of the initial weights (default 0). */
  seed?: number;
  /** Activation of the hidden layers (default "sigmoid", as Nielsen). */
  activation?: ActivationName;
  /** Activation of the output layer (default "sigmoid"; "identity" gives logits). */
  output?: ActivationName;
  /** The training cost (default "quadratic", as Nielsen). */
  loss?: "quadratic" | "softmax-cross-entropy";
  /** "normal": every weight and bias N(0, 1), as Nielsen (default); "he": weights N(0, 2 / fan-in), biases 0, for ReLU. */
  init?: "normal" | "he";
}

const TRAINING_LOSSES = ["quadratic", "softmax-cross-entropy"];

/**
 * A dense feed-forward network after Michael Nielsen's network.py: by default sigmoid on every
 * layer, the quadratic cost C = 1/2 ||a - y||^2 and N(0, 1) weights, the article's network; ReLU
 * hidden layers, identity (logit) outputs, softmax cross-entropy and He initialisation are options.
 *
 * `weights[l]` is a Float64Array of `sizes[l+1] x sizes[l]` numbers, row-major (row = unit fed,
 * col = unit feeding); `biases[l]` has `sizes[l+1]` numbers.
 *
 * It is a `Classifier`: `forward` and `lossGradient` take many images at once and run on the
 * backend in use (float32 kernels by default; `setBackend("reference")` for float64). The
 * one-image methods (`feedforward`, `backprop`, `inputDerivative`) are the float64 reference.
 *
 *   const net = new Network([784, 30, 10], { seed: 1 });
 *   net.feedforward(test.image(0))  // Float64Array of 10 activations in (0, 1)
 *   const relu = new Network([784, 100, 10], { activation: "relu", output: "identity", loss: "softmax-cross-entropy", init: "he" });
 */
export class Network implements Classifier, DenseModel {
  readonly sizes: number[];
  readonly weights: Float64Array[];
  readonly biases: Float64Array[];
  /** One activation per layer: `activation` for the hidden layers, `output` for the last. */
  readonly activations: ActivationName[];
  /** The cost `sgd` minimises. */
  readonly loss: LossName;

  constructor(sizes: number[], options: NetworkOptions = {}) {
    if (!Array.isArray(sizes) || sizes.length < 2) {
      throw new RangeError(`sizes must list at least two layers, e.g. [784, 30, 10], got ${JSON.stringify(sizes)}`);
    }
    sizes.forEach((n, l) => checkCount(n, `sizes[${l}]`, 1));
    const hidden = checkActivation(options.activation ?? "sigmoid", "activation").name;
    const output = checkActivation(options.output ?? "sigmoid", "output").name;
    const loss = options.loss ?? "quadratic";
    if (!TRAINING_LOSSES.includes(loss)) {
      throw new RangeError(`loss must be "quadratic" or "softmax-cross-entropy", got ${JSON.stringify(loss)}`);
    }
    const init = options.init ?? "normal";
    if (init !== "normal" && init !== "he") throw new RangeError(`init must be "normal" or "he", got ${JSON.stringify(init)}`);
    const rng = createRng(options.seed ?? DEFAULT_SEED);
    this.sizes = sizes.slice();
    this.activations = sizes.slice(1).map((_, l) => (l === sizes.length - 2 ? output : hidden));
    this.loss = loss;
    if (init === "normal") {
      // Biases first, then weights, as network.py draws them.
      this.biases = this.layerShapes().map(([rows]) => Float64Array.from({ length: rows }, () => rng.normal()));
      this.weights = this.layerShapes().map(([rows, cols]) => Float64Array.from({ length: rows * cols }, () => rng.normal()));
    } else {
      this.biases = this.layerShapes().map(([rows]) => new Float64Array(rows));
      this.weights = this.layerShapes().map(([rows, cols]) => Float64Array.from({ length: rows * cols }, () => rng.normal(0, Math.sqrt(2 / cols))));
    }
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

  /** The number of classes: the output layer's size. */
  get classes(): number {
    return this.outputSize;
  }

  /** The plain data a backend's kernels run on: the network itself. */
  dense(): DenseModel {
    return this;
  }

  // ------------------------------------------------------------ one image, float64 reference

  /** The activations of every layer for input x (`sizes[0]` numbers), input included. */
  activationsOf(x: ArrayLike<number>): Float64Array[] {
    checkVector(x, this.inputSize, "input x");
    return forwardAll(this, x);
  }

  /** The output layer's activations for input x: `sizes[last]` numbers (in (0, 1) for sigmoid). */
  feedforward(x: ArrayLike<number>): Float64Array {
    const as = this.activationsOf(x);
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
    const nablaX = this.backpropInto(this.activationsOf(x), y, nablaB, nablaW, true)!;
    return { nablaB, nablaW, nablaX };
  }

  /**
   * Gradient of 1/2 ||feedforward(x) - goal||^2 with respect to the input x (`sizes[0]` numbers):
   * ordinary backpropagation carried one layer further down, with the weights held fixed.
   */
  inputDerivative(x: ArrayLike<number>, goal: ArrayLike<number>): Float64Array {
    checkVector(goal, this.outputSize, "goal");
    return this.backpropInto(this.activationsOf(x), goal, null, null, true)!;
  }

  /**
   * The quadratic cost's gradients for one example from its activations `as` (`activationsOf`):
   * adds dC/db, dC/dW into nablaB / nablaW when given and returns dC/dx when `wantInput`.
   */
  backpropInto(
    as: Float64Array[], y: ArrayLike<number>, nablaB: Float64Array[] | null, nablaW: Float64Array[] | null, wantInput: boolean,
  ): Float64Array | null {
    const out = as[as.length - 1];
    // dC/da of the output layer for the quadratic cost: (a - y).
    const grad = new Float64Array(out.length);
    for (let j = 0; j < grad.length; j++) grad[j] = out[j] - y[j];
    return backpropFrom(this, as, grad, nablaB, nablaW, wantInput);
  }

  // ------------------------------------------------------------ many images: the Classifier

  /**
   * The outputs for n images (`images`: n x inputSize numbers, back to back): n x classes
   * numbers, on the backend in use (float32 on the kernels).
   */
  forward(images: ArrayLike<number>): Float32Array | Float64Array {
    checkImages(images, this.inputSize, "images");
    return backend().forward(this, images);
  }

  /**
   * Per-image loss at `labels` and its gradient with respect to each image (n x inputSize),
   * on the backend in use. `loss` is a LossSpec (see `lossSpec`).
   */
  lossGradient(images: ArrayLike<number>, labels: Uint8Array, loss: LossSpec): GradientResult {
    const n = checkImages(images, this.inputSize, "images");
    checkLabels(labels, n, this.classes, "labels");
    return backend().lossGradient(this, images, labels, loss);
  }

  /** Row i: d (sum_k cotangents[i, k] a_k(x_i)) / d x_i, for n x classes cotangents. */
  vjp(images: ArrayLike<number>, cotangents: ArrayLike<number>): Float32Array | Float64Array {
    const n = checkImages(images, this.inputSize, "images");
    if (cotangents.length !== n * this.classes) {
      throw new RangeError(`cotangents must hold ${n} x ${this.classes} numbers, got ${cotangents.length}`);
    }
    for (let q = 0; q < cotangents.length; q++) {
      if (!Number.isFinite(cotangents[q])) throw new RangeError(`cotangents[${q}] must be a finite number, got ${cotangents[q]}`);
    }
    return backend().vjp(this, images, cotangents);
  }

  // ------------------------------------------------------------ training

  /**
   * Mini-batch stochastic gradient descent, as network.py, on the backend in use (the fast
   * float32 kernels by default; `sgdReference` is the float64 original): each epoch shuffles the
   * training images (seeded), cuts them into batches of `miniBatchSize` and moves every weight by
   * `-eta / batch length` times the batch's summed gradient of the network's `loss`. With
   * `testData`, each epoch's report carries the number it classifies right.
   *
   *   net.sgd(training, 30, 10, 3.0, { testData: test, onEpoch: (r) => console.log(r.epoch, r.accuracy) })
   */
  sgd(training: Dataset, epochs: number, miniBatchSize: number, eta: number, options: SgdOptions = {}): void {
    runSync(this.sgdWork(backend().train.bind(backend()), training, epochs, miniBatchSize, eta, options));
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
    const train = backend().train.bind(backend());
    this.checkSgd(training, epochs, miniBatchSize, eta, options);
    await runAsync(() => this.sgdWork(train, training, epochs, miniBatchSize, eta, options));
  }

  /**
   * The readable float64 reference for `sgd` (one example at a time, as network.py), which the
   * tests hold the fast kernels to. The same shuffles and update rule; 30 to 60 times slower.
   */
  sgdReference(training: Dataset, epochs: number, miniBatchSize: number, eta: number, options: SgdOptions = {}): void {
    runSync(this.sgdWork(referenceBackend.train, training, epochs, miniBatchSize, eta, options));
  }

  /** Checks the arguments and builds the training program shared by the three sgd entry points. */
  sgdWork(
    train: (model: DenseModel, program: TrainProgram) => Work<void>,
    training: Dataset, epochs: number, miniBatchSize: number, eta: number, options: SgdOptions,
    adversary: TrainProgram["adversary"] = null,
  ): Work<void> {
    this.checkSgd(training, epochs, miniBatchSize, eta, options);
    const test = options.testData ?? null;
    return train(this, {
      images: training.images, labels: training.labels, epochs, miniBatchSize, eta, loss: this.loss,
      seed: options.seed ?? DEFAULT_SEED, test: test && test.length > 0 ? { images: test.images, labels: test.labels } : null,
      adversary,
      onEpoch: (r: TrainReport) => {
        this.checkTrained(r.epoch, eta);
        options.onEpoch?.(this.epochReport(r, test));
      },
    });
  }

  /** After an epoch: a weight that is no longer finite means training diverged; say so, with eta. */
  private checkTrained(epoch: number, eta: number): void {
    const bad = (v: Float64Array) => { for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i])) return i; return -1; };
    for (let l = 0; l < this.weights.length; l++) {
      for (const [name, v] of [["weights", this.weights[l]], ["biases", this.biases[l]]] as const) {
        const i = bad(v);
        if (i >= 0) {
          throw new RangeError(`sgd diverged in epoch ${epoch}: ${name}[${l}][${i}] is ${v[i]} (eta ${eta}, loss ${this.loss}); use a smaller eta`);
        }
      }
    }
  }

  private epochReport(r: TrainReport, test: Dataset | null): EpochReport {
    const report: EpochReport = { epoch: r.epoch, epochs: r.epochs, seconds: r.seconds };
    if (test) {
      report.correct = r.correct ?? 0;
      report.total = test.length;
      report.accuracy = test.length === 0 ? 0 : report.correct / test.length;
    }
    return report;
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

  /** How many images of `data` the network classifies right (argmax of the output = label), in float64. */
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

  // ------------------------------------------------------------ saving

  /** Format 2 of the reference JSON: `weights[l][row][col]`, `biases[l][row]`, plus activations and loss. */
  toJSON(): NetworkJson {
    return {
      format: NETWORK_FORMAT,
      sizes: this.sizes.slice(),
      activations: this.activations.slice(),
      loss: this.loss,
      weights: this.layerShapes().map(([rows, cols], l) =>
        Array.from({ length: rows }, (_, r) => Array.from(this.weights[l].subarray(r * cols, (r + 1) * cols)))),
      biases: this.biases.map((b) => Array.from(b)),
    };
  }

  /** A network from the JSON of `toJSON` or the reference file (format 1: sigmoid, quadratic), its shapes checked. */
  static fromJSON(json: unknown, source = "network JSON"): Network {
    const parsed = parseNetworkJson(json, source);
    const net = Object.create(Network.prototype) as Network;
    Object.assign(net, {
      sizes: parsed.sizes.slice(),
      activations: parsed.activations,
      loss: parsed.loss,
      weights: parsed.weights.map((rows) => Float64Array.from(rows.flat())),
      biases: parsed.biases.map((b) => Float64Array.from(b)),
    });
    return net;
  }

  /** Writes the JSON to `path` atomically; refuses a network with a weight that is not finite. */
  save(path: string): void {
    this.weights.forEach((w, l) => checkFiniteArray(w, `weights[${l}]`, path));
    this.biases.forEach((b, l) => checkFiniteArray(b, `biases[${l}]`, path));
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
    if (data.labels.length !== data.length) throw new RangeError(`${name}: ${data.labels.length} labels for ${data.length} images`);
    checkLabels(data.labels, data.length, this.classes, `${name} labels`);
    checkImages(data.images, this.inputSize, `${name} images`);
  }
}

function checkFiniteArray(v: Float64Array, name: string, path: string): void {
  for (let i = 0; i < v.length; i++) {
    if (!Number.isFinite(v[i])) {
      throw new RangeError(`Network.save(${JSON.stringify(path)}): ${name}[${i}] is ${v[i]}; a network with non-finite weights could not be loaded again, so nothing was written`);
    }
  }
}
