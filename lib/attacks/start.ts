import type { Rng } from "../util/random";

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

/** Uniform draws are made a block at a time into this reused buffer (512 KB). */
const uniformBlock = new Float64Array(1 << 16);

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
    for (let p0 = 0; p0 < out.length; p0 += uniformBlock.length) {
      const m = Math.min(uniformBlock.length, out.length - p0);
      rng.fillUniform(uniformBlock.subarray(0, m));
      inLinfBall(clean, out, uniformBlock, eps, p0, m);
    }
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

/** out[p0 + q] = clean[p0 + q] + eps (2 u[q] - 1), clipped to [0, 1], for q < m (its own function: V8 optimizes the loop alone). */
function inLinfBall(clean: ArrayLike<number>, out: Float32Array | Float64Array, u: Float64Array, eps: number, p0: number, m: number): void {
  for (let q = 0; q < m; q++) {
    const x = clean[p0 + q] + eps * (2 * u[q] - 1);
    out[p0 + q] = x < 0 ? 0 : x > 1 ? 1 : x;
  }
}
