/**
 * A kernel worker: instantiates the kernels (WebAssembly or native) over the shared memory, then forever waits for
 * the control sequence number to move, runs its part of the job and counts itself done.
 */
import { workerData } from "node:worker_threads";
import { readlinkSync } from "node:fs";
import { instantiate, KernelExports, WasmMemory, WasmModule } from "./wasm";
import { nativeKernels } from "./native";
import type { KernelKind } from "./pool";
import {
  APPEND_THREAD, DONE, FAILED, FAILURE_BYTES, FN, HEALTH_WORDS, KERNEL_NAMES, NARGS, NEXT, PROBE_FN, SLICE, SCRATCH_AT, SCRATCH_STRIDE, SEQ, SPLIT_AT,
  THREADS, threadArgs,
} from "./protocol";

interface WorkerInit {
  kind: KernelKind;
  /** The compiled WebAssembly module (wasm kernels only). */
  module: WasmModule | null;
  memory: WasmMemory;
  control: SharedArrayBuffer;
  args: SharedArrayBuffer;
  health: SharedArrayBuffer;
  timing: SharedArrayBuffer;
  probeBarrier: SharedArrayBuffer;
  failure: SharedArrayBuffer;
  t: number;
  seq: number;
}

const init = workerData as WorkerInit;
const health = new Int32Array(init.health);

// The engine watches these words while it waits: a worker that is gone fails the job instead
// of leaving it waiting forever. The exit handler covers throws and process.exit(); the thread
// id (Linux) lets the engine see a thread that vanished without running it (terminate()).
process.on("exit", (code) => {
  Atomics.store(health, HEALTH_WORDS * init.t + 1, code + 1);
  Atomics.notify(new Int32Array(init.control), DONE);
});
try {
  Atomics.store(health, HEALTH_WORDS * init.t, Number(readlinkSync("/proc/thread-self").split("/").pop()) || 0);
} catch {
  // not Linux: the exit handler and the 'exit' event remain
}

const kernels = init.kind === "native" ? nativeKernels(init.memory) : instantiate(init.module!, init.memory);
const control = new Int32Array(init.control);
const args = new Float64Array(init.args);
const timing = new Float64Array(init.timing);

const bar = new Int32Array(init.probeBarrier);
const failure = new Uint8Array(init.failure);

/** Plain arithmetic: `iterations` steps of a linear congruential generator. */
function spin(iterations: number): number {
  let x = 1;
  for (let i = 0; i < iterations; i++) x = (Math.imul(x, 1103515245) + 12345) | 0;
  return x;
}

/** All T threads meet (count, generation), as the kernels' barrier does: spin, then sleep. */
function meet(T: number, spins: number): void {
  const gen = Atomics.load(bar, 1);
  if (Atomics.add(bar, 0, 1) === T - 1) {
    Atomics.store(bar, 0, 0);
    Atomics.add(bar, 1, 1);
    Atomics.notify(bar, 1);
    return;
  }
  for (let k = 0; Atomics.load(bar, 1) === gen; k++) if (k > spins) Atomics.wait(bar, 1, gen);
}

/**
 * The engine's load probe: `rounds` times, this thread's share of `work` iterations, then all
 * threads meet (with the kernels' spin limit) - the shape of an sgd epoch. Writes the time.
 * Past `deadline` ms (0: none) thread 0 names the round to stop after; each thread reads it
 * after meeting and stops once it is at that round, so all stop together. (A plain "stop"
 * flag would not do: a thread slow to read it after one meeting could see it raised during the
 * next round and leave while the others wait for it at the next meeting.)
 */
function probe(rounds: number, work: number, spins: number, deadline: number, t: number, T: number): void {
  const start = performance.now();
  let x = 0;
  for (let r = 0; r < rounds; r++) {
    x ^= spin(Math.floor((work * (t + 1)) / T) - Math.floor((work * t) / T));
    if (t === 0 && deadline > 0 && Atomics.load(bar, 2) === 0 && performance.now() - start > deadline) Atomics.store(bar, 2, r + 1);
    if (T > 1) meet(T, spins);
    const stop = Atomics.load(bar, 2);
    if (stop !== 0 && r >= stop - 1) break;
  }
  timing[t] = x === 0.5 ? -1 : performance.now() - start; // uses x, so the loop is not optimised away
}
spin(200_000); // compiled before it is timed

let seen = init.seq;
for (;;) {
  Atomics.wait(control, SEQ, seen);
  const seq = Atomics.load(control, SEQ);
  if (seq === seen) continue;
  seen = seq;
  const T = control[THREADS];
  if (init.t < T) {
    try {
      if (control[FN] === PROBE_FN) {
        probe(args[0], args[1], args[2], args[3], init.t, T);
      } else {
        const a = threadArgs(args, control[NARGS], control[SPLIT_AT], control[SCRATCH_AT], control[SCRATCH_STRIDE],
          control[APPEND_THREAD] === 1, init.t, T);
        const fn = kernels[KERNEL_NAMES[control[FN]]] as (...xs: number[]) => void;
        const slice = control[SLICE], at = control[SPLIT_AT];
        if (slice > 0) {
          // Claim slices of the whole range until it is used up (the other threads do the same).
          const start = args[at], end = args[at + 1];
          for (let from = start + Atomics.add(control, NEXT, slice); from < end; from = start + Atomics.add(control, NEXT, slice)) {
            a[at] = from;
            a[at + 1] = Math.min(from + slice, end);
            fn.apply(kernels as KernelExports, a);
          }
        } else {
          fn.apply(kernels as KernelExports, a);
        }
      }
    } catch (e) {
      // The first failure of a job leaves its message for the engine's error.
      if (Atomics.compareExchange(control, FAILED, 0, 1) === 0) {
        const bytes = new TextEncoder().encode(String((e as Error)?.message ?? e)).subarray(0, FAILURE_BYTES);
        failure.set(bytes);
        new DataView(failure.buffer).setUint32(FAILURE_BYTES, bytes.length, true);
      }
    }
    Atomics.add(control, DONE, 1);
    Atomics.notify(control, DONE);
  }
}
