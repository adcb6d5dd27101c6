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
  validate(bytes: Uint8Array): boolean;
}
const Wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** The functions assembly/kernels.ts exports; pointers are byte offsets, counts i32. */
export interface KernelExports {
  feedforwardRange(net: number, images: number, i0: number, i1: number, out: number, scratch: number): void;
  sgdRange(net: number, ctx: number, k0: number, k1: number, t: number, T: number): void;
  gradientRange(net: number, loss: number, images: number, labels: number, cot: number, i0: number, i1: number,
    lossOut: number, gradOut: number, scratch: number): void;
  descendRange(net: number, prog: number, i0: number, i1: number, scratch: number): void;
  groupScratchBytes(net: number): number;
}

/** 64 KiB pages: start with 4 MiB, allow up to 2 GiB (the limit the module declares). */
const INITIAL_PAGES = 64;
export const MAXIMUM_PAGES = 32768;

/**
 * The two builds of assembly/kernels.ts, beside this file in dist/: "fma" uses relaxed SIMD's
 * fused multiply-add (one rounding per multiply-add, twice the arithmetic per cycle where the
 * processor has FMA), "plain" separate multiplies and adds. Each is deterministic; they differ
 * from each other in the last bits.
 */
export type WasmVariant = "fma" | "plain";
export const WASM_PATHS: Record<WasmVariant, string> = {
  fma: join(__dirname, "kernels-fma.wasm"),
  plain: join(__dirname, "kernels.wasm"),
};

let compiled: { module: WasmModule; variant: WasmVariant } | null = null;

function readBuild(variant: WasmVariant): Uint8Array {
  const path = WASM_PATHS[variant];
  if (!existsSync(path)) {
    throw new Error(`${path} is missing: run \`npm run build\` (its build:wasm step compiles assembly/kernels.ts)`);
  }
  return readFileSync(path);
}

/**
 * "fma" when this Node runs relaxed SIMD, else "plain"; ADVLAB_SIMD=plain or =fma chooses.
 * Node 20 has relaxed SIMD behind a V8 flag, which is switched on here (it only adds wasm
 * instructions); Node 22 and later have it on already.
 */
function chooseVariant(fmaBytes: Uint8Array): WasmVariant {
  const asked = process.env.ADVLAB_SIMD;
  if (asked !== undefined && asked !== "" && asked !== "fma" && asked !== "plain") {
    throw new RangeError(`ADVLAB_SIMD must be "fma" or "plain", got "${asked}"`);
  }
  if (asked === "plain") return "plain";
  if (!Wasm.validate(fmaBytes)) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require("node:v8").setFlagsFromString("--experimental-wasm-relaxed-simd");
  }
  if (Wasm.validate(fmaBytes)) return "fma";
  if (asked === "fma") throw new Error("ADVLAB_SIMD=fma: this Node cannot run relaxed SIMD");
  return "plain";
}

/**
 * Node compiles wasm first with its baseline compiler and optimizes a function only when it
 * is called again; a kernel call lasts a whole epoch, so the first epoch would run baseline
 * code at a third of the speed. Optimizing at once avoids that. Left alone when the process
 * was started with its own wasm tiering flags.
 */
function optimizeAtOnce(): void {
  if (process.execArgv.some((a) => /liftoff|wasm-tier/.test(a))) return;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require("node:v8").setFlagsFromString("--no-liftoff");
}

/** The compiled module (compiled once per process; workers receive it ready-made). */
export function kernelModule(): WasmModule {
  if (compiled) return compiled.module;
  optimizeAtOnce();
  const fma = readBuild("fma");
  const variant = chooseVariant(fma);
  compiled = { module: new Wasm.Module(variant === "fma" ? fma : readBuild("plain")), variant };
  return compiled.module;
}

/** Which build the kernels run: "fma" or "plain". */
export function wasmVariant(): WasmVariant {
  kernelModule();
  return compiled!.variant;
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
