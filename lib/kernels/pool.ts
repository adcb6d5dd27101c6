import { Worker } from "node:worker_threads";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { Arena } from "./arena";
import { createSharedMemory, instantiate, kernelModule, KernelExports } from "./wasm";
import {
  APPEND_THREAD, CONTROL_WORDS, DONE, FAILED, FN, Job, KERNEL_NAMES, MAX_ARGS, NARGS, SCRATCH_AT, SCRATCH_STRIDE, SEQ,
  SPLIT_AT, THREADS, KernelName,
} from "./protocol";

/**
 * The kernel engine: one shared memory and T worker threads (unref'd, so they never keep a
 * process alive) that run every job; this thread only posts jobs and collects them, so it is
 * free meanwhile (to draw the next chunk's random numbers, or to serve the event loop while an
 * asynchronous call awaits). One job runs at a time.
 *
 *   const engine = kernelEngine();
 *   engine.run({ kernel: "descendRange", args: [...], splitAt: 2 });  // start + finish
 */
export class KernelEngine {
  readonly memory = createSharedMemory();
  readonly arena = new Arena(this.memory);
  /** The kernels instantiated on this thread (for helpers such as groupScratchBytes). */
  readonly kernels: KernelExports;
  private readonly control = new Int32Array(new SharedArrayBuffer(CONTROL_WORDS * 4));
  private readonly args = new Float64Array(new SharedArrayBuffer(MAX_ARGS * 8));
  private workers: Worker[] = [];
  private threads = 1;
  private running: KernelName | null = null;
  /** Computations under way (their memory is sized for the current thread count). */
  private active = 0;
  /** Asynchronous callers queue here, so that their chunks never interleave. */
  private queue: Promise<void> = Promise.resolve();

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
    if (this.active > 0) throw new Error("setThreads: a fast computation is under way; await it first");
    while (this.workers.length > n) void this.workers.pop()!.terminate();
    while (this.workers.length < n) {
      const worker = new Worker(join(__dirname, "worker.js"), {
        workerData: {
          module: kernelModule(), memory: this.memory, control: this.control.buffer, args: this.args.buffer,
          t: this.workers.length, seq: Atomics.load(this.control, SEQ),
        },
      });
      worker.unref();
      worker.on("error", (e) => { process.emitWarning(`kernel worker failed: ${e.message}`); });
      this.workers.push(worker);
    }
    this.threads = n;
  }

  /** Posts `job` to the workers and returns at once; `finish` or `finishAsync` collects it. */
  start(job: Job): void {
    if (this.running) {
      throw new Error(`the fast kernels are busy with a ${this.running} job from an asynchronous call; await that call first`);
    }
    const c = this.control;
    c[FN] = KERNEL_NAMES.indexOf(job.kernel);
    c[NARGS] = job.args.length;
    c[SPLIT_AT] = job.splitAt ?? -1;
    c[SCRATCH_AT] = job.scratchAt ?? -1;
    c[SCRATCH_STRIDE] = job.scratchStride ?? 0;
    c[APPEND_THREAD] = job.appendThread ? 1 : 0;
    c[THREADS] = this.threads;
    c[FAILED] = 0;
    this.args.set(job.args);
    Atomics.store(c, DONE, 0);
    this.running = job.kernel;
    Atomics.add(c, SEQ, 1);
    Atomics.notify(c, SEQ);
  }

  /** Blocks until the running job is done (spinning briefly, then sleeping). */
  finish(): void {
    const c = this.control;
    let spins = 0;
    for (let done = Atomics.load(c, DONE); done < this.threads; done = Atomics.load(c, DONE)) {
      if (++spins > 1000) Atomics.wait(c, DONE, done, 100);
    }
    this.collect();
  }

  /** Resolves when the running job is done, leaving the event loop free meanwhile. */
  async finishAsync(): Promise<void> {
    const c = this.control;
    for (let done = Atomics.load(c, DONE); done < this.threads; done = Atomics.load(c, DONE)) {
      const wait = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number, t: number): { async: boolean; value: Promise<string> | string } })
        .waitAsync(c, DONE, done, 100);
      if (wait.async) await wait.value;
    }
    this.collect();
  }

  /** Marks a computation as under way (until `end`): the thread count stays fixed meanwhile. */
  begin(): void {
    this.active++;
  }

  end(): void {
    this.active--;
  }

  /** Waits for a running job, if any (before freeing memory it may be using). */
  settle(): void {
    if (this.running) this.finish();
  }

  /** Runs `job` to the end. */
  run(job: Job): void {
    this.start(job);
    this.finish();
  }

  /** Runs `task` after every asynchronous task queued before it. */
  exclusive<T>(task: () => Promise<T>): Promise<T> {
    const result = this.queue.then(task);
    this.queue = result.then(() => undefined, () => undefined);
    return result;
  }

  private collect(): void {
    const kernel = this.running;
    this.running = null;
    if (this.control[FAILED]) throw new Error(`kernel ${kernel} failed on a worker thread`);
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
