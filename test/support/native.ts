import { nativeKernelsOrWhy } from "../../dist/kernels/native";

/**
 * The native module's instruction sets this processor runs, best first: on x86-64 its best and
 * every level below it, elsewhere its one; none when the module is not built.
 */
export function nativeIsaLevels(): string[] {
  const native = nativeKernelsOrWhy();
  const X86 = ["avx512", "avx2", "sse2"];
  return !native.available ? [] : X86.includes(native.isa) ? X86.slice(X86.indexOf(native.isa)) : [native.isa];
}
