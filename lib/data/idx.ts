import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";

/** An IDX array: its dimensions and its bytes in row-major order. */
export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

const UNSIGNED_BYTE = 0x08;

/**
 * Parses an IDX file held in memory (the format of the MNIST files: two zero bytes, a type
 * byte, a rank byte, `rank` big-endian uint32 dimensions, then the data). Only unsigned bytes
 * (type 0x08) are supported, which is what MNIST uses. `name` is used in error messages.
 *
 *   parseIdx(bytes, "t10k-labels-idx1-ubyte")  // { dims: [10000], data: Uint8Array(10000) }
 */
export function parseIdx(bytes: Uint8Array, name: string): IdxArray {
  if (bytes.length < 4) {
    throw new Error(`${name}: not an IDX file: ${bytes.length} bytes, fewer than the 4-byte magic number`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new Error(`${name}: not an IDX file: magic number 0x${hex(magic)} does not start with two zero bytes`);
  }
  if (bytes[2] !== UNSIGNED_BYTE) {
    throw new Error(`${name}: unsupported IDX data type 0x${bytes[2].toString(16).padStart(2, "0")} (magic 0x${hex(magic)}); only unsigned bytes (0x08) are read`);
  }
  const rank = bytes[3];
  if (rank === 0) throw new Error(`${name}: IDX rank is 0 (magic 0x${hex(magic)}); expected at least one dimension`);
  const headerBytes = 4 + 4 * rank;
  if (bytes.length < headerBytes) {
    throw new Error(`${name}: truncated header: rank ${rank} needs ${headerBytes} bytes, file has ${bytes.length}`);
  }
  const dims: number[] = [];
  for (let d = 0; d < rank; d++) dims.push(view.getUint32(4 + 4 * d, false));
  const count = dims.reduce((a, b) => a * b, 1);
  const expected = headerBytes + count;
  if (bytes.length < expected) {
    throw new Error(`${name}: truncated: dimensions [${dims.join(", ")}] need ${expected} bytes, file has ${bytes.length}`);
  }
  if (bytes.length > expected) {
    throw new Error(`${name}: corrupt: dimensions [${dims.join(", ")}] need ${expected} bytes, file has ${bytes.length - expected} bytes more`);
  }
  return { dims, data: bytes.subarray(headerBytes) };
}

/** Reads and parses an IDX file, gunzipping it first when it starts with the gzip signature. */
export function readIdx(path: string): IdxArray {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(`${path}: cannot read MNIST file (${code ?? String(error)})`);
  }
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch (error) {
      throw new Error(`${path}: corrupt gzip data (${(error as Error).message})`);
    }
  }
  return parseIdx(bytes, path);
}

function hex(n: number): string {
  return n.toString(16).padStart(8, "0");
}
