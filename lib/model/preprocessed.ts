import type { GradientResult, LossSpec } from "./backend";
import { Classifier, checkClassifier } from "./classifier";
import { binaryThreshold } from "../defenses/threshold";

/**
 * A transform of whole batches (n x d numbers in, n x d out), optionally with its backward rule:
 * `backward(images, gradOut)` gives d/d images of sum(gradOut * transform(images)).
 */
export type Transform = ((images: ArrayLike<number>) => ArrayLike<number>) & {
  backward?: (images: ArrayLike<number>, gradOut: ArrayLike<number>) => ArrayLike<number>;
};

/**
 * How the composed model's input gradient is taken:
 * - "exact": through the transform's own backward rule (for binary thresholding: 0 almost
 *   everywhere, the masked gradient a naive attacker sees);
 * - "straight-through": as if the transform were the identity (BPDA, Athalye, Carlini and
 *   Wagner 2018), the gradient at the transformed image passed back unchanged;
 * - a function (images, gradient at the transformed images) -> gradient: any other approximation.
 */
export type PreprocessGradient = "exact" | "straight-through" | ((images: ArrayLike<number>, gradOut: ArrayLike<number>) => ArrayLike<number>);

/**
 * The classifier "transform, then model": e.g. the article's first defence as a model of its own,
 * which any attack can then attack.
 *
 *   const defended = preprocessed(net, binaryThreshold, { gradient: "straight-through" });
 *   pgd(defended, images, labels, { eps: 0.3 })  // BPDA through the thresholding
 */
export function preprocessed(model: Classifier, transform: Transform, options: { gradient?: PreprocessGradient } = {}): Classifier {
  checkClassifier(model);
  if (typeof transform !== "function") throw new TypeError("transform must be a function from images (n x d numbers) to images");
  const gradient = options.gradient ?? "exact";
  if (gradient === "exact" && typeof transform.backward !== "function") {
    throw new RangeError(`gradient "exact" needs a transform with a backward(images, gradOut) rule; ${transform.name || "this transform"} has none (use "straight-through" or pass a function)`);
  }
  if (gradient !== "exact" && gradient !== "straight-through" && typeof gradient !== "function") {
    throw new RangeError(`gradient must be "exact", "straight-through" or a function, got ${JSON.stringify(gradient)}`);
  }
  const apply = (images: ArrayLike<number>) => {
    const out = transform(images);
    if (!out || out.length !== images.length) {
      throw new RangeError(`transform returned ${out ? out.length : out} numbers for ${images.length}; it must keep the images' shape`);
    }
    return out;
  };
  return {
    inputSize: model.inputSize,
    classes: model.classes,
    forward: (images) => model.forward(apply(images)),
    lossGradient(images: ArrayLike<number>, labels: Uint8Array, loss: LossSpec): GradientResult {
      const g = model.lossGradient(apply(images), labels, loss);
      if (gradient === "straight-through") return g;
      const back = gradient === "exact" ? transform.backward!(images, g.gradient) : gradient(images, g.gradient);
      return { loss: g.loss, gradient: back instanceof Float64Array || back instanceof Float32Array ? back : Float64Array.from(back) };
    },
    // Binary thresholding (at its default 0.5) attacked straight through: the kernels can run it.
    thresholded() {
      const dense = transform === binaryThreshold && gradient === "straight-through" ? model.dense?.() : null;
      return dense ? { dense, threshold: 0.5 } : null;
    },
  };
}
