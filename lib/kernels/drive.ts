import { kernelEngine } from "./pool";
import { runAsync as runAsyncWork, runSync as runSyncWork, Work } from "../util/work";

/**
 * The kernel engine's face of the work driver (util/work.ts, which does the running, the
 * interrupting and the rest of the lifecycle): generators written against the engine yield WAIT
 * after starting a job, and it becomes the engine's `Pending`. Any other value marks a chunk
 * boundary.
 */
export const WAIT = Symbol("wait for the running kernel job");

export type { Work };

/** `work` with WAIT replaced by the engine's pending job; closing it closes `work`. */
function* adapt<T>(work: Work<T>): Work<T> {
  const engine = kernelEngine();
  try {
    for (;;) {
      const r = work.next();
      if (r.done) return r.value;
      yield r.value === WAIT ? engine.pending : r.value;
    }
  } finally {
    work.return(undefined as never);
  }
}

export function runSync<T>(work: Work<T>, name?: string): T {
  return runSyncWork(adapt(work), name);
}

/** Yields to the event loop at every chunk boundary; runs after earlier asynchronous calls. */
export function runAsync<T>(work: () => Work<T>, name?: string): Promise<T> {
  return name === undefined ? runAsyncWork(() => adapt(work())) : runAsyncWork(() => adapt(work()), name);
}
