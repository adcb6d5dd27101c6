import { backendName } from "../model/backends";
import { nativeIsa, NativeIsa } from "./native";
import { wasmVariant, WasmVariant } from "./wasm";

/**
 * The build of the kernels in use: for the native backend its instruction set ("avx512",
 * "avx2", "sse2", "neon", "generic"), otherwise the WebAssembly build ("fma" or "plain").
 * Results are bit-identical within one backend and build, and differ between builds in the
 * last bits.
 */
export type KernelVariant = WasmVariant | NativeIsa;

export function kernelVariant(): KernelVariant {
  return backendName() === "native" ? nativeIsa() : wasmVariant();
}
