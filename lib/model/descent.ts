import type { DescentProgram, DescentResult, GradientResult } from "./backend";
import type { Work } from "../util/work";
import { argmaxRow } from "../util/argmax";
import { fillUniformLinfStarts, originsOf } from "./starts";

/**
 * The attack loop, written once in plain float64 code over any model that gives batched loss
 * gradients: the readable reference of the fused descent kernel, and the path every model
 * without a kernel (a composed or user-defined Classifier) runs on. See `DescentProgram` for
 * what one step does; here each step is one batched gradient call over the images still moving.
 */
export interface GradientSource {
  inputSize: number;
  classes: number;
  /** Loss and dL/dx per image; `outputs` (n x classes) when it has them anyway. */
  lossGradient(images: Float64Array, labels: Uint8Array, loss: DescentProgram["loss"]): GradientResult & { outputs?: ArrayLike<number> };
  forward(images: Float64Array): ArrayLike<number>;
}

/** `source` seeing x > t ? 1 : 0 for each pixel, its gradient passed back unchanged (straight through). */
function thresholdedSource(source: GradientSource, t: number): GradientSource {
  const binarised = (x: Float64Array) => x.map((v) => (v > t ? 1 : 0));
  return {
    inputSize: source.inputSize,
    classes: source.classes,
    lossGradient: (images, labels, loss) => source.lossGradient(binarised(images), labels, loss),
    forward: (images) => source.forward(binarised(images)),
  };
}

/** Does output row `row` (classes numbers) meet the program's criterion for `label`? */
export function criterionMet(out: ArrayLike<number>, offset: number, classes: number, label: number, targeted: boolean): boolean {
  const best = argmaxRow(out, offset, classes);
  return targeted ? best === label : best !== label;
}

/** x (d numbers at `o`) moved one step along direction `dir`, in place. */
export function applyStep(x: Float64Array, o: number, dir: Float64Array, rule: DescentProgram["step"], stepSize: number): void {
  const d = dir.length;
  if (rule === "gradient") {
    for (let p = 0; p < d; p++) x[o + p] += stepSize * dir[p];
  } else if (rule === "sign") {
    for (let p = 0; p < d; p++) x[o + p] += stepSize * Math.sign(dir[p]);
  } else {
    let s = 0;
    for (let p = 0; p < d; p++) s += dir[p] * dir[p];
    if (s === 0) return;
    const scale = stepSize / Math.sqrt(s);
    for (let p = 0; p < d; p++) x[o + p] += scale * dir[p];
  }
}

/** Projects x (d numbers at `o`) into the ball of radius eps around origin row `o`, then clips to [0, 1]. */
export function project(
  x: Float64Array, o: number, d: number, origins: ArrayLike<number> | null, ball: DescentProgram["ball"], eps: number, clip: boolean,
): void {
  if (ball === "linf" && origins) {
    for (let p = 0; p < d; p++) x[o + p] = Math.min(Math.max(x[o + p], origins[o + p] - eps), origins[o + p] + eps);
  } else if (ball === "l2" && origins) {
    let s = 0;
    for (let p = 0; p < d; p++) s += (x[o + p] - origins[o + p]) ** 2;
    const norm = Math.sqrt(s);
    if (norm > eps) {
      const scale = eps / norm;
      for (let p = 0; p < d; p++) x[o + p] = origins[o + p] + (x[o + p] - origins[o + p]) * scale;
    }
  }
  if (clip) for (let p = 0; p < d; p++) x[o + p] = Math.min(Math.max(x[o + p], 0), 1);
}

/**
 * Runs `program` on `model`: every step, one gradient call over the images still moving, then
 * direction d = (targeted ? -g : g) - lam (x - prior target), step, projection, clip (the
 * gradient taken at the binarised image when the program has an input threshold).
 * Yields after every step (a chunk boundary for the asynchronous driver).
 */
export function* runDescent(source: GradientSource, program: DescentProgram): Work<DescentResult> {
  const model = program.inputThreshold === undefined || program.inputThreshold === null
    ? source : thresholdedSource(source, program.inputThreshold);
  const d = model.inputSize, k = model.classes;
  const n = program.labels.length;
  const x = new Float64Array(n * d);
  const starts = program.starts;
  if (typeof starts === "function") starts(0, n, x);
  else if ("kind" in starts) fillUniformLinfStarts(starts, 0, originsOf(program), x, d);
  else x.set(starts);
  const stepsUsed = new Int32Array(n);
  const moving = new Uint8Array(n).fill(1);
  const sign = program.loss.targeted ? -1 : 1;
  const dir = new Float64Array(d);
  for (let step = 0; step < program.steps; step++) {
    const active: number[] = [];
    for (let i = 0; i < n; i++) if (moving[i]) active.push(i);
    if (active.length === 0) break;
    const batch = new Float64Array(active.length * d);
    const labels = new Uint8Array(active.length);
    active.forEach((i, r) => { batch.set(x.subarray(i * d, (i + 1) * d), r * d); labels[r] = program.labels[i]; });
    const g = model.lossGradient(batch, labels, program.loss);
    const outputs = program.earlyStop ? g.outputs ?? model.forward(batch) : null;
    active.forEach((i, r) => {
      if (outputs && criterionMet(outputs, r * k, k, labels[r], program.loss.targeted)) {
        moving[i] = 0;
        return;
      }
      const o = i * d;
      for (let p = 0; p < d; p++) {
        dir[p] = sign * g.gradient[r * d + p];
        if (program.priorTargets && program.lam !== 0) dir[p] -= program.lam * (x[o + p] - program.priorTargets[o + p]);
      }
      applyStep(x, o, dir, program.step, program.stepSize);
      project(x, o, d, program.origins, program.ball, program.eps, program.clip);
      stepsUsed[i]++;
    });
    yield step;
  }
  return { images: x, stepsUsed };
}
