/**
 * The job protocol between the main thread and the kernel workers: one Int32Array of control
 * words and one Float64Array of arguments, both over SharedArrayBuffers.
 *
 * A job calls one kernel on every worker thread t = 0 .. T-1 with the
 * same arguments, except that a range argument pair is cut into T contiguous parts
 * (`splitAt`), a scratch pointer is offset by t * stride (`scratchAt`), and (t, T) may be
 * appended. The parts are fixed by T alone, and every kernel computes each number the same
 * way whichever part it falls in.
 */
export const KERNEL_NAMES = ["feedforwardRange", "sgdRange", "gradientRange", "descendRange"] as const;
export type KernelName = (typeof KERNEL_NAMES)[number];

/** Control word indices. */
export const SEQ = 0;        // bumped once per job; workers wait on it
export const DONE = 1;       // workers that finished the current job
export const FN = 2;         // index into KERNEL_NAMES
export const NARGS = 3;
export const SPLIT_AT = 4;   // index of the range start in args, or -1
export const SCRATCH_AT = 5; // index of the scratch pointer in args, or -1
export const SCRATCH_STRIDE = 6;
export const APPEND_THREAD = 7;
export const THREADS = 8;    // T of the current job
export const FAILED = 9;     // a worker's kernel threw
export const SLICE = 10;     // > 0: threads claim the split range this many at a time (0: fixed parts)
export const NEXT = 11;      // the next unclaimed offset of a sliced range (atomic)
export const CONTROL_WORDS = 16;
/** Room for the first failing worker's error message (UTF-8 bytes; its length follows as a u32). */
export const FAILURE_BYTES = 1024;
export const MAX_ARGS = 16;

/** FN of a job that runs no kernel: each thread times a fixed loop (the engine's load probe). */
export const PROBE_FN = -2;

/** The cancel word lives in the kernels' shared memory; its address and contract: layout.ts CANCEL_FLAG. */
export { CANCEL_FLAG as CANCEL_AT } from "./layout";

/**
 * Per-worker health words (a separate SharedArrayBuffer, 2 words a worker): [2t] the worker's
 * Linux thread id (0 if unknown), [2t + 1] its exit code + 1 once it exits (0 while alive).
 */
export const HEALTH_WORDS = 2;

export interface Job {
  kernel: KernelName;
  args: number[];
  splitAt?: number;
  scratchAt?: number;
  scratchStride?: number;
  appendThread?: boolean;
  /**
   * With `splitAt`: instead of fixed parts, each thread claims `slice` units of the range at a
   * time until none are left, so a thread slowed by the main thread or a busy core does less of
   * the work. Only for kernels whose every unit is computed alone (the same bits whichever thread
   * takes it, in whatever order).
   */
  slice?: number;
}

/** The arguments thread t of T passes to the kernel. */
export function threadArgs(args: ArrayLike<number>, nargs: number, splitAt: number, scratchAt: number, stride: number,
  appendThread: boolean, t: number, T: number): number[] {
  const out = Array.from({ length: nargs }, (_, k) => args[k]);
  if (splitAt >= 0) {
    const i0 = out[splitAt], n = out[splitAt + 1] - i0;
    out[splitAt] = i0 + Math.floor((n * t) / T);
    out[splitAt + 1] = i0 + Math.floor((n * (t + 1)) / T);
  }
  if (scratchAt >= 0) out[scratchAt] += t * stride;
  if (appendThread) out.push(t, T);
  return out;
}
