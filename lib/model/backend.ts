import type { Work } from "../util/work";
import type { UniformLinfStarts } from "./starts";

/**
 * What a compute backend does for a dense network, and the plain data it does it on. The
 * backends (the float64 reference in model/reference-backend.ts, the float32 WebAssembly SIMD
 * kernels in kernels/) implement this one interface; everything above them (the `Network`
 * class, attacks, defences, evaluation) calls it through `backend()`, so a backend never sees
 * the `Network` class and the model never imports an engine.
 *
 * Shapes: images are n x inputSize numbers back to back (row i = image i); labels n bytes.
 */

/** Activation of a layer: sigmoid (Nielsen's, the default), ReLU, or identity (logits). */
export type ActivationName = "sigmoid" | "relu" | "identity";

/**
 * Output loss, a function of the network's output a (after the output activation) and a label y:
 * - "quadratic": 1/2 ||a - onehot(y)||^2 (the article's cost);
 * - "softmax-cross-entropy": logsumexp(a) - a_y;
 * - "margin": max_{j != y} a_j - a_y (Carlini-Wagner's f6), clamped at the confidence kappa:
 *   targeted (descending) max(m, -kappa), untargeted (ascending) min(m, kappa).
 * Lower always means "more like y": untargeted attacks ascend it on the true label, targeted
 * attacks descend it on the target.
 */
export type LossName = "quadratic" | "softmax-cross-entropy" | "margin";

export interface LossSpec {
  name: LossName;
  /** Margin only: the confidence kappa >= 0 (0 for the others). */
  kappa: number;
  /** Which side of the margin is clamped (see LossName); no effect on the other losses. */
  targeted: boolean;
}

/** A dense feed-forward network as plain data. Layer l maps sizes[l] numbers to sizes[l+1]. */
export interface DenseModel {
  readonly sizes: readonly number[];
  /** One per layer (length sizes.length - 1). */
  readonly activations: readonly ActivationName[];
  /** weights[l]: sizes[l+1] x sizes[l], row-major (row = unit fed); biases[l]: sizes[l+1]. */
  readonly weights: readonly Float64Array[];
  readonly biases: readonly Float64Array[];
}

/** How one step moves x along the attacker's direction d (d = +-dL/dx - lam (x - prior target)). */
export type StepRule =
  /** x += stepSize * d: the article's plain gradient step (stepSize = eta). */
  | "gradient"
  /** x += stepSize * sign(d): the L-infinity step of FGSM, BIM and PGD. */
  | "sign"
  /** x += stepSize * d / ||d||_2 (no move where d = 0): the L2 step of PGD. */
  | "l2";

/** The ball around the clean image x0 that x is projected back into after every step. */
export type Ball = "none" | "linf" | "l2";

/**
 * One run of the descent loop on n images, with no return to JavaScript between steps.
 * Every step: forward, loss gradient g = dL/dx at `labels`, direction
 * d = (targeted ? -g : g) - lam (x - priorTargets), x moved by `step`, projected into the
 * `ball` of radius `eps` around `origins`, then clipped to [0, 1] when `clip`.
 * With `earlyStop`, an image stops moving at the first step whose forward pass already meets
 * the criterion (untargeted: argmax != label; targeted: argmax == label).
 */
export interface DescentProgram {
  /**
   * n x d starting images (float64, so the reference starts exactly where the article's attacks
   * do), or a function that writes images [i0, i1) into `out` ((i1 - i0) x d numbers) when the
   * backend needs them: backends call it over consecutive ranges in order, so it may draw random
   * numbers, and the kernels' backend calls it while the previous chunk computes. Or uniform
   * starts in the L-inf ball around `origins` from a claimed part of a seeded stream (see
   * UniformLinfStarts), which the kernels draw themselves, on every thread.
   */
  starts: Float32Array | Float64Array | StartFill | UniformLinfStarts;
  /** n labels: the true label (untargeted) or the target (targeted), each < classes. */
  labels: Uint8Array;
  loss: LossSpec;
  steps: number;
  step: StepRule;
  stepSize: number;
  /** The ridge prior lam/2 ||x - target||^2 (the article's sneaky term); lam 0 for none. */
  priorTargets: Float32Array | null;
  lam: number;
  /** n x d centres of the ball (the clean images); null when ball is "none". */
  origins: Float32Array | null;
  ball: Ball;
  eps: number;
  clip: boolean;
  earlyStop: boolean;
  /**
   * When set (a number t), the network sees each image binarised, x > t ? 1 : 0, and the loss
   * gradient at that binarised image is applied to x unchanged (straight through, BPDA): attacks
   * on "binary thresholding, then the network" run in the fused kernels. Absent or null: none.
   */
  inputThreshold?: number | null;
}

/**
 * Writes starting images [i0, i1) into `out` (see DescentProgram.starts). Backends call it once per
 * range, over consecutive ranges from 0, and before they read that range's labels or prior
 * targets, so it may fill those as it draws (the article's augmentation draws them together).
 */
export type StartFill = (i0: number, i1: number, out: Float32Array | Float64Array) => void;

export interface DescentResult {
  /** n x d images after the loop. */
  images: Float32Array | Float64Array;
  /** Steps each image took (less than `steps` only with early stop). */
  stepsUsed: Int32Array;
}

/** Per-image loss values and d loss / d input. */
export interface GradientResult {
  /** n loss values (the margin clamped as in LossName). */
  loss: Float64Array;
  /** n x d gradients. */
  gradient: Float32Array | Float64Array;
}

/** An attack run inside training, on the current weights, for every mini-batch. */
export interface TrainingAdversary {
  /**
   * Writes the attack's starting images for one mini-batch: `clean` holds its m clean images
   * (m x d), `starts` receives m x d numbers. Called once per mini-batch, in order, so it may
   * draw random numbers (the random start is drawn above the backend, in one place).
   */
  fillStarts(clean: Float32Array, starts: Float32Array): void;
  /** The descent program applied to each mini-batch (starts, labels, origins filled in per batch). */
  loss: LossSpec;
  steps: number;
  step: StepRule;
  stepSize: number;
  ball: Ball;
  eps: number;
  clip: boolean;
}

export interface TrainReport {
  epoch: number;
  epochs: number;
  seconds: number;
  /** With test data: images the epoch's weights classify right. */
  correct?: number;
}

export interface TrainProgram {
  /** n x d training images and their n labels. */
  images: Float32Array | Float64Array;
  labels: Uint8Array;
  epochs: number;
  miniBatchSize: number;
  eta: number;
  /** The training loss at the output (quadratic for Nielsen's network). */
  loss: LossName;
  /** Seed of the per-epoch shuffles: the same Fisher-Yates stream as the reference. */
  seed: number;
  test: { images: Float32Array | Float64Array; labels: Uint8Array } | null;
  /** When set, each mini-batch is replaced by the adversary's images of it before the update. */
  adversary: TrainingAdversary | null;
  onEpoch?: (report: TrainReport) => void;
}

export interface Backend {
  readonly name: BackendName;
  /** n x classes outputs (after the output activation). */
  forward(model: DenseModel, images: ArrayLike<number>): Float32Array | Float64Array;
  /** Per-image loss at `labels` and its gradient with respect to the input. */
  lossGradient(model: DenseModel, images: ArrayLike<number>, labels: Uint8Array, loss: LossSpec): GradientResult;
  /**
   * Vector-Jacobian product: row i of the result is d (sum_k cotangents[i, k] a_k(x_i)) / d x_i,
   * for n x classes cotangents (e.g. e_k - e_y for DeepFool's class differences).
   */
  vjp(model: DenseModel, images: ArrayLike<number>, cotangents: ArrayLike<number>): Float32Array | Float64Array;
  /** The descent loop; `onChunk(done)` after each chunk of images. */
  descend(model: DenseModel, program: DescentProgram, onChunk?: (done: number) => void): Work<DescentResult>;
  /** Mini-batch sgd, updating model.weights and model.biases in place (after every epoch). */
  train(model: DenseModel, program: TrainProgram): Work<void>;
}

export type BackendName = "wasm" | "reference" | "native";
