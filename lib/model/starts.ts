import { LCG_EPS, lcgJump, lcgNext } from "../util/random";
import type { DescentProgram } from "./backend";

/**
 * Uniform starts in the L-inf ball, drawn where the images are (see DescentProgram.starts):
 * pixel p of image i is clip(origins_i[p] + eps (2u - 1), 0, 1), u the uniform number i d + p of
 * the seeded LCG stream from `state` (util/random.ts). Each pixel takes exactly one uniform, so
 * any range of images can be drawn alone, in any order: the kernels draw their own ranges on
 * every thread, bit for bit as `fillUniformLinfStarts` below.
 */
export interface UniformLinfStarts {
  kind: "uniform-linf";
  /** The LCG state (an int32) before image 0's first uniform. */
  state: number;
  /** The ball's radius (>= 0), in double precision. */
  eps: number;
}

/**
 * Writes images [i0, i0 + m) of `starts` into `out` (m x d numbers), `origins` holding those m
 * images' centres (m x d). The formula the kernels follow (assembly/kernels.ts, native/addon.cc).
 */
export function fillUniformLinfStarts(
  starts: UniformLinfStarts, i0: number, origins: ArrayLike<number>, out: Float32Array | Float64Array, d: number,
): void {
  let st = lcgJump(starts.state, i0 * d);
  const eps = starts.eps, unit = LCG_EPS;
  for (let p = 0; p < out.length; p++) {
    st = lcgNext(st);
    const x = origins[p] + eps * (2 * (unit * (st >>> 0)) - 1);
    // Math.min(1, Math.max(0, x)) for a finite x, -0 included (it becomes +0).
    out[p] = x > 0 ? (x < 1 ? x : 1) : 0;
  }
}

/** The ball's centres that uniform starts are drawn around, or an error saying there are none. */
export function originsOf(program: DescentProgram): Float32Array {
  if (!program.origins) throw new RangeError("uniform starts in the L-inf ball need the ball's centres (origins), and the program has none");
  return program.origins;
}
