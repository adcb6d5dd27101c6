/**
 * The sanity checks a robustness evaluation should pass before its numbers are believed
 * (Carlini et al. 2019, "On Evaluating Adversarial Robustness", sections 5 and 7). Each one reads
 * curves the evaluation has already measured; none runs an attack. A check that fires names the
 * numbers that made it fire and says in one sentence what it suggests.
 *
 * | check | fires when | what it usually means |
 * |---|---|---|
 * | "black-box-stronger" | a gradient-free (or transfer) attack fools more than the white-box one at some eps | the gradients are masked or the white-box attack is broken |
 * | "success-not-growing" | success falls as eps grows | a bug, or an attack that stops too early / is badly tuned |
 * | "more-steps-help" | doubling the steps still raises success | the attack has not converged: its numbers overstate robustness |
 * | "unbounded-below-100" | an attack with an unlimited budget fools fewer than all images | the attack cannot follow the gradient there (masking, saturation, a bug) |
 *
 * Rates are shares in [0, 1] of the same images. A difference counts only when it exceeds
 * `tolerance` (default 0.01, one image in a hundred), so that a stochastic attack's noise does
 * not raise a flag; the unbounded check allows `unboundedTolerance` (default 0).
 */
import { checkFinite } from "../util/validate";

/** Success (the share of images fooled, in [0, 1]) at one budget eps. */
export interface EpsPoint {
  eps: number;
  success: number;
}

/** Success at one number of iterations (at a fixed budget). */
export interface StepsPoint {
  steps: number;
  success: number;
}

export interface EvaluationCurves {
  /** The white-box (gradient) attack's success per eps, e.g. PGD-40. */
  whiteBox?: EpsPoint[];
  /** A black-box attack's success per eps on the same images (gradient-free such as Square, or transfer). */
  blackBox?: EpsPoint[];
  /** One attack's success against its number of iterations, at one eps. */
  stepsCurve?: StepsPoint[];
  /** An attack with an unlimited budget (e.g. PGD at eps 1 in L-inf): its success. */
  unbounded?: { success: number; name?: string };
  /** Names used in the sentences (defaults "white-box", "black-box", "the attack"). */
  names?: { whiteBox?: string; blackBox?: string; steps?: string };
  /**
   * Images behind each rate: when given, the sentences also state counts. One number for all
   * curves, or per curve: `eps` (the white-box and black-box curves, on the same images),
   * `steps` and `unbounded`.
   */
  n?: number | { eps?: number; steps?: number; unbounded?: number };
  /** Differences up to this (in rate units) are noise (default 0.01). */
  tolerance?: number;
  /** How far below 1 the unbounded attack may stay (default 0). */
  unboundedTolerance?: number;
}

export type CheckName = "black-box-stronger" | "success-not-growing" | "more-steps-help" | "unbounded-below-100";

/** One check's verdict. `numbers` are the values behind it (empty when it was not checked). */
export interface CheckOutcome {
  check: CheckName;
  /** True when the check fired: something is wrong with the evaluation. */
  fired: boolean;
  /** False when the curves it needs were not given. */
  checked: boolean;
  /** One plain sentence: what was found, with the numbers. */
  message: string;
  numbers: Record<string, number>;
}

export interface EvaluationChecks {
  /** Every check, fired or not, in the order of the table above. */
  outcomes: CheckOutcome[];
  /** The outcomes that fired. */
  flags: CheckOutcome[];
  /** True when no check fired. */
  ok: boolean;
}

const pct = (v: number) => `${(100 * v).toFixed(1)} %`;

function checkRate(v: unknown, name: string): number {
  checkFinite(v, name);
  if (v < 0 || v > 1) throw new RangeError(`${name} must be a share in [0, 1], got ${v}`);
  return v;
}

function checkPoints<K extends "eps" | "steps">(points: unknown, key: K, name: string): ({ [k in K]: number } & { success: number })[] {
  if (!Array.isArray(points)) throw new TypeError(`${name} must be an array of { ${key}, success }`);
  return points.map((p, i) => {
    checkFinite(p?.[key], `${name}[${i}].${key}`);
    return { [key]: p[key], success: checkRate(p.success, `${name}[${i}].success`) } as { [k in K]: number } & { success: number };
  });
}

function counted(rate: number, n: number | undefined): string {
  return n === undefined ? pct(rate) : `${pct(rate)} (${Math.round(rate * n)} of ${n})`;
}

/** The image count behind one kind of curve, if known. */
function nOf(c: EvaluationCurves, kind: "eps" | "steps" | "unbounded"): number | undefined {
  return typeof c.n === "number" ? c.n : c.n?.[kind];
}

function notChecked(check: CheckName, what: string): CheckOutcome {
  return { check, fired: false, checked: false, message: `not checked: no ${what} given`, numbers: {} };
}

function blackBoxStronger(c: EvaluationCurves, tol: number): CheckOutcome {
  if (!c.whiteBox || !c.blackBox) return notChecked("black-box-stronger", "white-box and black-box curves");
  const white = checkPoints(c.whiteBox, "eps", "whiteBox");
  const black = checkPoints(c.blackBox, "eps", "blackBox");
  const wb = c.names?.whiteBox ?? "the white-box attack", bb = c.names?.blackBox ?? "the black-box attack";
  // The eps where the black-box attack leads the most.
  let worst: { eps: number; white: number; black: number } | null = null;
  let compared = 0;
  for (const b of black) {
    const w = white.find((p) => Math.abs(p.eps - b.eps) <= 1e-9 * Math.max(1, Math.abs(b.eps)));
    if (!w) continue;
    compared++;
    if (worst === null || b.success - w.success > worst.black - worst.white) worst = { eps: b.eps, white: w.success, black: b.success };
  }
  if (worst === null) return { check: "black-box-stronger", fired: false, checked: false, message: "not checked: the two curves share no eps", numbers: {} };
  const numbers = { eps: worst.eps, whiteBox: worst.white, blackBox: worst.black, epsCompared: compared };
  if (worst.black - worst.white > tol) {
    return {
      check: "black-box-stronger", fired: true, checked: true, numbers,
      message: `at eps ${worst.eps} ${bb} fools ${counted(worst.black, nOf(c, "eps"))} but ${wb} only ${counted(worst.white, nOf(c, "eps"))}: ` +
        `a gradient attack should do at least as well as one without gradients, so the gradients are probably masked or the attack is broken`,
    };
  }
  return {
    check: "black-box-stronger", fired: false, checked: true, numbers,
    message: `${wb} is at least as strong as ${bb} at all ${compared} eps compared (` +
      (worst.black > worst.white ? `largest lead of ${bb}: ${(100 * (worst.black - worst.white)).toFixed(1)} points at eps ${worst.eps}, within the tolerance)` : `${bb} never leads)`),
  };
}

function successNotGrowing(c: EvaluationCurves, tol: number): CheckOutcome {
  const curves = ([["whiteBox", c.whiteBox, c.names?.whiteBox ?? "the white-box attack"], ["blackBox", c.blackBox, c.names?.blackBox ?? "the black-box attack"]] as const)
    .filter(([, points]) => points !== undefined);
  if (curves.length === 0) return notChecked("success-not-growing", "curve against eps");
  let worst: { name: string; from: EpsPoint; to: EpsPoint } | null = null;
  for (const [key, points, name] of curves) {
    const sorted = checkPoints(points, "eps", key).slice().sort((a, b) => a.eps - b.eps);
    for (let i = 1; i < sorted.length; i++) {
      // The largest fall from any smaller eps to this one.
      for (let j = 0; j < i; j++) {
        const drop = sorted[j].success - sorted[i].success;
        if (sorted[i].eps > sorted[j].eps && (worst === null || drop > worst.from.success - worst.to.success)) {
          worst = { name, from: sorted[j], to: sorted[i] };
        }
      }
    }
  }
  if (worst === null) return { check: "success-not-growing", fired: false, checked: true, message: "fewer than two eps per curve: nothing to compare", numbers: {} };
  const drop = worst.from.success - worst.to.success;
  const numbers = { epsLow: worst.from.eps, successLow: worst.from.success, epsHigh: worst.to.eps, successHigh: worst.to.success };
  if (drop > tol) {
    return {
      check: "success-not-growing", fired: true, checked: true, numbers,
      message: `${worst.name} fools ${counted(worst.from.success, nOf(c, "eps"))} at eps ${worst.from.eps} but only ${counted(worst.to.success, nOf(c, "eps"))} ` +
        `at the larger eps ${worst.to.eps}: a larger budget contains every smaller one, so success must not fall; the attack is not finding what exists`,
    };
  }
  return {
    check: "success-not-growing", fired: false, checked: true, numbers,
    message: `success grows with eps on every curve given (largest fall ${(100 * Math.max(0, drop)).toFixed(1)} points)`,
  };
}

function moreStepsHelp(c: EvaluationCurves, tol: number): CheckOutcome {
  if (!c.stepsCurve) return notChecked("more-steps-help", "success-against-steps curve");
  const sorted = checkPoints(c.stepsCurve, "steps", "stepsCurve").slice().sort((a, b) => a.steps - b.steps);
  const name = c.names?.steps ?? "the attack";
  const last = sorted[sorted.length - 1];
  // The largest step count at most half of the last one: "doubling the steps".
  const half = sorted.filter((p) => p.steps * 2 <= last?.steps).pop();
  if (!last || !half) {
    return { check: "more-steps-help", fired: false, checked: false, message: "not checked: the curve needs two step counts, one at least twice the other", numbers: {} };
  }
  const numbers = { steps: half.steps, success: half.success, moreSteps: last.steps, successMoreSteps: last.success };
  const gain = last.success - half.success;
  if (gain > tol) {
    return {
      check: "more-steps-help", fired: true, checked: true, numbers,
      message: `${name} fools ${counted(half.success, nOf(c, "steps"))} with ${half.steps} steps and ${counted(last.success, nOf(c, "steps"))} with ${last.steps}: ` +
        `it has not converged, so robust accuracy measured with ${half.steps} steps is too high`,
    };
  }
  return {
    check: "more-steps-help", fired: false, checked: true, numbers,
    message: `${name} has converged: ${last.steps} steps instead of ${half.steps} change success by ${(100 * gain).toFixed(1)} points`,
  };
}

function unboundedBelow100(c: EvaluationCurves, tol: number): CheckOutcome {
  if (!c.unbounded) return notChecked("unbounded-below-100", "unbounded attack");
  const success = checkRate(c.unbounded.success, "unbounded.success");
  const name = c.unbounded.name ?? "the unbounded attack";
  const numbers = { success };
  if (success < 1 - tol - 1e-12) {
    return {
      check: "unbounded-below-100", fired: true, checked: true, numbers,
      message: `${name} fools only ${counted(success, nOf(c, "unbounded"))}: with no limit on the change every image can be made into another class, ` +
        `so the attack is failing to follow the model (masked gradients, saturation, or a bug)`,
    };
  }
  return { check: "unbounded-below-100", fired: false, checked: true, numbers, message: `${name} fools ${counted(success, nOf(c, "unbounded"))}, as it must` };
}

/**
 * Runs the four checks on curves already measured and returns every outcome, the ones that fired
 * first in `flags`.
 *
 *   const checks = evaluationChecks({
 *     whiteBox: [{ eps: 0.05, success: 0.45 }, { eps: 0.1, success: 0.86 }],   // PGD-40
 *     blackBox: [{ eps: 0.05, success: 0.30 }, { eps: 0.1, success: 0.71 }],   // Square
 *     stepsCurve: [{ steps: 20, success: 0.85 }, { steps: 40, success: 0.86 }, { steps: 80, success: 0.86 }],
 *     unbounded: { success: 1, name: "PGD at eps 1" },
 *     n: 500,
 *   });
 *   checks.ok  // true: nothing fired
 */
export function evaluationChecks(curves: EvaluationCurves): EvaluationChecks {
  if (curves === null || typeof curves !== "object") throw new TypeError("evaluationChecks: expected an object of curves { whiteBox, blackBox, stepsCurve, unbounded }");
  const tol = curves.tolerance ?? 0.01;
  checkFinite(tol, "tolerance");
  const unboundedTol = curves.unboundedTolerance ?? 0;
  checkFinite(unboundedTol, "unboundedTolerance");
  const counts = typeof curves.n === "object" && curves.n !== null ? Object.entries(curves.n).map(([k, v]) => [`n.${k}`, v] as const) : curves.n === undefined ? [] : [["n", curves.n] as const];
  for (const [name, v] of counts) {
    if (v !== undefined && (!Number.isInteger(v) || (v as number) < 1)) throw new RangeError(`${name} must be a whole number >= 1, got ${String(v)}`);
  }
  const outcomes = [
    blackBoxStronger(curves, tol),
    successNotGrowing(curves, tol),
    moreStepsHelp(curves, tol),
    unboundedBelow100(curves, unboundedTol),
  ];
  const flags = outcomes.filter((o) => o.fired);
  return { outcomes, flags, ok: flags.length === 0 };
}
