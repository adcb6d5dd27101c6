import type { Dataset } from "../data/dataset";
import type { TrainingAdversary } from "../model/backend";
import { Network, SgdOptions } from "../model/network";
import { backend } from "../model/backends";
import { lossSpec } from "../model/losses";
import { drawStarts } from "../attacks/start";
import { createRng, DEFAULT_SEED } from "../util/random";
import { checkCount, checkFinite, checkSeed } from "../util/validate";
import { runAsync, runSync, Work } from "../util/work";

/**
 * Adversarial training with the attack inside the loop: every mini-batch is replaced by
 * adversarial images of it, made on the current weights, before the sgd update.
 * - "fgsm-rs": FGSM from a uniform random start in the L-inf ball, step 1.25 eps (Wong, Rice and
 *   Kolter 2020, "Fast is better than free");
 * - "pgd": PGD-k from a uniform random start, k = `steps` steps of 2.5 eps / k (Madry et al. 2018).
 * The article's recipe instead trains on examples generated once beforehand (`augmentData`).
 */
export interface AdversarialTrainingOptions extends SgdOptions {
  attack: "fgsm-rs" | "pgd";
  /** The L-inf budget the adversary has (>= 0). */
  eps: number;
  /** PGD steps per mini-batch (default 10; FGSM-RS always 1). */
  steps?: number;
  /** Step length (default 1.25 eps for FGSM-RS, 2.5 eps / steps for PGD). */
  stepSize?: number;
  /** Seed of the random starts (default: seed + 1, a stream apart from the shuffles). */
  startSeed?: number;
}

function adversaryOf(net: Network, options: AdversarialTrainingOptions): TrainingAdversary {
  if (options.attack !== "fgsm-rs" && options.attack !== "pgd") {
    throw new RangeError(`attack must be "fgsm-rs" or "pgd", got ${JSON.stringify(options.attack)}`);
  }
  checkFinite(options.eps, "eps");
  if (options.eps < 0) throw new RangeError(`eps must be >= 0, got ${options.eps}`);
  const steps = options.attack === "fgsm-rs" ? 1 : options.steps ?? 10;
  checkCount(steps, "steps", 1);
  const stepSize = options.stepSize ?? (options.attack === "fgsm-rs" ? 1.25 * options.eps : (2.5 * options.eps) / steps);
  checkFinite(stepSize, "stepSize");
  const startSeed = options.startSeed ?? (options.seed ?? DEFAULT_SEED) + 1;
  checkSeed(startSeed);
  const rng = createRng(startSeed);
  const d = net.inputSize;
  return {
    fillStarts: (clean, starts) => drawStarts("uniform", rng, clean, starts, d, options.eps, "linf"),
    // The adversary ascends the network's own training loss on the true labels.
    loss: lossSpec(net.loss), steps, step: "sign", stepSize, ball: "linf", eps: options.eps, clip: true,
  };
}

function work(net: Network, training: Dataset, epochs: number, miniBatchSize: number, eta: number, options: AdversarialTrainingOptions): Work<void> {
  const b = backend();
  return net.sgdWork(b.train.bind(b), training, epochs, miniBatchSize, eta, options, adversaryOf(net, options));
}

/**
 * Trains `net` in place on adversarial versions of every mini-batch (see AdversarialTrainingOptions);
 * otherwise as `Network.sgd` (same shuffles, same update, epoch reports with `testData`).
 *
 *   adversarialTraining(net, training, 5, 50, 0.1, { attack: "fgsm-rs", eps: 0.1, testData: test })
 */
export function adversarialTraining(
  net: Network, training: Dataset, epochs: number, miniBatchSize: number, eta: number, options: AdversarialTrainingOptions,
): void {
  runSync(work(net, training, epochs, miniBatchSize, eta, options));
}

/** `adversarialTraining` that leaves the event loop free between mini-batch jobs (for live progress). */
export async function adversarialTrainingAsync(
  net: Network, training: Dataset, epochs: number, miniBatchSize: number, eta: number, options: AdversarialTrainingOptions,
): Promise<void> {
  const w = work(net, training, epochs, miniBatchSize, eta, options);
  await runAsync(() => w);
}
