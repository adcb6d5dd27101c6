import type { Ball, DenseModel, DescentProgram, DescentResult, LossName, StepRule } from "../model/backend";
import { Classifier, checkClassifier } from "../model/classifier";
import { checkImages, checkLabels } from "../model/checks";
import { lossSpec } from "../model/losses";
import { backend } from "../model/backends";
import { runDescent } from "../model/descent";
import { createRng, DEFAULT_SEED } from "../util/random";
import { checkCount, checkFinite, checkSeed, firstNonFiniteIndex } from "../util/validate";
import { runAsync, runSync, Work } from "../util/work";
import { Criterion, misclassified, targeted } from "./criteria";
import { attackResult, AttackResult } from "./result";
import { drawStarts, StartName } from "./start";

/**
 * The one gradient attack loop. Every gradient attack here is a configuration of it (after
 * Foolbox 3's BaseGradientDescent): where it starts, which loss it follows (ascending it on the
 * true label, or descending it on a target), an optional prior, how a step moves the image, and
 * what it is projected back into; restarts keep each image's worst case.
 *
 * | attack | start | loss | step | ball | clip |
 * |---|---|---|---|---|---|
 * | the article's non-targeted (`adversarial`) | noise | quadratic, targeted | gradient, eta | none | no |
 * | the article's sneaky | noise | quadratic, targeted, + ridge prior | gradient, eta | none | no |
 * | FGSM | clean | any | sign, eps | linf | yes |
 * | BIM / PGD L-inf | clean or uniform | any | sign | linf | yes |
 * | PGD L2 | clean or uniform | any | l2-normalised | l2 | yes |
 *
 * On a model with a dense network behind it (`Network`), the whole loop runs in the backend's
 * fused kernel; on any other Classifier it runs the readable loop of model/descent.ts, one batched
 * gradient call per step.
 */
export interface GradientAttackOptions {
  /** Steps of the loop (a whole number >= 0). */
  steps: number;
  /** How a step moves the image (see StepRule). */
  step: StepRule;
  /** eta for "gradient" steps, the step length for "sign" and "l2". */
  stepSize: number;
  /** "noise" (the article), "clean" (default) or "uniform" in the eps-ball. */
  start?: StartName;
  /** The loss followed (default: the model's own training loss when it is softmax cross-entropy, else "margin"). */
  loss?: LossName;
  /** Margin loss only: the confidence kappa >= 0 (default 0). */
  kappa?: number;
  /** Targets (n labels) make the attack targeted: it descends the loss on them. */
  targets?: ArrayLike<number>;
  /** The ridge prior lam/2 ||x - priorTargets_i||^2 (n x inputSize images). */
  prior?: { targets: ArrayLike<number>; lam: number };
  /** The ball the image is kept in around its clean image (default "none"), of radius eps. */
  ball?: Ball;
  eps?: number;
  /** Clip to [0, 1] after every step (default true). */
  clip?: boolean;
  /** Runs from fresh starts (a whole number >= 1, default 1); each image keeps the first run that fooled the model. */
  restarts?: number;
  /** Stop moving an image once the criterion holds (default false). */
  earlyStop?: boolean;
  /** Seed of the random starts (default 0). */
  seed?: number;
  /** Called with the images done so far and the total (per chunk on the kernels, per run otherwise). */
  onProgress?: (done: number, total: number) => void;
}

/** Steps above this are refused rather than wrapped round by 32-bit kernel counters. */
const MAX_STEPS = 2 ** 31 - 1;

/** A step count: a whole number from 0 to MAX_STEPS, or an error naming it. */
export function checkSteps(steps: unknown): asserts steps is number {
  checkCount(steps, "steps");
  if (steps > MAX_STEPS) throw new RangeError(`steps must be at most ${MAX_STEPS}, got ${steps}`);
}

function defaultLoss(model: Classifier): LossName {
  const training = (model as { loss?: unknown }).loss;
  return training === "softmax-cross-entropy" ? "softmax-cross-entropy" : "margin";
}

interface Prepared {
  n: number;
  clean: Float32Array;
  labels: Uint8Array;
  program: Omit<DescentProgram, "starts">;
  start: StartName;
  restarts: number;
  seed: number;
  criterion: Criterion;
}

function prepare(model: Classifier, images: ArrayLike<number>, labels: ArrayLike<number>, o: GradientAttackOptions): Prepared {
  checkClassifier(model);
  const d = model.inputSize, k = model.classes;
  const n = checkImages(images, d, "images");
  const trueLabels = checkLabels(labels, n, k, "labels");
  checkSteps(o.steps);
  if (!["gradient", "sign", "l2"].includes(o.step)) throw new RangeError(`step must be "gradient", "sign" or "l2", got ${JSON.stringify(o.step)}`);
  checkFinite(o.stepSize, "stepSize");
  if (o.stepSize < 0) throw new RangeError(`stepSize must be >= 0, got ${o.stepSize}`);
  const ball = o.ball ?? "none";
  if (!["none", "linf", "l2"].includes(ball)) throw new RangeError(`ball must be "none", "linf" or "l2", got ${JSON.stringify(ball)}`);
  const eps = o.eps ?? 0;
  checkFinite(eps, "eps");
  if (eps < 0) throw new RangeError(`eps must be >= 0, got ${eps}`);
  const start = o.start ?? "clean";
  if (!["noise", "clean", "uniform"].includes(start)) throw new RangeError(`start must be "noise", "clean" or "uniform", got ${JSON.stringify(start)}`);
  if (start === "uniform" && ball === "none") throw new RangeError(`start "uniform" needs a ball ("linf" or "l2") to draw in`);
  const restarts = o.restarts ?? 1;
  checkCount(restarts, "restarts", 1);
  const seed = o.seed ?? DEFAULT_SEED;
  checkSeed(seed);
  const isTargeted = o.targets !== undefined;
  const goals = isTargeted ? checkLabels(o.targets, n, k, "targets") : trueLabels;
  const loss = lossSpec(o.loss ?? defaultLoss(model), { kappa: o.kappa, targeted: isTargeted });
  let priorTargets: Float32Array | null = null;
  let lam = 0;
  if (o.prior) {
    checkFinite(o.prior.lam, "prior.lam");
    lam = o.prior.lam;
    if (checkImages(o.prior.targets, d, "prior.targets") !== n) {
      throw new RangeError(`prior.targets holds ${o.prior.targets.length / d} images for ${n} images`);
    }
    priorTargets = Float32Array.from(o.prior.targets);
  }
  const clean = Float32Array.from(images);
  return {
    n, clean, labels: trueLabels, start, restarts, seed,
    criterion: isTargeted ? targeted(goals) : misclassified(trueLabels),
    program: {
      labels: goals, loss, steps: o.steps, step: o.step, stepSize: o.stepSize, priorTargets, lam,
      origins: ball === "none" ? null : clean, ball, eps, clip: o.clip ?? true, earlyStop: o.earlyStop ?? false,
    },
  };
}

/**
 * One run of the loop from given starting images: the backend's fused kernel when the model is a
 * dense network (or thresholding then one, attacked straight through), else the readable loop
 * of model/descent.ts. Arguments are taken as checked.
 */
export function descentWork(model: Classifier, program: DescentProgram, onChunk?: (done: number) => void): Work<DescentResult> {
  const dense: DenseModel | null | undefined = model.dense?.();
  if (dense) return backend().descend(dense, program, onChunk);
  const thresholded = model.thresholded?.();
  if (thresholded) return backend().descend(thresholded.dense, { ...program, inputThreshold: thresholded.threshold }, onChunk);
  return runDescent({
    inputSize: model.inputSize, classes: model.classes,
    lossGradient: (images, labels, loss) => model.lossGradient(images, labels, loss),
    forward: (images) => model.forward(images),
  }, program);
}

function* attackWork(model: Classifier, p: Prepared, onProgress?: (done: number, total: number) => void): Work<AttackResult> {
  const d = model.inputSize;
  const rng = createRng(p.seed);
  const total = p.n * p.restarts;
  let best: Float32Array | Float64Array | null = null;
  let bestSteps = new Int32Array(p.n);
  let fooled = new Uint8Array(p.n);
  for (let r = 0; r < p.restarts; r++) {
    // Drawn chunk by chunk as the backend asks (on the kernels, while the previous chunk computes).
    const norm = p.program.ball === "l2" ? "l2" : "linf";
    // Uniform L-inf starts take one uniform a pixel: the run claims its part of the stream and
    // the backend draws it where the images are (the kernels: on every thread, in place).
    const starts: DescentProgram["starts"] = p.start === "uniform" && norm === "linf"
      ? { kind: "uniform-linf", state: rng.claimUniforms(p.n * d), eps: p.program.eps }
      : (i0: number, i1: number, out: Float32Array | Float64Array) =>
        drawStarts(p.start, rng, p.clean.subarray(i0 * d, i1 * d), out, d, p.program.eps, norm);
    const run = yield* descentWork(model, { ...p.program, starts }, (done) => onProgress?.(r * p.n + done, total));
    checkDiverged(run.images, d, p.program);
    if (best === null) {
      best = run.images;
      bestSteps = run.stepsUsed;
      if (p.restarts > 1) fooled = p.criterion.decide(model.forward(best), model.classes);
    } else {
      // Keep each image's worst case for the model: the first run that fooled it.
      const now = p.criterion.decide(model.forward(run.images), model.classes);
      for (let i = 0; i < p.n; i++) {
        if (!fooled[i] && now[i]) {
          best.set(run.images.subarray(i * d, (i + 1) * d), i * d);
          bestSteps[i] = run.stepsUsed[i];
          fooled[i] = 1;
        }
      }
    }
    onProgress?.((r + 1) * p.n, total);
  }
  return attackResult(model, p.clean, best ?? new Float32Array(0), p.criterion, bestSteps);
}

/** A NaN or infinite pixel after the loop means the steps diverged: say so, with the step settings. */
export function checkDiverged(images: ArrayLike<number>, d: number, program: Omit<DescentProgram, "starts">): void {
  const q = firstNonFiniteIndex(images);
  if (q >= 0) {
    throw new RangeError(
      `the attack diverged: image ${Math.floor(q / d)} has pixel ${q % d} = ${images[q]} after the loop ` +
      `(stepSize ${program.stepSize}, lam ${program.lam}, ${program.steps} steps); use smaller steps or clip to [0, 1]`);
  }
}

/**
 * Runs the gradient attack loop on n images (`images`: n x inputSize numbers in [0, 1];
 * `labels`: their n true labels). Returns an AttackResult whose `success` re-predicts the
 * returned images: misclassified for an untargeted attack, the target for a targeted one.
 *
 *   // PGD L-inf, eps 0.1, 40 steps of 0.01 from a random start in the ball:
 *   gradientAttack(net, images, labels, { steps: 40, step: "sign", stepSize: 0.01, start: "uniform", ball: "linf", eps: 0.1 })
 */
export function gradientAttack(model: Classifier, images: ArrayLike<number>, labels: ArrayLike<number>, options: GradientAttackOptions): AttackResult {
  const p = prepare(model, images, labels, options);
  return runSync(attackWork(model, p, options.onProgress));
}

/** `gradientAttack` that leaves the event loop free between chunks (for live progress in a notebook). */
export function gradientAttackAsync(
  model: Classifier, images: ArrayLike<number>, labels: ArrayLike<number>, options: GradientAttackOptions,
): Promise<AttackResult> {
  const p = prepare(model, images, labels, options);
  return runAsync(() => attackWork(model, p, options.onProgress));
}
