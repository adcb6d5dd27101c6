import { mean } from "d3-array";
import { Network } from "../model/network";
import { Dataset } from "../data/dataset";
import { argmax } from "../util/argmax";
import { Classifier, predictRows } from "../model/classifier";

/** The share of `data` the network classifies right, in [0, 1]. */
export function accuracy(net: Network, data: Dataset): number {
  return data.length === 0 ? 0 : net.evaluate(data) / data.length;
}

/** The predicted digit (argmax) of every image of `data`. */
export function predictions(net: Network, data: Dataset): Uint8Array {
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = argmax(net.feedforward(data.image(i)));
  return out;
}

/**
 * counts[t][p]: how many images of true label t were predicted p (classes x classes).
 *
 *   confusionMatrix(Uint8Array.of(1, 1, 2), Uint8Array.of(1, 2, 2), 3)  // [[0,0,0],[0,1,1],[0,0,1]]
 */
export function confusionMatrix(truth: ArrayLike<number>, predicted: ArrayLike<number>, classes = 10): number[][] {
  if (truth.length !== predicted.length) {
    throw new RangeError(`confusionMatrix: ${truth.length} true labels but ${predicted.length} predictions`);
  }
  const counts = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (let i = 0; i < truth.length; i++) counts[truth[i]][predicted[i]]++;
  return counts;
}

/** The share of true entries, in [0, 1] (0 for none). `rate([true, false, true, true])` is 0.75. */
export function rate(flags: ArrayLike<boolean>): number {
  return flags.length === 0 ? 0 : mean(Array.from(flags, Number)) ?? 0;
}

/**
 * The Wilson score interval of a proportion: `successes` out of `n` at z standard errors
 * (1.96: 95 %). Used to say whether two measured rates agree within sampling error.
 *
 *   wilsonInterval(56, 100)  // { low: 0.462, high: 0.654 } (rounded)
 */
export function wilsonInterval(successes: number, n: number, z = 1.96): { low: number; high: number } {
  if (n === 0) return { low: 0, high: 1 };
  const p = successes / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / (1 + z2 / n);
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

/**
 * The share of n images (`images`: n x inputSize numbers) the model classifies as `labels`, in
 * [0, 1], from one batched forward pass.
 *
 *   accuracyOf(net, adv.images, labels)  // e.g. 0.14 under PGD at eps 0.1
 */
export function accuracyOf(model: Classifier, images: ArrayLike<number>, labels: ArrayLike<number>): number {
  const predicted = predictRows(model.forward(images), model.classes);
  if (predicted.length !== labels.length) throw new RangeError(`accuracyOf: ${predicted.length} images but ${labels.length} labels`);
  let right = 0;
  for (let i = 0; i < predicted.length; i++) if (predicted[i] === labels[i]) right++;
  return predicted.length === 0 ? 0 : right / predicted.length;
}
