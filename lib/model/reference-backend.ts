import type { Backend, DenseModel, GradientResult, LossSpec, TrainProgram } from "./backend";
import { backpropFrom, forwardAll, lossAt } from "./dense";
import { GradientSource, runDescent } from "./descent";
import { createRng } from "../util/random";
import { runSync, Work } from "../util/work";
import { countArgmaxAt } from "../util/argmax";

/**
 * The float64 reference backend: every operation one image at a time in plain TypeScript, as
 * Nielsen's network.py does it. Slow (about 30 to 60 times the kernels) but short enough to read
 * at once; the fast backends are held to it by the tests.
 */

function rows(images: ArrayLike<number>, d: number): number {
  return images.length / d;
}

/** Image i of a flat batch: a view when the batch is a typed array, a copy otherwise. */
function imageAt(images: ArrayLike<number>, i: number, d: number): ArrayLike<number> {
  const typed = images as ArrayLike<number> & { subarray?: (a: number, b: number) => ArrayLike<number> };
  return typed.subarray ? typed.subarray(i * d, (i + 1) * d) : Array.prototype.slice.call(images, i * d, (i + 1) * d);
}

function forward(model: DenseModel, images: ArrayLike<number>): Float64Array {
  const d = model.sizes[0], k = model.sizes[model.sizes.length - 1];
  const n = rows(images, d);
  const out = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    const as = forwardAll(model, imageAt(images, i, d));
    out.set(as[as.length - 1], i * k);
  }
  return out;
}

function lossGradient(model: DenseModel, images: ArrayLike<number>, labels: Uint8Array, loss: LossSpec): GradientResult & { outputs: Float64Array } {
  const d = model.sizes[0], k = model.sizes[model.sizes.length - 1];
  const n = labels.length;
  const result = { loss: new Float64Array(n), gradient: new Float64Array(n * d), outputs: new Float64Array(n * k) };
  for (let i = 0; i < n; i++) {
    const x = imageAt(images, i, d);
    const { loss: value, as, grad } = lossAt(model, x, labels[i], loss);
    result.loss[i] = value;
    result.outputs.set(as[as.length - 1], i * k);
    result.gradient.set(backpropFrom(model, as, grad, null, null, true)!, i * d);
  }
  return result;
}

function vjp(model: DenseModel, images: ArrayLike<number>, cotangents: ArrayLike<number>): Float64Array {
  const d = model.sizes[0], k = model.sizes[model.sizes.length - 1];
  const n = rows(images, d);
  const out = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    const as = forwardAll(model, imageAt(images, i, d));
    const grad = Float64Array.from({ length: k }, (_, j) => cotangents[i * k + j]);
    out.set(backpropFrom(model, as, grad, null, null, true)!, i * d);
  }
  return out;
}

/** The dense model as a source of batched gradients for the descent loop. */
function gradientSource(model: DenseModel): GradientSource {
  return {
    inputSize: model.sizes[0],
    classes: model.sizes[model.sizes.length - 1],
    lossGradient: (images, labels, loss) => lossGradient(model, images, labels, loss),
    forward: (images) => forward(model, images),
  };
}

/**
 * Nielsen's mini-batch sgd, one example at a time: each epoch shuffles the indices with the
 * seeded stream (Fisher-Yates), cuts them into batches and moves every weight by
 * -eta / batch length times the batch's summed gradient. With an adversary, each batch is first
 * replaced by the adversary's images of it, attacked on the current weights.
 */
function* train(model: DenseModel, program: TrainProgram): Work<void> {
  const d = model.sizes[0], k = model.sizes[model.sizes.length - 1];
  const n = program.labels.length;
  const rng = createRng(program.seed);
  const order = Uint32Array.from({ length: n }, (_, i) => i);
  const nablaB = model.biases.map((b) => new Float64Array(b.length));
  const nablaW = model.weights.map((w) => new Float64Array(w.length));
  const spec: LossSpec = { name: program.loss, kappa: 0, targeted: false };
  const adversary = program.adversary;
  for (let epoch = 1; epoch <= program.epochs; epoch++) {
    const start = performance.now();
    rng.shuffle(order);
    for (let b0 = 0; b0 < n; b0 += program.miniBatchSize) {
      const m = Math.min(program.miniBatchSize, n - b0);
      const labels = new Uint8Array(m);
      // float64, so float64 training images are used exactly as given.
      let batch: Float32Array | Float64Array = new Float64Array(m * d);
      for (let r = 0; r < m; r++) {
        const j = order[b0 + r];
        labels[r] = program.labels[j];
        batch.set(program.images.subarray(j * d, (j + 1) * d), r * d);
      }
      if (adversary) {
        const clean = Float32Array.from(batch);
        const starts = new Float32Array(m * d);
        adversary.fillStarts(clean, starts);
        const result = runSync(runDescent(gradientSource(model), {
          starts, labels, loss: adversary.loss, steps: adversary.steps, step: adversary.step, stepSize: adversary.stepSize,
          priorTargets: null, lam: 0, origins: clean, ball: adversary.ball, eps: adversary.eps, clip: adversary.clip, earlyStop: false,
        }));
        batch = result.images;
      }
      nablaB.forEach((v) => v.fill(0));
      nablaW.forEach((v) => v.fill(0));
      for (let r = 0; r < m; r++) {
        const { as, grad } = lossAt(model, batch.subarray(r * d, (r + 1) * d), labels[r], spec);
        backpropFrom(model, as, grad, nablaB, nablaW, false);
      }
      const rate = program.eta / m;
      model.weights.forEach((w, l) => { for (let q = 0; q < w.length; q++) w[q] -= rate * nablaW[l][q]; });
      model.biases.forEach((bv, l) => { for (let q = 0; q < bv.length; q++) bv[q] -= rate * nablaB[l][q]; });
    }
    const seconds = (performance.now() - start) / 1000;
    let correct: number | undefined;
    if (program.test) {
      const out = forward(model, program.test.images);
      correct = countArgmaxAt(out, program.test.labels, k);
    }
    program.onEpoch?.({ epoch, epochs: program.epochs, seconds, correct });
    if (epoch < program.epochs) yield epoch;
  }
}

export const referenceBackend: Backend = {
  name: "reference",
  forward,
  lossGradient,
  vjp,
  descend: (model, program) => runDescent(gradientSource(model), program),
  train,
};
