/** Argument checks shared by the library: each throws an error that names the argument and its value. */

function show(value: unknown): string {
  if (typeof value === "number" || typeof value === "bigint" || typeof value === "boolean") return String(value);
  if (typeof value === "string") return JSON.stringify(value);
  if (value === null || value === undefined) return String(value);
  if (ArrayBuffer.isView(value) || Array.isArray(value)) return `an array of length ${(value as ArrayLike<unknown>).length}`;
  return typeof value;
}

export function checkSeed(seed: unknown): asserts seed is number {
  if (typeof seed !== "number" || !Number.isSafeInteger(seed) || seed < 0) {
    throw new RangeError(`seed must be a non-negative whole number, got ${show(seed)}`);
  }
}

/** A class label of the 10 digits: a whole number 0..9. */
export function checkLabel(label: unknown, name = "label", classes = 10): asserts label is number {
  if (typeof label !== "number" || !Number.isInteger(label) || label < 0 || label >= classes) {
    throw new RangeError(`${name} must be a whole number from 0 to ${classes - 1}, got ${show(label)}`);
  }
}

export function checkCount(value: unknown, name: string, min = 0): asserts value is number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min) {
    const what = min === 0 ? "a non-negative whole number" : `a whole number >= ${min}`;
    throw new RangeError(`${name} must be ${what}, got ${show(value)}`);
  }
}

export function checkFinite(value: unknown, name: string): asserts value is number {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new RangeError(`${name} must be a finite number, got ${show(value)}`);
  }
}

/** A vector of `length` finite numbers, e.g. an image of 784 pixels. */
export function checkVector(x: unknown, length: number, name: string): asserts x is ArrayLike<number> {
  if (x === null || typeof x !== "object" || typeof (x as ArrayLike<number>).length !== "number") {
    throw new TypeError(`${name} must be an array of ${length} numbers, got ${show(x)}`);
  }
  const v = x as ArrayLike<number>;
  if (v.length !== length) {
    throw new RangeError(`${name} must have ${length} numbers, got ${v.length}`);
  }
  for (let i = 0; i < length; i++) {
    const xi = v[i];
    if (typeof xi !== "number" || !Number.isFinite(xi)) {
      throw new RangeError(`${name}[${i}] must be a finite number, got ${show(xi)}`);
    }
  }
}

/**
 * The index of the first number of `v` that is NaN or infinite, or -1. One branch-free pass
 * (x - x is +0 for every finite x and NaN otherwise, so the sum stays 0 only when all are finite),
 * then a search only when something is wrong: a third of the time of testing each number.
 */
export function firstNonFiniteIndex(v: ArrayLike<number>): number {
  let acc = 0;
  const n = v.length;
  for (let i = 0; i < n; i++) {
    const x = v[i];
    acc += x - x;
  }
  if (acc === 0) return -1;
  for (let i = 0; i < n; i++) if (v[i] - v[i] !== 0) return i;
  return -1;
}

/**
 * Arrays already found to hold only finite numbers (by identity). Datasets are immutable by
 * contract, so their images are checked once, not on every sgd call: a full check of the 50,000
 * training images costs about 1 us per example, a third of an sgd epoch.
 */
const finiteArrays = new WeakSet<object>();
/** The byte ranges of marked typed arrays, per buffer: a view inside one (same element type) is known too. */
const finiteRanges = new WeakMap<ArrayBufferLike, { type: unknown; start: number; end: number }[]>();

export function markFinite(array: object): void {
  const inside = knownFinite(array);
  finiteArrays.add(array);
  if (inside) return;
  if (ArrayBuffer.isView(array)) {
    const ranges = finiteRanges.get(array.buffer) ?? [];
    ranges.push({ type: array.constructor, start: array.byteOffset, end: array.byteOffset + array.byteLength });
    finiteRanges.set(array.buffer, ranges);
  }
}

export function knownFinite(array: unknown): boolean {
  if (typeof array !== "object" || array === null) return false;
  if (finiteArrays.has(array)) return true;
  if (!ArrayBuffer.isView(array)) return false;
  // e.g. test.images.subarray(0, 1000 * 784): a view into a dataset's checked images.
  const start = array.byteOffset, end = start + array.byteLength;
  return (finiteRanges.get(array.buffer) ?? []).some((r) => r.type === array.constructor && r.start <= start && end <= r.end);
}
