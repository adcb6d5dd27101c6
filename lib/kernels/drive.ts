/**
 * Long computations are written once, as generators that yield between chunks of work; these
 * run them either straight through (the synchronous API) or giving the event loop a turn after
 * every chunk (the asynchronous API, so a notebook can draw progress). Both give the same
 * numbers: chunks only decide when the caller gets control back.
 */
export function runSync<T>(work: Generator<unknown, T, void>): T {
  for (;;) {
    const r = work.next();
    if (r.done) return r.value;
  }
}

export async function runAsync<T>(work: Generator<unknown, T, void>): Promise<T> {
  for (;;) {
    const r = work.next();
    if (r.done) return r.value;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
