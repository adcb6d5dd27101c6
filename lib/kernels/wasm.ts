import { readFileSync, existsSync } from "node:fs";
import { join } from "node:path";

/**
 * The compiled SIMD kernels (assembly/kernels.ts -> dist/kernels/kernels.wasm) and the one
 * shared WebAssembly.Memory every thread runs them over. Pointers are byte offsets into it.
 * (`Wasm` is Node's global WebAssembly object, typed for the few parts used.)
 */

/** The parts of Node's WebAssembly API used here (the ES2022 typings do not declare it). */
export interface WasmMemory {
  readonly buffer: ArrayBufferLike;
  grow(pages: number): number;
}
/** A compiled module: opaque, but it can be sent to worker threads. */
export type WasmModule = { readonly __wasmModule?: never };
interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Memory: new (limits: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
  Instance: new (module: WasmModule, imports: object) => { exports: object };
}
const Wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** The functions assembly/kernels.ts exports; pointers are byte offsets, counts i32. */
export interface KernelExports {
  feedforwardRange(net: number, images: number, i0: number, i1: number, out: number, scratch: number): void;
  attackRange(net: number, x: number, targets: number, goals: number, i0: number, i1: number,
    steps: number, eta: number, lam: number, scratch: number): void;
  attackScratchBytes(net: number): number;
  sgdRange(net: number, ctx: number, k0: number, k1: number, t: number, T: number): void;
}

/** 64 KiB pages: start with 4 MiB, allow up to 2 GiB (the limit the module declares). */
const INITIAL_PAGES = 64;
export const MAXIMUM_PAGES = 32768;

/** Path of the compiled module, beside this file in dist/. */
export const WASM_PATH = join(__dirname, "kernels.wasm");

let compiled: WasmModule | null = null;

/** The compiled module (compiled once per process; workers receive it ready-made). */
export function kernelModule(): WasmModule {
  if (compiled) return compiled;
  if (!existsSync(WASM_PATH)) {
    throw new Error(`${WASM_PATH} is missing: run \`npm run build\` (its build:wasm step compiles assembly/kernels.ts)`);
  }
  compiled = new Wasm.Module(readFileSync(WASM_PATH));
  return compiled;
}

/** A new shared memory for the kernels. */
export function createSharedMemory(): WasmMemory {
  return new Wasm.Memory({ initial: INITIAL_PAGES, maximum: MAXIMUM_PAGES, shared: true });
}

/** The kernels instantiated over `memory` (any thread may do this with the same module). */
export function instantiate(module: WasmModule, memory: WasmMemory): KernelExports {
  const instance = new Wasm.Instance(module, { env: { memory } });
  return instance.exports as unknown as KernelExports;
}
