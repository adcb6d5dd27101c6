import type { WasmMemory } from "./wasm";

/**
 * Hands out regions of the kernels' shared memory (first fit, 64-byte aligned) and grows the
 * memory when none fits. Everything below `base` belongs to the module's own static data.
 *
 *   const arena = new Arena(memory);
 *   const p = arena.alloc(4 * 784);  // room for one float32 image
 *   arena.free(p);
 */
export class Arena {
  private used: { start: number; end: number }[] = [];

  /** `maximumBytes`: the limit on region ends (lower it to test what happens when memory runs out). */
  constructor(readonly memory: WasmMemory, readonly base = 65536, public maximumBytes = 2 ** 31) {}

  /** A region of `bytes` bytes (contents unspecified); its byte offset. */
  alloc(bytes: number): number {
    const size = Math.max(64, Math.ceil(bytes / 64) * 64);
    let start = this.base;
    let at = 0;
    for (; at < this.used.length; at++) {
      if (this.used[at].start - start >= size) break;
      start = this.used[at].end;
    }
    const end = start + size;
    if (end > this.maximumBytes) {
      throw new RangeError(`kernel memory: ${bytes} more bytes would pass the ${this.maximumBytes / 2 ** 20} MiB limit`);
    }
    const have = this.memory.buffer.byteLength;
    if (end > have) this.memory.grow(Math.ceil((end - have) / 65536));
    this.used.splice(at, 0, { start, end });
    return start;
  }

  /** Returns a region from `alloc`. */
  free(ptr: number): void {
    const at = this.used.findIndex((r) => r.start === ptr);
    if (at < 0) throw new Error(`kernel memory: ${ptr} is not an allocated region`);
    this.used.splice(at, 1);
  }

  /** The offsets of the regions currently handed out, in address order. */
  regionStarts(): number[] {
    return this.used.map((r) => r.start);
  }

  /**
   * Runs `take`, which allocates several regions; if it throws, frees the ones it got before
   * failing, so a half-done set of allocations never leaks.
   *
   *   const handle = arena.allOrNothing(() => uploadModel(arena, model));
   */
  allOrNothing<T>(take: () => T): T {
    const before = new Set(this.regionStarts());
    try {
      return take();
    } catch (e) {
      for (const start of this.regionStarts()) if (!before.has(start)) this.free(start);
      throw e;
    }
  }

  /** Bytes currently handed out. */
  get bytesInUse(): number {
    return this.used.reduce((s, r) => s + r.end - r.start, 0);
  }

  f32(ptr: number, length: number): Float32Array {
    return new Float32Array(this.memory.buffer, ptr, length);
  }

  f64(ptr: number, length: number): Float64Array {
    return new Float64Array(this.memory.buffer, ptr, length);
  }

  u32(ptr: number, length: number): Uint32Array {
    return new Uint32Array(this.memory.buffer, ptr, length);
  }

  i32(ptr: number, length: number): Int32Array {
    return new Int32Array(this.memory.buffer, ptr, length);
  }

  u8(ptr: number, length: number): Uint8Array {
    return new Uint8Array(this.memory.buffer, ptr, length);
  }
}
