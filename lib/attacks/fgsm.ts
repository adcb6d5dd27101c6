import type { LossName } from "../model/backend";
import type { Classifier } from "../model/classifier";
import { gradientAttack } from "./loop";
import { checkFinite } from "../util/validate";
import type { AttackResult } from "./result";

export interface FgsmOptions {
  /** The L-infinity budget: every pixel moves by at most eps (>= 0). */
  eps: number;
  /** The loss whose gradient sign is followed (default as `gradientAttack`). */
  loss?: LossName;
  kappa?: number;
  /** n target labels for a targeted attack. */
  targets?: ArrayLike<number>;
  /** Unused (FGSM draws nothing); accepted so every attack takes the same options. */
  seed?: number;
}

/**
 * The fast gradient sign method (Goodfellow, Shlens and Szegedy 2015): one step of length eps
 * along the sign of the loss gradient, from the clean image, clipped to [0, 1]. A configuration
 * of the gradient loop: 1 step, "sign", stepSize = eps, L-inf ball of eps.
 *
 *   const r = fgsm(net, test.images.subarray(0, 100 * 784), test.labels.subarray(0, 100), { eps: 0.1 });
 *   successRate(r)  // the share of the 100 images now misclassified
 */
export function fgsm(model: Classifier, images: ArrayLike<number>, labels: ArrayLike<number>, options: FgsmOptions): AttackResult {
  checkFinite(options.eps, "eps");
  if (options.eps < 0) throw new RangeError(`eps must be >= 0, got ${options.eps}`);
  return gradientAttack(model, images, labels, {
    steps: 1, step: "sign", stepSize: options.eps, start: "clean", ball: "linf", eps: options.eps, clip: true,
    loss: options.loss, kappa: options.kappa, targets: options.targets, seed: options.seed,
  });
}
