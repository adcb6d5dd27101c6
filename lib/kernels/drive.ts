import { kernelEngine } from "./pool";

/**
 * Long computations are written once, as generators over the kernel engine, and run either
 * straight through (the synchronous API) or with the event loop free while the workers compute
 * and between chunks (the asynchronous API, so a notebook can draw progress meanwhile). Both
 * give the same numbers: the driver only decides how this thread waits.
 *
 * A generator yields WAIT after starting a job (and doing whatever it overlaps with it): the
 * driver collects the job, blocking or awaiting. Any other value marks a chunk boundary.
 */
export const WAIT = Symbol("wait for the running kernel job");

export type Work<T> = Generator<unknown, T, void>;

export function runSync<T>(work: Work<T>): T {
  const engine = kernelEngine();
  for (;;) {
    const r = work.next();
    if (r.done) return r.value;
    if (r.value === WAIT) engine.finish();
  }
}

/** Yields to the event loop at every chunk boundary; runs after earlier asynchronous calls. */
export function runAsync<T>(work: () => Work<T>): Promise<T> {
  const engine = kernelEngine();
  return engine.exclusive(async () => {
    const gen = work();
    for (;;) {
      const r = gen.next();
      if (r.done) return r.value;
      if (r.value === WAIT) await engine.finishAsync();
      else await new Promise<void>((resolve) => setImmediate(resolve));
    }
  });
}
