import { checkFinite } from "../util/validate";
import type { AttackResult } from "./result";

/** One attack run at several budgets: per eps, which images it fooled. */
export interface EpsilonSweep {
  epsilons: number[];
  /** K x N: success[k][i] is 1 where the attack at epsilons[k] fooled image i (re-predicted). */
  success: Uint8Array[];
  /** Per eps, the share of the N images fooled. */
  rate: number[];
  /** The attack's full result at each eps (images, distances, steps). */
  results: AttackResult[];
}

/**
 * Runs `run(eps)` for every eps of `epsilons` and gathers the K x N success matrix, as attack
 * libraries report it: each entry decided by predicting the returned (clipped) images again.
 *
 *   const s = sweepEpsilons([0.05, 0.1, 0.2], (eps) => pgd(net, images, labels, { eps }));
 *   s.rate  // e.g. [0.41, 0.93, 1]
 */
export function sweepEpsilons(epsilons: number[], run: (eps: number) => AttackResult): EpsilonSweep {
  if (!Array.isArray(epsilons) || epsilons.length === 0) throw new RangeError("epsilons must list at least one budget");
  epsilons.forEach((e, k) => {
    checkFinite(e, `epsilons[${k}]`);
    if (e < 0) throw new RangeError(`epsilons[${k}] must be >= 0, got ${e}`);
  });
  const results = epsilons.map((eps) => run(eps));
  const success = results.map((r) => r.success);
  const rate = success.map((s) => (s.length === 0 ? 0 : s.reduce((a, b) => a + b, 0) / s.length));
  return { epsilons: epsilons.slice(), success, rate, results };
}
