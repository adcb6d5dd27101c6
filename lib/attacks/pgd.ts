import type { LossName } from "../model/backend";
import type { Classifier } from "../model/classifier";
import { checkFinite } from "../util/validate";
import { gradientAttack, gradientAttackAsync } from "./loop";
import type { AttackResult } from "./result";

export interface PgdOptions {
  /** The budget: radius of the ball around each clean image (>= 0). */
  eps: number;
  /** Steps per run (default 40). */
  steps?: number;
  /** Step length (default 2.5 eps / steps, as Madry et al. 2018). */
  stepSize?: number;
  /** "linf" (default; sign steps) or "l2" (normalised gradient steps). */
  norm?: "linf" | "l2";
  /** Start uniformly in the ball (default true; false: BIM, from the clean image). */
  randomStart?: boolean;
  /** Runs from fresh random starts, keeping each image's worst case (default 1). */
  restarts?: number;
  /** The loss followed (default as `gradientAttack`). */
  loss?: LossName;
  kappa?: number;
  /** n target labels for a targeted attack. */
  targets?: ArrayLike<number>;
  /** Stop moving an image once fooled (default false). */
  earlyStop?: boolean;
  seed?: number;
  onProgress?: (done: number, total: number) => void;
}

function config(options: PgdOptions) {
  checkFinite(options.eps, "eps");
  if (options.eps < 0) throw new RangeError(`eps must be >= 0, got ${options.eps}`);
  const steps = options.steps ?? 40;
  const norm = options.norm ?? "linf";
  if (norm !== "linf" && norm !== "l2") throw new RangeError(`norm must be "linf" or "l2", got ${JSON.stringify(norm)}`);
  const stepSize = options.stepSize ?? (steps > 0 ? (2.5 * options.eps) / steps : 0);
  return {
    steps, step: norm === "linf" ? ("sign" as const) : ("l2" as const), stepSize,
    start: options.randomStart === false ? ("clean" as const) : ("uniform" as const),
    ball: norm, eps: options.eps, clip: true, restarts: options.restarts, loss: options.loss, kappa: options.kappa,
    targets: options.targets, earlyStop: options.earlyStop, seed: options.seed, onProgress: options.onProgress,
  };
}

/**
 * Projected gradient descent (Madry et al. 2018; BIM of Kurakin et al. without the random start):
 * `steps` steps of `stepSize` along the sign (L-inf) or the normalised gradient (L2) of the loss,
 * each followed by projection into the eps-ball and clipping to [0, 1].
 *
 *   pgd(net, images, labels, { eps: 0.1, steps: 40, restarts: 5 })  // PGD-40 L-inf with 5 restarts
 *   pgd(net, images, labels, { eps: 1.5, norm: "l2" })
 */
export function pgd(model: Classifier, images: ArrayLike<number>, labels: ArrayLike<number>, options: PgdOptions): AttackResult {
  return gradientAttack(model, images, labels, config(options));
}

/** `pgd` that leaves the event loop free between chunks. */
export function pgdAsync(model: Classifier, images: ArrayLike<number>, labels: ArrayLike<number>, options: PgdOptions): Promise<AttackResult> {
  return gradientAttackAsync(model, images, labels, config(options));
}
