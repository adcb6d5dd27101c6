import type { ActivationName, LossName } from "./backend";
import { ACTIVATION_NAMES } from "./activations";

/**
 * The saved form of a network. Format 2 adds `format`, `activations` (one per layer) and
 * `loss` to the format of the article's reference network file, which has only sizes, weights
 * and biases; such a file (format 1) loads as sigmoid everywhere with the quadratic cost.
 */
export interface NetworkJson {
  format?: number;
  sizes: number[];
  /** One per layer (sizes.length - 1); absent in format 1 (all "sigmoid"). */
  activations?: ActivationName[];
  /** The training loss; absent in format 1 ("quadratic"). */
  loss?: LossName;
  /** weights[l][row][col]: row = unit of layer l+1 fed, col = unit of layer l feeding. */
  weights: number[][][];
  /** biases[l][row], one per unit of layer l+1. */
  biases: number[][];
}

export const NETWORK_FORMAT = 2;
const TRAINING_LOSSES: LossName[] = ["quadratic", "softmax-cross-entropy"];

/** The parsed, checked form: every field present. */
export interface ParsedNetwork {
  sizes: number[];
  activations: ActivationName[];
  loss: LossName;
  weights: number[][][];
  biases: number[][];
}

/** Checks that `json` is a well-formed NetworkJson and returns it; errors name the first bad entry. */
export function parseNetworkJson(json: unknown, source: string): ParsedNetwork {
  const fail = (what: string): never => {
    throw new Error(`${source}: ${what}`);
  };
  if (json === null || typeof json !== "object" || Array.isArray(json)) fail("expected an object with sizes, weights and biases");
  const { format, sizes, weights, biases, activations, loss } = json as Record<string, unknown>;
  if (format !== undefined && format !== 1 && format !== NETWORK_FORMAT) {
    fail(`format must be 1 or ${NETWORK_FORMAT}, got ${short(format)} (a newer version of this library may read it)`);
  }
  if (!Array.isArray(sizes) || sizes.length < 2) fail(`sizes must list at least two layers, got ${short(sizes)}`);
  const ns = sizes as unknown[];
  // Index loops, not forEach, here and below: forEach skips the holes of a sparse array.
  for (let l = 0; l < ns.length; l++) {
    const n = ns[l];
    if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 1) fail(`sizes[${l}] must be a whole number >= 1, got ${short(n)}`);
  }
  const layers = ns.length - 1;
  let acts: ActivationName[];
  if (activations === undefined) {
    acts = new Array<ActivationName>(layers).fill("sigmoid");
  } else {
    if (!Array.isArray(activations) || activations.length !== layers) fail(`activations must list ${layers} names, got ${short(activations)}`);
    for (let l = 0; l < layers; l++) {
      const a = (activations as unknown[])[l];
      if (typeof a !== "string" || !ACTIVATION_NAMES.includes(a as ActivationName)) {
        fail(`activations[${l}] must be one of ${ACTIVATION_NAMES.join(", ")}, got ${short(a)}`);
      }
    }
    acts = activations as ActivationName[];
  }
  if (loss !== undefined && (typeof loss !== "string" || !TRAINING_LOSSES.includes(loss as LossName))) {
    fail(`loss must be one of ${TRAINING_LOSSES.join(", ")}, got ${short(loss)}`);
  }
  if (!Array.isArray(weights) || weights.length !== layers) fail(`weights must hold ${layers} matrices, got ${Array.isArray(weights) ? weights.length : typeof weights}`);
  if (!Array.isArray(biases) || biases.length !== layers) fail(`biases must hold ${layers} vectors, got ${Array.isArray(biases) ? biases.length : typeof biases}`);
  for (let l = 0; l < layers; l++) {
    const rows = ns[l + 1] as number;
    const cols = ns[l] as number;
    const W = (weights as unknown[])[l];
    if (!Array.isArray(W) || W.length !== rows) fail(`weights[${l}] must have ${rows} rows (sizes[${l + 1}]), got ${Array.isArray(W) ? W.length : typeof W}`);
    for (let r = 0; r < rows; r++) checkNumbers((W as unknown[])[r], cols, `weights[${l}][${r}]`, fail);
    checkNumbers((biases as unknown[])[l], rows, `biases[${l}]`, fail);
  }
  return {
    sizes: ns as number[], activations: acts.slice(), loss: (loss as LossName | undefined) ?? "quadratic",
    weights: weights as number[][][], biases: biases as number[][],
  };
}

/**
 * A value for an error message, cut short. Arrays and objects are described, not serialised:
 * JSON.stringify overflows the stack on input nested thousands of levels deep.
 */
function short(v: unknown): string {
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  if (v !== null && typeof v === "object") return "an object";
  const s = typeof v === "string" ? JSON.stringify(v) : String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function checkNumbers(v: unknown, length: number, name: string, fail: (what: string) => never): void {
  if (!Array.isArray(v) || v.length !== length) fail(`${name} must have ${length} numbers, got ${Array.isArray(v) ? v.length : typeof v}`);
  for (let i = 0; i < length; i++) {
    const x = (v as unknown[])[i];
    if (typeof x !== "number" || !Number.isFinite(x)) fail(`${name}[${i}] must be a finite number, got ${short(x)}`);
  }
}
