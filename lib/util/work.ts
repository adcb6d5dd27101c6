/**
 * Long computations are written once, as generators, and run either straight through (the
 * synchronous API) or with the event loop free while other threads compute and between chunks
 * (the asynchronous API, so a notebook can draw progress meanwhile). Both give the same
 * numbers: the driver only decides how this thread waits.
 *
 * A generator yields a `Pending` after starting work elsewhere (and doing whatever it overlaps
 * with it): the driver collects it, blocking or awaiting. Any other value marks a chunk boundary.
 */
export interface Pending {
  /** Blocks until the work is done. */
  finish(): void;
  /** Resolves when the work is done, leaving the event loop free meanwhile. */
  finishAsync(): Promise<void>;
}

export type Work<T> = Generator<unknown, T, void>;

function isPending(v: unknown): v is Pending {
  return typeof v === "object" && v !== null && typeof (v as Pending).finish === "function"
    && typeof (v as Pending).finishAsync === "function";
}

export function runSync<T>(work: Work<T>): T {
  for (;;) {
    const r = work.next();
    if (r.done) return r.value;
    if (isPending(r.value)) r.value.finish();
  }
}

let queue: Promise<unknown> = Promise.resolve();

/**
 * Yields to the event loop at every chunk boundary. Asynchronous runs queue behind each other,
 * so their chunks never interleave on shared kernels.
 */
export function runAsync<T>(work: () => Work<T>): Promise<T> {
  const result = queue.then(async () => {
    const gen = work();
    for (;;) {
      const r = gen.next();
      if (r.done) return r.value;
      if (isPending(r.value)) await r.value.finishAsync();
      else await new Promise<void>((resolve) => setImmediate(resolve));
    }
  });
  queue = result.then(() => undefined, () => undefined);
  return result;
}
