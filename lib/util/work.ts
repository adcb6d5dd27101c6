import { isMainThread, Worker } from "node:worker_threads";

/**
 * Long computations are written once, as generators, and run either straight through (the
 * synchronous API) or with the event loop free while other threads compute and between chunks
 * (the asynchronous API, so a notebook can draw progress meanwhile). Both give the same
 * numbers: the driver only decides how this thread waits.
 *
 * A generator yields a `Pending` after starting work elsewhere (and doing whatever it overlaps
 * with it): the driver collects it, blocking or awaiting. Any other value marks a chunk boundary.
 *
 * The drivers also own the lifecycle every run shares, whatever computes it:
 * - interrupting: SIGINT (Ctrl-C, Jupyter's "Interrupt kernel") ends the run under way with an
 *   `InterruptedError`, its generator closed (so its `finally` frees what it took);
 * - an asynchronous run keeps the process alive until it settles (an idle process never is);
 * - a synchronous call while an asynchronous run is under way is refused at once: it could only
 *   wait by blocking the event loop that the asynchronous run needs, so it would never finish;
 * - a synchronous run that never returned (its thread's execution was terminated, as Node's
 *   `vm` does on SIGINT or a timeout) is cleaned up as soon as JavaScript runs again.
 */
export interface Pending {
  /** Blocks until the work is done. */
  finish(): void;
  /** Resolves when the work is done, leaving the event loop free meanwhile. */
  finishAsync(): Promise<void>;
}

export type Work<T> = Generator<unknown, T, void>;

/** The error a run ends with when it is interrupted (SIGINT, or `interruptWork()`). */
export class InterruptedError extends Error {
  constructor(what: string) {
    super(`${what}: interrupted; the computation stopped and its kernel memory was freed`);
    this.name = "InterruptedError";
  }
}

/**
 * Something the drivers run work on (the kernel engine): it is told when a run starts and ends,
 * and gets a word in shared memory that is set to 1 when the run is interrupted (its kernels
 * may poll it, so that a long job ends early).
 */
export interface WorkHost {
  /** The word set to 1 on an interrupt; cleared when the next run starts. */
  readonly cancelWord: { buffer: SharedArrayBuffer; index: number };
  /** An outermost run starts: remember what to give back if it fails or is abandoned. */
  runStarted(): void;
  /** The outermost run ended; `failed`: give back whatever it took and still holds. */
  runEnded(failed: boolean): void;
  /** Stops running work at once and waits until it has stopped (never throws). */
  stop(): void;
}

const hosts: WorkHost[] = [];

export function registerHost(host: WorkHost): void {
  if (!hosts.includes(host)) hosts.push(host);
  watcherPost({ buffer: host.cancelWord.buffer, index: host.cancelWord.index });
  // Started now, so that it is up by the time a long synchronous call blocks.
  startWatcher();
}

// ---------------------------------------------------------------- interrupts

/** [0] the watcher is armed (1) or not; [1] an interrupt arrived since the last run started. */
const state = new Int32Array(new SharedArrayBuffer(8));
const ARMED = 0, HIT = 1;

function setCancelWords(value: number): void {
  for (const h of hosts) Atomics.store(new Int32Array(h.cancelWord.buffer), h.cancelWord.index, value);
}

/** True when the run under way has been interrupted. */
export function interrupted(): boolean {
  return Atomics.load(state, HIT) !== 0;
}

/** Interrupts the run under way (as SIGINT does): it ends with an `InterruptedError`. */
export function interruptWork(): void {
  Atomics.store(state, HIT, 1);
  setCancelWords(1);
}

function clearInterrupt(): void {
  Atomics.store(state, HIT, 0);
  setCancelWords(0);
}

/**
 * The SIGINT watcher: a small thread that, while armed, waits inside `vm` with `breakOnSigint`.
 * Node hands SIGINT to the most recently started such wait, so during a synchronous run (whose
 * thread is blocked or busy, so no JavaScript signal handler can run) the watcher gets it, sets
 * the interrupt words, and the run ends cleanly at its next check. Armed only while a
 * synchronous run is under way and the main thread has no SIGINT listener (inside a tslab cell
 * Node's `vm` has removed them; a script's own listener would stop working after a watcher's wait).
 */
const WATCHER_SOURCE = `
const { workerData, receiveMessageOnPort } = require("node:worker_threads");
const vm = require("node:vm");
const state = workerData.state, port = workerData.port;
const words = [];
globalThis.__advlabState = state;
for (;;) {
  Atomics.wait(state, 0, 0);
  for (let m; (m = receiveMessageOnPort(port)); ) words.push(new Int32Array(m.message.buffer, 4 * m.message.index, 1));
  try {
    vm.runInThisContext("Atomics.wait(__advlabState, 0, 1)", { breakOnSigint: true });
  } catch {
    Atomics.store(state, 1, 1);
    for (const w of words) { Atomics.store(w, 0, 1); Atomics.notify(w, 0); }
    // Stay out of the way until disarmed, so that a second SIGINT reaches Node's default.
    while (Atomics.load(state, 0) === 1) Atomics.wait(state, 0, 1);
  }
}`;

let watcher: { worker: Worker; post: (m: unknown) => void } | null = null;
const watcherBacklog: unknown[] = [];

function watcherPost(message: unknown): void {
  if (watcher) watcher.post(message);
  else watcherBacklog.push(message);
}

function startWatcher(): boolean {
  if (watcher) return true;
  if (!isMainThread) return false;
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(WATCHER_SOURCE, { eval: true, workerData: { state, port: port2 }, transferList: [port2 as never] });
  worker.unref();
  port1.unref();
  worker.on("error", (e) => { process.emitWarning(`SIGINT watcher stopped: ${e.message}`); });
  worker.on("exit", () => { watcher = null; });
  watcher = { worker, post: (m) => port1.postMessage(m) };
  watcherBacklog.splice(0).forEach(watcher.post);
  return true;
}

/**
 * Arms the SIGINT watcher for a synchronous run, when nothing else would handle the signal
 * usefully. Returns whether it armed it.
 */
function armInterruptWatcher(): boolean {
  if (!isMainThread || process.listenerCount("SIGINT") > 0) return false;
  if (!startWatcher()) return false;
  Atomics.store(state, ARMED, 1);
  Atomics.notify(state, ARMED);
  return true;
}

function disarmInterruptWatcher(): void {
  if (Atomics.load(state, ARMED) === 0) return;
  Atomics.store(state, ARMED, 0);
  Atomics.notify(state, ARMED);
}

/**
 * While an asynchronous run is under way, SIGINT interrupts it. A second SIGINT, when this is
 * the only listener, gets Node's default (the process ends), as a script's user expects.
 */
function onSigint(): void {
  if (interrupted() && process.listenerCount("SIGINT") === 1) {
    process.removeListener("SIGINT", onSigint);
    process.kill(process.pid, "SIGINT");
    return;
  }
  interruptWork();
}

// ---------------------------------------------------------------- runs

function isPending(v: unknown): v is Pending {
  return typeof v === "object" && v !== null && typeof (v as Pending).finish === "function"
    && typeof (v as Pending).finishAsync === "function";
}

/** Closes a generator (running its `finally` blocks), keeping the error that got us here. */
function closeQuietly(work: Work<unknown>): void {
  try {
    work.return(undefined as never);
  } catch {
    // the original error matters more
  }
}

/** Synchronous runs on the stack (outermost first); `stepping`: inside its generator, where callbacks may nest runs. */
const syncStack: { work: Work<unknown>; stepping: boolean }[] = [];
let syncDepth = 0;
/** An asynchronous call: queued, then running, then done (settled, or reaped after an interrupt). */
interface AsyncRun {
  name: string;
  gen: Work<unknown> | null;
  done: boolean;
}
/** Asynchronous calls not yet settled, in order (the first one runs, the others wait for it). */
const asyncRuns: AsyncRun[] = [];
/** True while an asynchronous run's generator is stepping (its callbacks may call synchronous functions). */
let asyncStepping = false;
let keepAlive: ReturnType<typeof setInterval> | null = null;

function runStarted(): void {
  clearInterrupt();
  hosts.forEach((h) => h.runStarted());
}

function runEnded(failed: boolean): void {
  hosts.forEach((h) => h.runEnded(failed));
}

/** A synchronous run that was abandoned (its stack unwound without its `finally` blocks). */
function recoverAbandoned(): void {
  if (syncDepth === 0) return;
  disarmInterruptWatcher();
  const abandoned = syncStack.splice(0).reverse();
  syncDepth = 0;
  hosts.forEach((h) => h.stop());
  abandoned.forEach((entry) => closeQuietly(entry.work));
  runEnded(true);
  clearInterrupt();
}

/**
 * An interrupted asynchronous run whose promise has not settled yet (it waits for its job, e.g.
 * after tslab ended the interrupted cell at once): stops its job and closes it now, on behalf of
 * the synchronous call that comes next. When its own continuation runs, it only rejects.
 */
function reapInterruptedAsync(): void {
  const run = asyncRuns.find((r) => !r.done);
  if (!run || !interrupted()) return;
  run.done = true;
  hosts.forEach((h) => h.stop());
  if (run.gen) closeQuietly(run.gen);
  runEnded(true);
  clearInterrupt();
}

/** Refuses a synchronous call while an asynchronous run is under way (outside its own callbacks). */
export function refuseDuringAsync(what?: string): void {
  if (asyncStepping) return;
  reapInterruptedAsync();
  const live = asyncRuns.find((r) => !r.done);
  if (live) throw new Error(`${what ?? callerName("a synchronous call")}: an asynchronous call (${live.name}) is under way; await it first`);
}

function asyncUnderWay(): boolean {
  return asyncRuns.some((r) => !r.done);
}

/** Runs `work` to the end on this thread; `name` goes into errors (default: the calling function's name). */
export function runSync<T>(work: Work<T>, name?: string): T {
  refuseDuringAsync(name);
  // A run can only start inside another while that one's generator steps (in a callback); if the
  // innermost run is waiting instead, it cannot be on the stack: it was abandoned.
  if (syncDepth > 0 && !syncStack[syncStack.length - 1].stepping) recoverAbandoned();
  const outermost = syncDepth === 0 && !asyncUnderWay();
  let armed = false;
  if (outermost) {
    runStarted();
    armed = armInterruptWatcher();
    // Microtasks run only once the stack is empty: if this run is still on the books then, it
    // was abandoned (its execution terminated), and what it held is given back.
    queueMicrotask(recoverAbandoned);
  }
  syncDepth++;
  const entry = { work: work as Work<unknown>, stepping: false };
  syncStack.push(entry);
  let failed = true;
  try {
    for (;;) {
      if (interrupted()) throw new InterruptedError(name ?? callerName("a synchronous call"));
      entry.stepping = true;
      const r = work.next();
      entry.stepping = false;
      if (r.done) {
        failed = false;
        return r.value;
      }
      if (isPending(r.value)) r.value.finish();
    }
  } catch (e) {
    closeQuietly(work);
    throw e;
  } finally {
    syncStack.pop();
    syncDepth--;
    if (outermost) {
      if (armed) disarmInterruptWatcher();
      runEnded(failed);
      clearInterrupt();
    }
  }
}

/** Frames of the drivers themselves, skipped when naming the caller. */
const INTERNAL = new Set(["callerName", "runSync", "runAsync", "run", "adapt", "jobWork", "refuseDuringAsync", "Object", "Generator", "next"]);

/** The name of the library function that called, e.g. "sgdAsync" or "augmentData" (for errors), from the stack. */
function callerName(fallback: string): string {
  // Structured frames: cheap, where formatting a stack (with source maps) is not.
  const saved = Error.prepareStackTrace;
  Error.prepareStackTrace = (_e, frames) => frames;
  const holder: { stack?: unknown } = {};
  Error.captureStackTrace(holder, callerName);
  const frames = holder.stack as NodeJS.CallSite[] | undefined;
  Error.prepareStackTrace = saved;
  for (const f of frames ?? []) {
    const name = f.getFunctionName() ?? f.getMethodName();
    if (name && !INTERNAL.has(name)) return name.replace(/^.*\./, "");
  }
  return fallback;
}

let queue: Promise<unknown> = Promise.resolve();

/**
 * Yields to the event loop at every chunk boundary. Asynchronous runs queue behind each other,
 * so their chunks never interleave on shared kernels. `name` goes into errors (default: the
 * calling function's name, e.g. "sgdAsync").
 */
export function runAsync<T>(work: () => Work<T>, name = callerName("an asynchronous call")): Promise<T> {
  const run: AsyncRun = { name, gen: null, done: false };
  asyncRuns.push(run);
  if (asyncRuns.length === 1) keepAlive = setInterval(() => undefined, 2 ** 31 - 1);
  const result = queue.then(async () => {
    // Listening from here, not from the call: a listener added inside a `vm` call with
    // breakOnSigint (a tslab cell) never hears SIGINT.
    if (isMainThread && !process.listeners("SIGINT").includes(onSigint)) process.on("SIGINT", onSigint);
    if (run.done) throw new InterruptedError(name);
    runStarted();
    let gen: Work<T> | null = null;
    let failed = true;
    try {
      asyncStepping = true;
      try {
        gen = work();
        run.gen = gen;
      } finally {
        asyncStepping = false;
      }
      for (;;) {
        if (run.done || interrupted()) throw new InterruptedError(name);
        asyncStepping = true;
        let r: IteratorResult<unknown, T>;
        try {
          r = gen.next();
        } finally {
          asyncStepping = false;
        }
        if (r.done) {
          failed = false;
          return r.value;
        }
        if (isPending(r.value)) await r.value.finishAsync();
        else await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } catch (e) {
      if (run.done) throw new InterruptedError(name); // reaped: already cleaned up
      if (gen) closeQuietly(gen);
      throw e;
    } finally {
      if (!run.done) {
        run.done = true;
        runEnded(failed);
        clearInterrupt();
      }
    }
  });
  const settled = result.then(() => undefined, () => undefined);
  queue = settled;
  void settled.then(() => {
    asyncRuns.splice(asyncRuns.indexOf(run), 1);
    if (asyncRuns.length === 0) {
      if (keepAlive) clearInterval(keepAlive);
      keepAlive = null;
      process.removeListener("SIGINT", onSigint);
    }
  });
  return result;
}
