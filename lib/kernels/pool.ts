import { Worker } from "node:worker_threads";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { Arena } from "./arena";
import { createSharedMemory, instantiate, kernelModule, KernelExports } from "./wasm";
import {
  APPEND_THREAD, CONTROL_WORDS, DONE, FAILED, FN, Job, KERNEL_NAMES, MAX_ARGS, NARGS, SCRATCH_AT, SCRATCH_STRIDE, SEQ,
  SPLIT_AT, THREADS, threadArgs,
} from "./protocol";

/**
 * The kernel engine: one shared memory, the kernels instantiated on this thread, and T - 1
 * worker threads (unref'd, so they never keep a process alive). The calling thread is thread
 * 0 of every job and blocks until the workers finish; a job is one synchronous call.
 *
 *   const engine = kernelEngine();
 *   engine.run({ kernel: "attackRange", args: [...], splitAt: 4 });
 */
export class KernelEngine {
  readonly memory = createSharedMemory();
  readonly arena = new Arena(this.memory);
  readonly kernels: KernelExports;
  private readonly control = new Int32Array(new SharedArrayBuffer(CONTROL_WORDS * 4));
  private readonly args = new Float64Array(new SharedArrayBuffer(MAX_ARGS * 8));
  private workers: Worker[] = [];
  private threads = 1;
  /** Set while an asynchronous operation holds the engine between its chunks. */
  owner: string | null = null;

  constructor(threads: number) {
    this.kernels = instantiate(kernelModule(), this.memory);
    this.setThreads(threads);
  }

  get threadCount(): number {
    return this.threads;
  }

  /** Uses `n` threads from the next job on (starting or stopping workers). */
  setThreads(n: number): void {
    if (!Number.isInteger(n) || n < 1 || n > 64) throw new RangeError(`threads must be a whole number from 1 to 64, got ${n}`);
    while (this.workers.length > n - 1) void this.workers.pop()!.terminate();
    while (this.workers.length < n - 1) {
      const worker = new Worker(join(__dirname, "worker.js"), {
        workerData: {
          module: kernelModule(), memory: this.memory, control: this.control.buffer, args: this.args.buffer,
          t: this.workers.length + 1, seq: Atomics.load(this.control, SEQ),
        },
      });
      worker.unref();
      worker.on("error", (e) => { process.emitWarning(`kernel worker failed: ${e.message}`); });
      this.workers.push(worker);
    }
    this.threads = n;
  }

  /** Runs `job` on all threads and returns when every part is done. */
  run(job: Job): void {
    const T = this.threads;
    const fn = KERNEL_NAMES.indexOf(job.kernel);
    const splitAt = job.splitAt ?? -1, scratchAt = job.scratchAt ?? -1, stride = job.scratchStride ?? 0;
    const append = job.appendThread ?? false;
    if (T > 1) {
      const c = this.control;
      c[FN] = fn; c[NARGS] = job.args.length; c[SPLIT_AT] = splitAt; c[SCRATCH_AT] = scratchAt;
      c[SCRATCH_STRIDE] = stride; c[APPEND_THREAD] = append ? 1 : 0; c[THREADS] = T; c[FAILED] = 0;
      this.args.set(job.args);
      Atomics.store(c, DONE, 0);
      Atomics.add(c, SEQ, 1);
      Atomics.notify(c, SEQ);
    }
    const mine = threadArgs(job.args, job.args.length, splitAt, scratchAt, stride, append, 0, T);
    (this.kernels[job.kernel] as (...xs: number[]) => void).apply(this.kernels, mine);
    if (T > 1) {
      const c = this.control;
      let spins = 0;
      for (let done = Atomics.load(c, DONE); done < T - 1; done = Atomics.load(c, DONE)) {
        if (++spins > 2000) Atomics.wait(c, DONE, done, 1000);
      }
      if (c[FAILED]) throw new Error(`kernel ${job.kernel} failed on a worker thread`);
    }
  }
}

/** Threads used by default: ADVLAB_THREADS if set, else the cores available, at most 2. */
export function defaultThreads(): number {
  const env = process.env.ADVLAB_THREADS;
  if (env !== undefined && env !== "") {
    const n = Number(env);
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`ADVLAB_THREADS must be a whole number >= 1, got "${env}"`);
    return n;
  }
  return Math.max(1, Math.min(2, availableParallelism()));
}

let engine: KernelEngine | null = null;

/** The process's kernel engine, created on first use. */
export function kernelEngine(): KernelEngine {
  engine ??= new KernelEngine(defaultThreads());
  return engine;
}

/**
 * Sets how many threads the fast kernels use (1 = this thread only). Results do not depend
 * on it: each number is computed the same way whatever the split.
 *
 *   setThreads(1);  // e.g. to leave a core free
 */
export function setThreads(n: number): void {
  kernelEngine().setThreads(n);
}

/** How many threads the fast kernels use. */
export function getThreads(): number {
  return kernelEngine().threadCount;
}
