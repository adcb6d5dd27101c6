import type { Network } from "../model/network";
import { Arena } from "./arena";

/**
 * A network copied into kernel memory as float32, in the table layout assembly/kernels.ts
 * reads: i32 L, then per layer rows, cols, W pointer, b pointer.
 */
export interface NetHandle {
  ptr: number;
  sizes: number[];
  weights: number[];
  biases: number[];
}

/** Copies `net` in (float64 -> float32). */
export function uploadNetwork(arena: Arena, net: Network): NetHandle {
  const shapes = net.layerShapes();
  const ptr = arena.alloc(4 + 16 * shapes.length);
  const weights = shapes.map(([rows, cols]) => arena.alloc(4 * rows * cols));
  const biases = shapes.map(([rows]) => arena.alloc(4 * rows));
  const table = arena.i32(ptr, 1 + 4 * shapes.length);
  table[0] = shapes.length;
  shapes.forEach(([rows, cols], l) => {
    table.set([rows, cols, weights[l], biases[l]], 1 + 4 * l);
    arena.f32(weights[l], rows * cols).set(net.weights[l]);
    arena.f32(biases[l], rows).set(net.biases[l]);
  });
  return { ptr, sizes: net.sizes.slice(), weights, biases };
}

/** Copies the float32 weights back into `net` (float64). */
export function downloadNetwork(arena: Arena, handle: NetHandle, net: Network): void {
  net.layerShapes().forEach(([rows, cols], l) => {
    net.weights[l].set(arena.f32(handle.weights[l], rows * cols));
    net.biases[l].set(arena.f32(handle.biases[l], rows));
  });
}

export function freeNetwork(arena: Arena, handle: NetHandle): void {
  arena.free(handle.ptr);
  handle.weights.forEach((p) => arena.free(p));
  handle.biases.forEach((p) => arena.free(p));
}

/** Bytes of per-thread scratch `feedforwardRange` needs. */
export function feedforwardScratchBytes(sizes: number[]): number {
  const units = sizes.slice(1);
  return 16 + 8 * Math.max(...units) + 16 * units.reduce((s, n) => s + n, 0) + 64;
}

/** Rounds up to a multiple of 64 bytes (one cache line), so threads' scratch never shares one. */
export function lineUp(bytes: number): number {
  return Math.ceil(bytes / 64) * 64;
}
