import type { Classifier } from "../model/classifier";
import { checkClassifier, predictRows } from "../model/classifier";
import { checkImages, checkLabels } from "../model/checks";
import type { AttackResult } from "../attacks/result";
import { wilsonInterval } from "./metrics";
import { checkFinite } from "../util/validate";

/** An attack with a name, run at one budget eps on n images with their true labels. */
export interface NamedAttack {
  name: string;
  run(model: Classifier, images: Float32Array, labels: Uint8Array, eps: number): AttackResult;
}

export interface RobustAccuracy {
  epsilons: number[];
  /** Clean accuracy (no attack), in [0, 1]. */
  clean: number;
  /** Per eps: the share of the n images classified right and fooled by none of the attacks. */
  accuracy: number[];
  /** Per eps: the Wilson interval of `accuracy` (95 % unless z says otherwise). */
  interval: { low: number; high: number }[];
  /** Per eps: n flags, 1 where image i survived every attack (its worst case over the attacks). */
  robust: Uint8Array[];
  /** Per attack name, per eps: the accuracy that attack alone leaves. */
  perAttack: Record<string, number[]>;
}

/**
 * Robust accuracy as a careful evaluation reports it: for each budget in `epsilons`, an image
 * counts as robust only if the model classifies it right and no attack in `attacks` fools it
 * (the per-image worst case over the attacks), with a Wilson interval for the rate.
 *
 *   const pgd40: NamedAttack = { name: "PGD-40", run: (m, x, y, eps) => pgd(m, x, y, { eps, steps: 40 }) };
 *   const square: NamedAttack = { name: "Square", run: (m, x, y, eps) => squareAttack(m, x, y, { eps }) };
 *   robustAccuracy(net, images, labels, [pgd40, square], [0.05, 0.1, 0.2]).accuracy  // e.g. [0.61, 0.14, 0]
 */
export function robustAccuracy(
  model: Classifier, images: ArrayLike<number>, labels: ArrayLike<number>, attacks: NamedAttack[], epsilons: number[],
  options: { z?: number; onAttack?: (name: string, eps: number) => void } = {},
): RobustAccuracy {
  checkClassifier(model);
  const n = checkImages(images, model.inputSize, "images");
  const y = checkLabels(labels, n, model.classes, "labels");
  if (!Array.isArray(attacks) || attacks.length === 0) throw new RangeError("robustAccuracy: attacks must list at least one attack");
  epsilons.forEach((e, k) => { checkFinite(e, `epsilons[${k}]`); if (e < 0) throw new RangeError(`epsilons[${k}] must be >= 0, got ${e}`); });
  const x = Float32Array.from(images);
  const predicted = predictRows(model.forward(x), model.classes);
  const correct = Uint8Array.from(predicted, (p, i) => (p === y[i] ? 1 : 0));
  const share = (flags: Uint8Array) => (n === 0 ? 0 : flags.reduce((s, f) => s + f, 0) / n);
  const perAttack: Record<string, number[]> = Object.fromEntries(attacks.map((a) => [a.name, [] as number[]]));
  const robust = epsilons.map((eps) => {
    const alive = correct.slice();
    for (const attack of attacks) {
      options.onAttack?.(attack.name, eps);
      const result = attack.run(model, x, y, eps);
      const survived = Uint8Array.from(correct, (c, i) => (c && !result.success[i] ? 1 : 0));
      perAttack[attack.name].push(share(survived));
      for (let i = 0; i < n; i++) if (result.success[i]) alive[i] = 0;
    }
    return alive;
  });
  const accuracy = robust.map(share);
  return {
    epsilons: epsilons.slice(), clean: share(correct), accuracy, robust, perAttack,
    interval: robust.map((r) => wilsonInterval(r.reduce((s, f) => s + f, 0), n, options.z ?? 1.96)),
  };
}
