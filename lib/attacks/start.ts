import type { Rng } from "../util/random";
import { fillUniformLinfStarts } from "../model/starts";

/**
 * Where the attack loop starts, drawn in this one place (the article's noise, the fast
 * augmentation, FGSM-RS and PGD all come here):
 * - "noise": every pixel N(0.5, 0.3), unclipped: the article's start;
 * - "clean": the clean image itself;
 * - "uniform": the clean image plus uniform noise in the eps-ball of the attack's norm
 *   (L-inf: each pixel U(-eps, eps); L2: a uniformly random point of the L2 ball), clipped to [0, 1].
 */
export type StartName = "noise" | "clean" | "uniform";

/** Mean and standard deviation of the article's random starting image: N(0.5, 0.3) per pixel. */
export const START_MEAN = 0.5;
export const START_SD = 0.3;

/**
 * Fills `out` (n x d) with starting images for the clean images `clean` (n x d), drawing from
 * `rng` image after image, pixel after pixel.
 */
export function drawStarts(
  kind: StartName, rng: Rng, clean: ArrayLike<number>, out: Float32Array | Float64Array, d: number, eps = 0, norm: "linf" | "l2" = "linf",
): void {
  const n = out.length / d;
  if (kind === "noise") {
    rng.fillNormal(out, START_MEAN, START_SD);
  } else if (kind === "clean") {
    for (let p = 0; p < out.length; p++) out[p] = clean[p];
  } else if (norm === "linf") {
    fillUniformLinfStarts({ kind: "uniform-linf", state: rng.claimUniforms(out.length), eps }, 0, clean, out, d);
  } else {
    // A uniform point of the d-dimensional L2 ball: a Gaussian direction, radius eps * U^(1/d).
    const dir = new Float64Array(d);
    for (let i = 0; i < n; i++) {
      rng.fillNormal(dir);
      let s = 0;
      for (let p = 0; p < d; p++) s += dir[p] * dir[p];
      const r = (eps * Math.pow(rng.uniform(), 1 / d)) / Math.sqrt(s || 1);
      for (let p = 0; p < d; p++) out[i * d + p] = Math.min(1, Math.max(0, clean[i * d + p] + r * dir[p]));
    }
  }
}
