/**
 * A kernel worker: instantiates the kernels over the shared memory, then forever waits for
 * the control sequence number to move, runs its part of the job and counts itself done.
 */
import { workerData } from "node:worker_threads";
import { instantiate, KernelExports, WasmMemory, WasmModule } from "./wasm";
import {
  APPEND_THREAD, DONE, FAILED, FN, KERNEL_NAMES, NARGS, SCRATCH_AT, SCRATCH_STRIDE, SEQ, SPLIT_AT, THREADS, threadArgs,
} from "./protocol";

interface WorkerInit {
  module: WasmModule;
  memory: WasmMemory;
  control: SharedArrayBuffer;
  args: SharedArrayBuffer;
  t: number;
  seq: number;
}

const init = workerData as WorkerInit;
const kernels = instantiate(init.module, init.memory);
const control = new Int32Array(init.control);
const args = new Float64Array(init.args);

let seen = init.seq;
for (;;) {
  Atomics.wait(control, SEQ, seen);
  const seq = Atomics.load(control, SEQ);
  if (seq === seen) continue;
  seen = seq;
  const T = control[THREADS];
  if (init.t < T) {
    try {
      const a = threadArgs(args, control[NARGS], control[SPLIT_AT], control[SCRATCH_AT], control[SCRATCH_STRIDE],
        control[APPEND_THREAD] === 1, init.t, T);
      const fn = kernels[KERNEL_NAMES[control[FN]]] as (...xs: number[]) => void;
      fn.apply(kernels as KernelExports, a);
    } catch {
      Atomics.store(control, FAILED, 1);
    }
    Atomics.add(control, DONE, 1);
    Atomics.notify(control, DONE);
  }
}
