/**
 * What counts as fooled, kept apart from how an attack searches. Each criterion looks at one
 * output vector (10 activations in (0, 1)) and a label 0..9.
 */

/** Index of the largest entry (the first one on ties). `argmax([0.1, 0.7, 0.2])` is 1. */
export function argmax(v: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
  return best;
}

/** Targeted success: the network's top class is the attacker's goal. */
export function targetedSuccess(output: ArrayLike<number>, goal: number): boolean {
  return argmax(output) === goal;
}

/** Untargeted success: the network's top class is anything but the true label. */
export function misclassified(output: ArrayLike<number>, trueLabel: number): boolean {
  return argmax(output) !== trueLabel;
}

/**
 * The article's two outcomes of an attack towards `goal`: "fooled" when the goal wins the
 * argmax, "confused" when it does not. `confidence` is the goal's activation either way, and
 * `top` the largest activation (low for every digit when the net is confused).
 */
export function attackOutcome(output: ArrayLike<number>, goal: number): { fooled: boolean; confidence: number; top: number } {
  return { fooled: targetedSuccess(output, goal), confidence: output[goal], top: output[argmax(output)] };
}
