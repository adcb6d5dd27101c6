import type { ActivationName } from "../model/backend";
import { Arena } from "./arena";
import {
  ACT_IDENTITY, ACT_RELU, ACT_SIGMOID, LAYER_ACT, LAYER_B, LAYER_BYTES, LAYER_COLS, LAYER_ROWS, LAYER_W, NET_FIRST_LAYER,
  NET_LAYERS,
} from "./layout";

/**
 * A dense network copied into kernel memory as float32, in the table layout of layout.ts
 * (NET_*, LAYER_*): per layer rows, cols, W pointer, b pointer, activation code.
 */
export interface NetHandle {
  ptr: number;
  sizes: number[];
  weights: number[];
  biases: number[];
}

/** What an upload reads: sizes, one activation per layer, weights[l] (rows x cols) and biases[l]. */
export interface ModelData {
  readonly sizes: readonly number[];
  readonly activations: readonly ActivationName[];
  readonly weights: readonly ArrayLike<number>[];
  readonly biases: readonly ArrayLike<number>[];
}

export const ACTIVATION_CODES: Record<ActivationName, number> = {
  sigmoid: ACT_SIGMOID, relu: ACT_RELU, identity: ACT_IDENTITY,
};

/** Throws, naming the layer and index, at the first number of `values` that is not finite as float32. */
function checkFloat32(values: Float32Array, source: ArrayLike<number>, what: string, l: number): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      throw new RangeError(`${what}[${l}][${i}] is ${source[i]}, not a finite float32 (|x| <= 3.4e38)`);
    }
  }
}

/** Copies `model` in (float64 -> float32), refusing weights and biases that are not finite as float32. */
export function uploadModel(arena: Arena, model: ModelData): NetHandle {
  const L = model.sizes.length - 1;
  const shapes = model.sizes.slice(1).map((rows, l) => [rows, model.sizes[l]]);
  const ptr = arena.alloc(NET_FIRST_LAYER + LAYER_BYTES * L);
  const weights: number[] = [];
  const biases: number[] = [];
  const handle = { ptr, sizes: model.sizes.slice(), weights, biases };
  try {
    const table = arena.i32(ptr, (NET_FIRST_LAYER + LAYER_BYTES * L) / 4);
    table.fill(0);
    table[NET_LAYERS / 4] = L;
    shapes.forEach(([rows, cols], l) => {
      const w = arena.alloc(4 * rows * cols);
      weights.push(w);
      const b = arena.alloc(4 * rows);
      biases.push(b);
      const code = ACTIVATION_CODES[model.activations[l]];
      if (code === undefined) throw new RangeError(`activations[${l}] is ${JSON.stringify(model.activations[l])}, not sigmoid, relu or identity`);
      const at = (NET_FIRST_LAYER + LAYER_BYTES * l) / 4;
      table[at + LAYER_ROWS / 4] = rows;
      table[at + LAYER_COLS / 4] = cols;
      table[at + LAYER_W / 4] = w;
      table[at + LAYER_B / 4] = b;
      table[at + LAYER_ACT / 4] = code;
      const wf = arena.f32(w, rows * cols);
      wf.set(model.weights[l]);
      checkFloat32(wf, model.weights[l], "weights", l);
      const bf = arena.f32(b, rows);
      bf.set(model.biases[l]);
      checkFloat32(bf, model.biases[l], "biases", l);
    });
  } catch (e) {
    freeNetwork(arena, handle);
    throw e;
  }
  return handle;
}

/** Copies the float32 weights back (float64). */
export function downloadModel(arena: Arena, handle: NetHandle, weights: readonly Float64Array[], biases: readonly Float64Array[]): void {
  handle.sizes.slice(1).forEach((rows, l) => {
    const cols = handle.sizes[l];
    weights[l].set(arena.f32(handle.weights[l], rows * cols));
    biases[l].set(arena.f32(handle.biases[l], rows));
  });
}

export function freeNetwork(arena: Arena, handle: NetHandle): void {
  arena.free(handle.ptr);
  handle.weights.forEach((p) => arena.free(p));
  handle.biases.forEach((p) => arena.free(p));
}

/** Bytes of per-thread scratch `feedforwardRange` needs. */
export function feedforwardScratchBytes(sizes: readonly number[]): number {
  const units = sizes.slice(1);
  return 16 + 8 * Math.max(...units) + 16 * units.reduce((s, n) => s + n, 0) + 64;
}

/** Rounds up to a multiple of 64 bytes (one cache line), so threads' scratch never shares one. */
export function lineUp(bytes: number): number {
  return Math.ceil(bytes / 64) * 64;
}
