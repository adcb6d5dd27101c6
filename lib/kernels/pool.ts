import { Worker } from "node:worker_threads";
import { availableParallelism } from "node:os";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { Arena } from "./arena";
import { createSharedMemory, instantiate, kernelModule, KernelExports } from "./wasm";
import { nativeKernels } from "./native";
import { backendName } from "../model/backends";
import {
  APPEND_THREAD, CANCEL_AT, CONTROL_WORDS, DONE, FAILED, FAILURE_BYTES, FN, NEXT, SLICE, HEALTH_WORDS, Job, KERNEL_NAMES, MAX_ARGS, NARGS, PROBE_FN,
  SCRATCH_AT, SCRATCH_STRIDE, SEQ, SPLIT_AT, THREADS, KernelName,
} from "./protocol";
import { Pending, registerHost, runSync, WorkHost } from "../util/work";

/** Most threads the engine runs (setThreads, ADVLAB_THREADS). */
export const MAX_THREADS = 64;

/** Which compiled kernels an engine runs: the WebAssembly module or the native one (native.ts). */
export type KernelKind = "wasm" | "native";
/** Checks of the done count before this thread sleeps on it. */
const SPINS = 1000;
/** How long one sleep of a waiting thread lasts before it looks at the workers' health (ms). */
const WAIT_SLICE_MS = 100;
/**
 * The load probe (default thread count only). Threads that meet often (sgd meets twice per
 * mini-batch) only gain when every one of them has a core: on a machine where other processes
 * keep cores busy they wait for each other and run slower than one thread. So every
 * PROBE_EVERY_MS of long computations, the engine times work shaped like an sgd epoch
 * (PROBE_ROUNDS rounds of ~PROBE_ROUND_US of arithmetic, then a barrier with the kernels' spin
 * limit) on one worker and split across all of them, and runs jobs on one thread unless all of
 * them finish in at most PROBE_GAIN of one thread's time. Results are the same bits either way.
 */
const PROBE_EVERY_MS = 10_000;
const PROBE_ROUNDS = 300;
const PROBE_ROUND_US = 25;
const PROBE_GAIN = 0.85;
/** The barrier spin limit the probe copies (train-fast.ts passes the same to the sgd kernel). */
const PROBE_SPINS = 50_000;

/** True where a thread's /proc entry tells whether it still runs (Linux). */
const PROC_TASKS = existsSync("/proc/self/task");

/**
 * The kernel engine: one shared memory and T worker threads running one kind of kernels (unref'd, so they never keep a
 * process alive) that run every job; this thread only posts jobs and collects them, so it is
 * free meanwhile (to draw the next chunk's random numbers, or to serve the event loop while an
 * asynchronous call awaits). One job runs at a time.
 *
 *   const engine = kernelEngine();
 *   engine.run({ kernel: "descendRange", args: [...], splitAt: 2 });  // start + finish
 */
export class KernelEngine implements WorkHost {
  readonly memory = createSharedMemory();
  readonly arena = new Arena(this.memory);
  /** The kernels instantiated on this thread (for helpers such as groupScratchBytes). */
  readonly kernels: KernelExports;
  readonly cancelWord = { buffer: this.memory.buffer as SharedArrayBuffer, index: CANCEL_AT / 4 };
  /** The running job, as the work drivers collect it. */
  readonly pending: Pending = { finish: () => this.finish(), finishAsync: () => this.finishAsync() };
  private readonly control = new Int32Array(new SharedArrayBuffer(CONTROL_WORDS * 4));
  private readonly args = new Float64Array(new SharedArrayBuffer(MAX_ARGS * 8));
  private readonly timing = new Float64Array(new SharedArrayBuffer(MAX_THREADS * 8));
  private readonly probeBarrier = new Int32Array(new SharedArrayBuffer(12));
  /** The first failing worker's error message (UTF-8, FAILURE_BYTES at most) and its length. */
  private readonly failure = new Uint8Array(new SharedArrayBuffer(FAILURE_BYTES + 4));
  private health = new Int32Array(new SharedArrayBuffer(MAX_THREADS * HEALTH_WORDS * 4));
  private workers: Worker[] = [];
  /** Threads asked for (setThreads / ADVLAB_THREADS); false: the default, which may drop to 1 on a loaded machine. */
  private fixed: boolean;
  private running: KernelName | "probe" | null = null;
  /** Threads of the running (or last) job. */
  private jobThreads = 0;
  /** Jobs posted so far (an awaited job that someone else collected is not collected twice). */
  private jobSeq = 0;
  /** Why a worker is gone, as its 'exit' or 'error' event told. */
  private lost: string | null = null;
  /** Computations under way (their memory is sized for the current thread count). */
  private active = 0;
  /** What the outermost run under way found (regions in use, computations): given back if it fails. */
  private mark: { regions: Set<number>; active: number } | null = null;
  private probedAt = -Infinity;
  private probeIterations = 0;
  private loaded = false;

  constructor(readonly kind: KernelKind, threads: number, options: { fixed?: boolean } = {}) {
    this.kernels = kind === "native" ? nativeKernels(this.memory) : instantiate(kernelModule(), this.memory);
    this.fixed = options.fixed ?? true;
    this.resize(checkThreads(threads, "threads"));
    registerHost(this);
  }

  /** Worker threads the engine has (a job may use fewer: see `lastJobThreads`). */
  get threadCount(): number {
    return this.workers.length;
  }

  /** Threads the last job ran on. */
  get lastJobThreads(): number {
    return this.jobThreads;
  }

  /** Whether the last load probe found that the threads gain too little to use more than one (default thread count only). */
  get machineLoaded(): boolean {
    return this.loaded;
  }

  /** Uses `n` threads from the next job on (starting or stopping workers); "auto": the default. */
  setThreads(n: number | "auto"): void {
    const setting = n === "auto" ? defaultThreadSetting() : { threads: checkThreads(n, "threads"), fixed: true };
    if (this.active > 0 || this.running) throw new Error("setThreads: a fast computation is under way; await it first");
    this.fixed = setting.fixed;
    this.probedAt = -Infinity;
    this.loaded = false;
    this.resize(setting.threads);
  }

  private resize(n: number): void {
    while (this.workers.length > n) this.retire(this.workers.pop()!);
    while (this.workers.length < n) this.spawn();
  }

  private spawn(): void {
    const t = this.workers.length;
    this.health[HEALTH_WORDS * t] = 0;
    this.health[HEALTH_WORDS * t + 1] = 0;
    const tasks = () => (PROC_TASKS ? readdirSync("/proc/self/task") : []);
    const before = new Set(tasks());
    const script = join(__dirname, "worker.js");
    // Run from the TypeScript sources (not dist/), the workers' script is not there and the
    // thread would die before it could say why.
    if (!existsSync(script)) throw new Error(`${script} is missing: the kernels run from the compiled build; import the library from dist/ (\`npm run build\`)`);
    const worker = new Worker(script, {
      workerData: {
        kind: this.kind, module: this.kind === "wasm" ? kernelModule() : null, memory: this.memory, control: this.control.buffer, args: this.args.buffer,
        health: this.health.buffer, timing: this.timing.buffer, probeBarrier: this.probeBarrier.buffer, failure: this.failure.buffer, t, seq: Atomics.load(this.control, SEQ),
      },
    });
    // The new thread's id, known before it runs any code (it may be lost before it could tell
    // its own); the worker writes the same id again once it starts.
    const born = tasks().filter((id) => !before.has(id));
    if (born.length === 1) Atomics.compareExchange(this.health, HEALTH_WORDS * t, 0, Number(born[0]));
    worker.unref();
    worker.on("error", (e) => {
      if (!this.workers.includes(worker)) return;
      this.lost ??= `kernel worker ${t} failed: ${e.message}`;
      Atomics.notify(this.control, DONE);
    });
    worker.on("exit", (code) => {
      if (!this.workers.includes(worker)) return;
      this.lost ??= `kernel worker ${t} exited (code ${code})`;
      Atomics.notify(this.control, DONE);
    });
    this.workers.push(worker);
  }

  private retire(worker: Worker): void {
    worker.removeAllListeners("exit");
    worker.removeAllListeners("error");
    worker.on("error", () => undefined);
    void worker.terminate();
  }

  /**
   * Why a worker is gone, or null while all of them run. `thorough` also asks /proc whether each
   * thread still exists (a few microseconds a worker: done while waiting, not before each job).
   */
  private deadWorker(thorough: boolean): string | null {
    if (this.lost) return this.lost;
    for (let t = 0; t < this.workers.length; t++) {
      const exit = Atomics.load(this.health, HEALTH_WORDS * t + 1);
      if (exit) return `kernel worker ${t} exited (code ${exit - 1})`;
      const tid = Atomics.load(this.health, HEALTH_WORDS * t);
      if (thorough && tid && PROC_TASKS && !existsSync(`/proc/self/task/${tid}`)) return `kernel worker ${t} (thread ${tid}) stopped`;
    }
    return null;
  }

  /**
   * Replaces every worker (a lost one left the others waiting for it, e.g. at a barrier), and
   * waits until the old threads are gone (up to 2 s), so none still writes into memory that is
   * about to be freed.
   */
  private restartWorkers(): void {
    const n = this.workers.length;
    const tids = Array.from({ length: n }, (_, t) => Atomics.load(this.health, HEALTH_WORDS * t));
    // A thread inside native code outlives terminate() until the kernel returns; the cancel word
    // makes one that waits at an sgd barrier for the lost thread return (the next computation clears it).
    Atomics.store(new Int32Array(this.cancelWord.buffer), this.cancelWord.index, 1);
    this.workers.splice(0).forEach((w) => this.retire(w));
    if (PROC_TASKS) {
      const nap = new Int32Array(new SharedArrayBuffer(4));
      const until = performance.now() + 2000;
      while (tids.some((tid) => tid && existsSync(`/proc/self/task/${tid}`)) && performance.now() < until) Atomics.wait(nap, 0, 0, 5);
    }
    this.health = new Int32Array(new SharedArrayBuffer(MAX_THREADS * HEALTH_WORDS * 4));
    this.lost = null;
    this.running = null;
    this.resize(n);
  }

  /** Posts `job` to the workers and returns at once; the returned `Pending` collects it. */
  start(job: Job): Pending {
    if (this.running) {
      throw new Error(`the fast kernels are busy with a ${this.running} job from an asynchronous call; await that call first`);
    }
    const why = this.deadWorker(false);
    if (why) {
      process.emitWarning(`${why}; the kernel engine restarted its workers`);
      this.restartWorkers();
    }
    const threads = this.threadsForJob(job.kernel);
    // Marked running before it is posted: if this thread's execution is cut short in between
    // (vm's SIGINT or timeout), the recovery still waits for the job rather than overlooking it.
    this.running = job.kernel;
    this.post(KERNEL_NAMES.indexOf(job.kernel), threads, job);
    return this.pending;
  }

  private post(fn: number, threads: number, job: Omit<Job, "kernel">): void {
    const c = this.control;
    c[FN] = fn;
    c[NARGS] = job.args.length;
    c[SPLIT_AT] = job.splitAt ?? -1;
    c[SCRATCH_AT] = job.scratchAt ?? -1;
    c[SCRATCH_STRIDE] = job.scratchStride ?? 0;
    c[APPEND_THREAD] = job.appendThread ? 1 : 0;
    c[THREADS] = threads;
    c[FAILED] = 0;
    c[SLICE] = job.splitAt !== undefined && job.splitAt >= 0 ? Math.max(0, Math.floor(job.slice ?? 0)) : 0;
    Atomics.store(c, NEXT, 0);
    this.args.set(job.args);
    this.jobThreads = threads;
    this.jobSeq++;
    Atomics.store(c, DONE, 0);
    Atomics.add(c, SEQ, 1);
    Atomics.notify(c, SEQ);
  }

  /**
   * Blocks until the running job is done (spinning briefly, then sleeping in slices that look at
   * the workers' health). Meanwhile SIGINT reaches the work driver through its watcher thread.
   */
  finish(): void {
    const c = this.control;
    let spins = 0;
    for (let done = Atomics.load(c, DONE); done < this.jobThreads; done = Atomics.load(c, DONE)) {
      if (++spins <= SPINS) continue;
      Atomics.wait(c, DONE, done, WAIT_SLICE_MS);
      if (Atomics.load(c, DONE) === done) this.failIfWorkerLost();
    }
    this.collect();
  }

  /** Resolves when the running job is done, leaving the event loop free meanwhile. */
  async finishAsync(): Promise<void> {
    const c = this.control;
    const job = this.jobSeq;
    for (let done = Atomics.load(c, DONE); done < this.jobThreads; done = Atomics.load(c, DONE)) {
      const wait = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number, t: number): { async: boolean; value: Promise<string> | string } })
        .waitAsync(c, DONE, done, WAIT_SLICE_MS);
      if (wait.async) await wait.value;
      // Collected meanwhile by a synchronous caller that stopped this (interrupted) run.
      if (this.jobSeq !== job || !this.running) return;
      if (Atomics.load(c, DONE) === done) this.failIfWorkerLost();
    }
    if (this.jobSeq !== job || !this.running) return;
    this.collect();
  }

  private failIfWorkerLost(): void {
    const why = this.deadWorker(true);
    if (!why) return;
    const kernel = this.running;
    this.restartWorkers();
    throw new Error(`${why} during a ${kernel} job; the kernel engine restarted its workers, so the next call can run`);
  }

  /** Marks a computation as under way (until `end`): the thread count stays fixed meanwhile. */
  begin(): void {
    this.active++;
  }

  end(): void {
    if (this.active > 0) this.active--;
  }

  /** Waits for a running job, if any (before freeing memory it may be using). Never throws. */
  settle(): void {
    if (!this.running) return;
    try {
      this.finish();
    } catch {
      // the error that brought the caller here matters more
    }
  }

  /** Runs `job` to the end (a synchronous call: refused while an asynchronous one is under way). */
  run(job: Job): void {
    const engine = this;
    runSync((function* jobWork() {
      yield engine.start(job);
    })());
  }

  // WorkHost: the drivers tell the engine when runs start and end.

  runStarted(): void {
    this.mark = { regions: new Set(this.arena.regionStarts()), active: this.active };
  }

  runEnded(failed: boolean): void {
    const mark = this.mark;
    this.mark = null;
    if (!failed || !mark) return;
    this.stop();
    // Whatever the failed run took and did not give back (e.g. an allocation that failed
    // half-way through a set of them) is freed here.
    for (const start of this.arena.regionStarts()) if (!mark.regions.has(start)) this.arena.free(start);
    this.active = mark.active;
  }

  stop(): void {
    if (!this.running) return;
    Atomics.store(new Int32Array(this.cancelWord.buffer), this.cancelWord.index, 1);
    this.settle();
  }

  private collect(): void {
    const kernel = this.running;
    this.running = null;
    if (this.control[FAILED]) {
      const length = new DataView(this.failure.buffer).getUint32(FAILURE_BYTES, true);
      const why = new TextDecoder().decode(this.failure.slice(0, Math.min(length, FAILURE_BYTES)));
      throw new Error(`kernel ${kernel} failed on a worker thread${why ? `: ${why}` : ""}`);
    }
  }

  /**
   * Threads for the next job: all of them, or 1 for sgd when the default finds the machine loaded.
   * Only sgd's threads meet (twice per mini-batch), so only sgd can run slower on all threads than
   * on one; the other kernels split the images and never wait for each other, and on an idle
   * machine the probe (short rounds between barriers) was measured to see too little gain from a
   * second thread, which halved the attacks' speed for nothing.
   */
  private threadsForJob(kernel: KernelName): number {
    const T = this.workers.length;
    if (this.fixed || T === 1 || kernel !== "sgdRange") return T;
    if (this.active > 0 && performance.now() - this.probedAt > PROBE_EVERY_MS) this.probe();
    return this.loaded ? 1 : T;
  }

  /** Times sgd-shaped work on one worker (the faster of two tries) and split across all. */
  private probe(): void {
    this.probedAt = performance.now();
    const T = this.workers.length;
    if (this.probeIterations === 0) {
      // Iterations per round, from the fastest of a few short trials (a slow one was descheduled).
      const trial = 300_000;
      let ms = Infinity;
      for (let k = 0; k < 5; k++) ms = Math.min(ms, this.probeRun(1, 1, trial));
      this.probeIterations = Math.max(1000, Math.round((trial * PROBE_ROUND_US) / (1000 * Math.max(ms, 0.01))));
    }
    const one = Math.min(this.probeRun(1, PROBE_ROUNDS, this.probeIterations), this.probeRun(1, PROBE_ROUNDS, this.probeIterations));
    // All threads get three tries, each stopped once it can no longer gain enough, after a short
    // warm-up: the first rounds after a long kernel job were measured slow on an idle machine
    // (a second core waking up), which alone made the probe call it loaded.
    const deadline = one * PROBE_GAIN;
    this.probeRun(T, PROBE_ROUNDS, this.probeIterations);
    this.loaded = [0, 1, 2].every(() => this.probeRun(T, PROBE_ROUNDS, this.probeIterations, deadline) > deadline);
  }

  /** Milliseconds of one probe job on `threads` workers, as the slowest of them timed it (a worker's start-up not included). */
  private probeRun(threads: number, rounds: number, iterations: number, deadline = 0): number {
    this.probeBarrier.fill(0);
    this.running = "probe";
    this.post(PROBE_FN, threads, { args: [rounds, iterations, PROBE_SPINS, deadline] });
    this.finish();
    let slowest = 0;
    for (let t = 0; t < threads; t++) slowest = Math.max(slowest, this.timing[t]);
    return slowest;
  }
}

function checkThreads(n: number, name: string): number {
  if (!Number.isInteger(n) || n < 1 || n > MAX_THREADS) {
    throw new RangeError(`${name} must be a whole number from 1 to ${MAX_THREADS}, got ${typeof n === "string" ? JSON.stringify(n) : n}`);
  }
  return n;
}

/**
 * Threads used by default: ADVLAB_THREADS if set (a whole number from 1 to 64, used as given),
 * else the cores available, at most 2, dropping to 1 while other processes keep cores busy.
 */
export function defaultThreadSetting(): { threads: number; fixed: boolean } {
  const env = process.env.ADVLAB_THREADS;
  if (env !== undefined && env !== "") {
    const n = /^\s*\d+\s*$/.test(env) ? Number(env) : NaN;
    if (!Number.isInteger(n) || n < 1 || n > MAX_THREADS) {
      throw new RangeError(`ADVLAB_THREADS must be a whole number from 1 to ${MAX_THREADS}, got "${env}"`);
    }
    return { threads: n, fixed: true };
  }
  return { threads: Math.max(1, Math.min(2, availableParallelism())), fixed: false };
}

/** Threads used by default (see `defaultThreadSetting`). */
export function defaultThreads(): number {
  return defaultThreadSetting().threads;
}

const engines = new Map<KernelKind, KernelEngine>();
/** The thread setting every engine takes (setThreads), or null for the default. */
let threadSetting: { threads: number; fixed: boolean } | null = null;

/**
 * The process's engine for `kind` kernels (one each), created on first use; by default the
 * engine of the backend in use (wasm's when that is the float64 reference).
 */
export function kernelEngine(kind: KernelKind = backendName() === "native" ? "native" : "wasm"): KernelEngine {
  let engine = engines.get(kind);
  if (!engine) {
    const setting = threadSetting ?? defaultThreadSetting();
    engine = new KernelEngine(kind, setting.threads, { fixed: setting.fixed });
    engines.set(kind, engine);
  }
  return engine;
}

/**
 * Sets how many threads the fast kernels use (1 = one worker thread; "auto" = the default: up
 * to 2, and 1 while the machine's cores are busy with other work). Results do not depend on it:
 * each number is computed the same way whatever the split.
 *
 *   setThreads(1);  // e.g. to leave a core free
 */
export function setThreads(n: number | "auto"): void {
  const setting = n === "auto" ? null : { threads: checkThreads(n, "threads"), fixed: true };
  for (const engine of engines.values()) engine.setThreads(n);
  threadSetting = setting;
}

/** How many threads the fast kernels use. */
export function getThreads(): number {
  const engine = engines.values().next().value as KernelEngine | undefined;
  return engine ? engine.threadCount : (threadSetting ?? defaultThreadSetting()).threads;
}
