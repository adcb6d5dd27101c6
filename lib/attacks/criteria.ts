import { argmax, argmaxRow } from "../util/argmax";

/**
 * What counts as fooled, kept apart from how an attack searches.
 *
 * One output: `targetedSuccess`, `misclassified`, `attackOutcome` look at one output vector and a
 * label. Many outputs: a `Criterion` decides for n output rows at once, and criteria combine
 * with `both`: e.g. both(misclassified(labels), confidence(0.9)).
 */

export { argmax };

/** Targeted success: the network's top class is the attacker's goal. */
export function targetedSuccess(output: ArrayLike<number>, goal: number): boolean {
  return argmax(output) === goal;
}

/**
 * Untargeted success (one output vector and a label: `misclassified(output, label)`), or the
 * batched criterion "argmax != labels[i]" (`misclassified(labels)`).
 */
export function misclassified(output: ArrayLike<number>, trueLabel: number): boolean;
export function misclassified(labels: ArrayLike<number>): Criterion;
export function misclassified(a: ArrayLike<number>, trueLabel?: number): boolean | Criterion {
  if (trueLabel !== undefined) return argmax(a) !== trueLabel;
  const labels = a;
  return { name: "misclassified", decide: (out, classes) => rowsWhere(out, classes, (row, i) => argmaxRow(out, row, classes) !== labels[i]) };
}

/**
 * The article's two outcomes of an attack towards `goal`: "fooled" when the goal wins the
 * argmax, "confused" when it does not. `confidence` is the goal's activation either way, and
 * `top` the largest activation (low for every digit when the net is confused).
 */
export function attackOutcome(output: ArrayLike<number>, goal: number): { fooled: boolean; confidence: number; top: number } {
  return { fooled: targetedSuccess(output, goal), confidence: output[goal], top: output[argmax(output)] };
}

/** A batched criterion: `decide(outputs, classes)` gives 1 for each of the n output rows that counts as fooled. */
export interface Criterion {
  readonly name: string;
  decide(outputs: ArrayLike<number>, classes: number): Uint8Array;
}


function rowsWhere(out: ArrayLike<number>, classes: number, test: (rowOffset: number, i: number) => boolean): Uint8Array {
  const n = out.length / classes;
  const flags = new Uint8Array(n);
  for (let i = 0; i < n; i++) flags[i] = test(i * classes, i) ? 1 : 0;
  return flags;
}

/** Fooled when the top class of row i is goals[i]. */
export function targeted(goals: ArrayLike<number>): Criterion {
  return { name: "targeted", decide: (out, classes) => rowsWhere(out, classes, (o, i) => argmaxRow(out, o, classes) === goals[i]) };
}

/**
 * Fooled when the top output of row i is at least `c` (for sigmoid outputs an activation, for
 * logits a softmax probability when `softmax` is set).
 */
export function confidence(c: number, options: { softmax?: boolean } = {}): Criterion {
  return {
    name: `confidence >= ${c}`,
    decide: (out, classes) => rowsWhere(out, classes, (o) => {
      const top = out[o + argmaxRow(out, o, classes)];
      if (!options.softmax) return top >= c;
      let sum = 0;
      for (let j = 0; j < classes; j++) sum += Math.exp(out[o + j] - top);
      return 1 / sum >= c;
    }),
  };
}

/** Fooled when every criterion says so. */
export function both(...criteria: Criterion[]): Criterion {
  return {
    name: criteria.map((c) => c.name).join(" and "),
    decide: (out, classes) => {
      const flags = criteria[0].decide(out, classes);
      for (const c of criteria.slice(1)) {
        const more = c.decide(out, classes);
        for (let i = 0; i < flags.length; i++) flags[i] &= more[i];
      }
      return flags;
    },
  };
}
