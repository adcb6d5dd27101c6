/** The saved form of a network: the format of the article's reference network file. */
export interface NetworkJson {
  sizes: number[];
  /** weights[l][row][col]: row = unit of layer l+1 fed, col = unit of layer l feeding. */
  weights: number[][][];
  /** biases[l][row], one per unit of layer l+1. */
  biases: number[][];
}

/** Checks that `json` is a well-formed NetworkJson and returns it; errors name the first bad entry. */
export function parseNetworkJson(json: unknown, source: string): NetworkJson {
  const fail = (what: string): never => {
    throw new Error(`${source}: ${what}`);
  };
  if (json === null || typeof json !== "object" || Array.isArray(json)) fail("expected an object with sizes, weights and biases");
  const { sizes, weights, biases } = json as Record<string, unknown>;
  if (!Array.isArray(sizes) || sizes.length < 2) fail(`sizes must list at least two layers, got ${JSON.stringify(sizes)}`);
  const ns = sizes as unknown[];
  ns.forEach((n, l) => {
    if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 1) fail(`sizes[${l}] must be a whole number >= 1, got ${JSON.stringify(n)}`);
  });
  const layers = ns.length - 1;
  if (!Array.isArray(weights) || weights.length !== layers) fail(`weights must hold ${layers} matrices, got ${Array.isArray(weights) ? weights.length : typeof weights}`);
  if (!Array.isArray(biases) || biases.length !== layers) fail(`biases must hold ${layers} vectors, got ${Array.isArray(biases) ? biases.length : typeof biases}`);
  for (let l = 0; l < layers; l++) {
    const rows = ns[l + 1] as number;
    const cols = ns[l] as number;
    const W = (weights as unknown[])[l];
    if (!Array.isArray(W) || W.length !== rows) fail(`weights[${l}] must have ${rows} rows (sizes[${l + 1}]), got ${Array.isArray(W) ? W.length : typeof W}`);
    (W as unknown[]).forEach((row, r) => checkNumbers(row, cols, `weights[${l}][${r}]`, fail));
    checkNumbers((biases as unknown[])[l], rows, `biases[${l}]`, fail);
  }
  return { sizes: ns as number[], weights: weights as number[][][], biases: biases as number[][] };
}

function checkNumbers(v: unknown, length: number, name: string, fail: (what: string) => never): void {
  if (!Array.isArray(v) || v.length !== length) fail(`${name} must have ${length} numbers, got ${Array.isArray(v) ? v.length : typeof v}`);
  (v as unknown[]).forEach((x, i) => {
    if (typeof x !== "number" || !Number.isFinite(x)) fail(`${name}[${i}] must be a finite number, got ${JSON.stringify(x)}`);
  });
}
