import { existsSync } from "node:fs";
import { join } from "node:path";
import type { KernelExports, WasmMemory } from "./wasm";
import { NormalPairs, useNormalPairs } from "../util/random";

/**
 * The native kernels (native/*.cc -> build/Release/advlab_native.node, built by node-gyp when
 * the package installs): the same entry points as the WebAssembly kernels, over the same shared
 * memory, vectorised for the processor (AVX-512, AVX2 + FMA or SSE2 on x86-64, NEON on ARM64;
 * chosen when the module loads). The module validates every region an entry point touches
 * against the memory's length before it computes, and throws an Error naming the region.
 *
 * The module is optional: without a compiler, or when the build failed, `nativeKernelsOrWhy()`
 * says why, and the default backend is the WebAssembly one (lib/model/backends.ts).
 */

/** The instruction sets the native module may run ("generic": plain C++ on other processors). */
export type NativeIsa = "avx512" | "avx2" | "sse2" | "neon" | "generic";

/** The module's functions: the wasm exports' signatures with the memory first. */
interface NativeAddon {
  isa(): NativeIsa;
  feedforwardRange(mem: Uint8Array, net: number, images: number, i0: number, i1: number, out: number, scratch: number): void;
  sgdRange(mem: Uint8Array, net: number, ctx: number, k0: number, k1: number, t: number, T: number): void;
  gradientRange(mem: Uint8Array, net: number, loss: number, images: number, labels: number, cot: number, i0: number, i1: number,
    lossOut: number, gradOut: number, scratch: number): void;
  descendRange(mem: Uint8Array, net: number, prog: number, i0: number, i1: number, scratch: number): void;
  groupScratchBytes(mem: Uint8Array, net: number): number;
  normalPairs: NormalPairs;
}

/** Where node-gyp puts the module (from dist/kernels or lib/kernels alike). */
export const NATIVE_PATH = join(__dirname, "..", "..", "build", "Release", "advlab_native.node");

let loaded: { addon: NativeAddon } | { why: string } | null = null;

function load(): { addon: NativeAddon } | { why: string } {
  if (loaded) return loaded;
  if (!existsSync(NATIVE_PATH)) {
    loaded = { why: `${NATIVE_PATH} is not built (\`npm run build:native\` builds it; it needs g++, make and python3)` };
  } else {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      loaded = { addon: require(NATIVE_PATH) as NativeAddon };
      loaded.addon.isa();
    } catch (e) {
      loaded = { why: `${NATIVE_PATH} did not load: ${(e as Error).message.split("\n")[0]}` };
    }
  }
  return loaded;
}

/** The native module, or why there is none. */
export function nativeKernelsOrWhy(): { available: true; isa: NativeIsa } | { available: false; why: string } {
  const l = load();
  return "addon" in l ? { available: true, isa: l.addon.isa() } : { available: false, why: l.why };
}

/** The module, or an Error saying why it is not available. */
function addon(): NativeAddon {
  const l = load();
  if ("why" in l) throw new Error(`the native backend is not available: ${l.why}`);
  return l.addon;
}

/** The instruction set the native kernels run (throws when they are not available). */
export function nativeIsa(): NativeIsa {
  return addon().isa();
}

/**
 * The native kernels over `memory`, shaped as the wasm exports (pointers are byte offsets into
 * it). The memory may grow between calls, so each call passes a view of its current buffer.
 */
export function nativeKernels(memory: WasmMemory): KernelExports {
  const a = addon();
  // With the native kernels in use, the attacks' random starts are drawn by the module too:
  // the same numbers (native/draws.h), a sixth of the time.
  useNormalPairs(a.normalPairs);
  const mem = () => new Uint8Array(memory.buffer);
  return {
    feedforwardRange: (net, images, i0, i1, out, scratch) => a.feedforwardRange(mem(), net, images, i0, i1, out, scratch),
    sgdRange: (net, ctx, k0, k1, t, T) => a.sgdRange(mem(), net, ctx, k0, k1, t, T),
    gradientRange: (net, loss, images, labels, cot, i0, i1, lossOut, gradOut, scratch) =>
      a.gradientRange(mem(), net, loss, images, labels, cot, i0, i1, lossOut, gradOut, scratch),
    descendRange: (net, prog, i0, i1, scratch) => a.descendRange(mem(), net, prog, i0, i1, scratch),
    groupScratchBytes: (net) => a.groupScratchBytes(mem(), net),
  };
}
