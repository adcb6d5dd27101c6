import type { ActivationName } from "./backend";

/**
 * A layer's activation, its forward rule beside its derivative. The derivative is written in
 * terms of the activation a = f(z) itself (every activation here allows it), which is what the
 * backward pass keeps from the forward pass.
 */
export interface Activation {
  readonly name: ActivationName;
  /** a = f(z). */
  forward(z: number): number;
  /** f'(z), given a = f(z). */
  derivative(a: number): number;
}

/** sigmoid(z) = 1 / (1 + e^-z), in (0, 1): Nielsen's and the article's activation. */
export function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z));
}

/** sigmoid'(z) = sigmoid(z) (1 - sigmoid(z)). */
export function sigmoidPrime(z: number): number {
  const s = sigmoid(z);
  return s * (1 - s);
}

export const ACTIVATIONS: Readonly<Record<ActivationName, Activation>> = {
  sigmoid: { name: "sigmoid", forward: sigmoid, derivative: (a) => a * (1 - a) },
  // The derivative at z = 0 is taken as 0 (a = 0 there), as the kernels do.
  relu: { name: "relu", forward: (z) => (z > 0 ? z : 0), derivative: (a) => (a > 0 ? 1 : 0) },
  identity: { name: "identity", forward: (z) => z, derivative: () => 1 },
};

export const ACTIVATION_NAMES = Object.keys(ACTIVATIONS) as ActivationName[];

/** The activation called `name`, or an error that lists the known ones. */
export function activation(name: unknown, what = "activation"): Activation {
  if (typeof name !== "string" || !Object.prototype.hasOwnProperty.call(ACTIVATIONS, name)) {
    throw new RangeError(`${what} must be one of ${ACTIVATION_NAMES.map((n) => `"${n}"`).join(", ")}, got ${JSON.stringify(name)}`);
  }
  return ACTIVATIONS[name as ActivationName];
}
