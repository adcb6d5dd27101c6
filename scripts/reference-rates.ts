/**
 * The article's measured rates (ARTICLE.md §8) recomputed by this library on the article's own
 * network (../shared/reference/network-784-30-10.json), so the reproduction table compares like
 * with like: our notebooks use our own trained network, which differs from the reference one.
 *
 *   const ref = referenceRates("/path/to/network-784-30-10.json")
 *   ref.sneakySuccessRate  // about 0.56
 *
 * Every draw is seeded (REFERENCE_SEED); the same network gives the same numbers.
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { adversarial, argmax, binaryThreshold, createRng, loadMnist, Network, sneakyAdversarial } from "../dist";

export const REFERENCE_SEED = 8;

export interface ReferenceRates {
  network: string;
  testAccuracy: number;
  thresholdedCleanAccuracy: number;
  /** Share of 20 seeded starts per goal (1000 steps, eta 1) where the goal wins the argmax. */
  fooledRateByGoal: number[];
  startsPerGoal: number;
  /** 1,000 seeded (test image, other label) pairs, 100 steps, eta 1, lam 0.05. */
  sneakySuccessRate: number;
  sneakyPairs: number;
  /** Share of those examples whose true label thresholding at 0.5 restores. */
  thresholdRecoveryRate: number;
  /** The first 200 test images of a 2, attacked towards 8. */
  sneaky2to8Rate: number;
  sneaky2to8Count: number;
  /** Among the successful 2 -> 8 examples: share that thresholding turns back into a 2. */
  thresholdRecovery2to8SuccessfulRate: number;
  seconds: number;
}

/** The reference network's path, when the shared folder is there. */
export function referenceNetworkPath(root = resolve(__dirname, "..")): string | undefined {
  const candidates = [process.env.ADVLAB_REFERENCE_NETWORK, join(root, "..", "shared", "reference", "network-784-30-10.json")];
  return candidates.find((p): p is string => p !== undefined && p !== "" && existsSync(p));
}

export function referenceRates(networkPath: string, options: { startsPerGoal?: number; pairs?: number; twos?: number } = {}): ReferenceRates {
  const started = Date.now();
  const startsPerGoal = options.startsPerGoal ?? 20;
  const pairs = options.pairs ?? 1000;
  const twos = options.twos ?? 200;
  const net = Network.load(networkPath);
  const { test } = loadMnist();
  const predict = (x: ArrayLike<number>) => argmax(net.feedforward(x));

  let thresholdedCorrect = 0;
  for (let i = 0; i < test.length; i++) if (predict(binaryThreshold(test.image(i))) === test.labels[i]) thresholdedCorrect++;

  const fooledRateByGoal: number[] = [];
  for (let goal = 0; goal < 10; goal++) {
    let fooled = 0;
    for (let k = 0; k < startsPerGoal; k++) {
      const x = adversarial(net, goal, 1000, 1, { seed: REFERENCE_SEED * 1000 + goal * startsPerGoal + k });
      if (predict(x) === goal) fooled++;
    }
    fooledRateByGoal.push(fooled / startsPerGoal);
  }

  const rng = createRng(REFERENCE_SEED);
  let success = 0;
  let recovered = 0;
  for (let k = 0; k < pairs; k++) {
    const i = rng.int(test.length);
    const label = test.labels[i];
    const goal = (label + 1 + rng.int(9)) % 10; // any label but the true one, uniformly
    const x = sneakyAdversarial(net, goal, test.image(i), 100, 1, 0.05, { seed: 100000 + k });
    if (predict(x) === goal) success++;
    if (predict(binaryThreshold(x)) === label) recovered++;
  }

  let twoCount = 0;
  let twoSuccess = 0;
  let twoRecovered = 0;
  for (let i = 0; i < test.length && twoCount < twos; i++) {
    if (test.labels[i] !== 2) continue;
    const x = sneakyAdversarial(net, 8, test.image(i), 100, 1, 0.05, { seed: 200000 + twoCount });
    twoCount++;
    if (predict(x) === 8) {
      twoSuccess++;
      if (predict(binaryThreshold(x)) === 2) twoRecovered++;
    }
  }

  return {
    network: networkPath,
    testAccuracy: net.evaluate(test) / test.length,
    thresholdedCleanAccuracy: thresholdedCorrect / test.length,
    fooledRateByGoal,
    startsPerGoal,
    sneakySuccessRate: success / pairs,
    sneakyPairs: pairs,
    thresholdRecoveryRate: recovered / pairs,
    sneaky2to8Rate: twoSuccess / twoCount,
    sneaky2to8Count: twoCount,
    thresholdRecovery2to8SuccessfulRate: twoSuccess === 0 ? 0 : twoRecovered / twoSuccess,
    seconds: (Date.now() - started) / 1000,
  };
}

if (require.main === module) {
  const path = process.argv[2] ?? referenceNetworkPath();
  if (!path) {
    console.error("reference-rates: no reference network (pass its path, or set ADVLAB_REFERENCE_NETWORK)");
    process.exit(1);
  }
  console.log(JSON.stringify(referenceRates(path), null, 2));
}
