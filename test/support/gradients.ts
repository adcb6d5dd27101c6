/**
 * Central difference of f in one entry v[i] (changed and restored): the independent reference the
 * gradient tests hold backpropagation to.
 */
export function centralDifference(f: () => number, v: Float64Array, i: number, h = 1e-6): number {
  const saved = v[i];
  v[i] = saved + h;
  const up = f();
  v[i] = saved - h;
  const down = f();
  v[i] = saved;
  return (up - down) / (2 * h);
}
