import { closeSync, fstatSync, openSync, readFileSync, readSync } from "node:fs";
import { constants as bufferConstants } from "node:buffer";
import { constants as zlibConstants, gunzipSync } from "node:zlib";

/** An IDX array: its dimensions and its bytes in row-major order. */
export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

/** What the first bytes of an IDX file declare. */
interface IdxHeader {
  dims: number[];
  /** 4 + 4 * rank. */
  headerBytes: number;
  /** The product of the dimensions: one byte per entry. */
  dataBytes: number;
}

const UNSIGNED_BYTE = 0x08;
/** The longest possible header: magic number plus 255 dimensions. */
const MAX_HEADER_BYTES = 4 + 4 * 255;
/**
 * Deflate's largest expansion is 1032 output bytes per input byte (258-byte matches coded in
 * 2 bits); a few bytes more per input byte cover gzip's own framing. No gzip file of n bytes
 * can inflate to more than this times n.
 */
const DEFLATE_MAX_RATIO = 1040;
/** How far into gzip data the IDX header is looked for (compressed bytes). */
const HEADER_SEARCH_BYTES = 16_384;

/**
 * Parses an IDX file held in memory (the format of the MNIST files: two zero bytes, a type
 * byte, a rank byte, `rank` big-endian uint32 dimensions, then the data). Only unsigned bytes
 * (type 0x08) are supported, which is what MNIST uses. Gzipped bytes (they start with 1f 8b)
 * are inflated first, never beyond the size their IDX header declares (see `gunzipIdx`).
 * `name` is used in error messages.
 *
 *   parseIdx(bytes, "t10k-labels-idx1-ubyte")  // { dims: [10000], data: Uint8Array(10000) }
 */
export function parseIdx(bytes: Uint8Array, name: string): IdxArray {
  if (isGzip(bytes)) bytes = gunzipIdx(bytes, name);
  const header = parseIdxHeader(bytes, name);
  checkLength(header, bytes.length, name);
  return { dims: header.dims, data: bytes.subarray(header.headerBytes) };
}

/**
 * Reads and parses an IDX file, plain or gzipped. A plain file's header is checked against the
 * file's size before the rest is read; a gzipped one is inflated at most to the size its header
 * declares, so a small "gzip bomb" fails in milliseconds instead of filling memory.
 */
export function readIdx(path: string): IdxArray {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (error) {
    throw readError(path, error);
  }
  try {
    let size: number;
    const head = new Uint8Array(MAX_HEADER_BYTES);
    let got: number;
    try {
      size = fstatSync(fd).size;
      got = readSync(fd, head, 0, head.length, 0);
    } catch (error) {
      throw readError(path, error);
    }
    if (!isGzip(head.subarray(0, got)) && got >= 4) {
      // Plain: check the header against the file's size before reading megabytes.
      const header = parseIdxHeader(head.subarray(0, got), path);
      checkLength(header, size, path);
    }
  } finally {
    closeSync(fd);
  }
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw readError(path, error);
  }
  return parseIdx(bytes, path);
}

/**
 * Inflates gzipped IDX bytes in two steps, so that the output can never exceed what the IDX
 * header declares: first only the beginning of the stream, enough to read and check the header
 * (magic number, type, rank, dimensions); then the whole stream with zlib's `maxOutputLength`
 * set to exactly header + product(dimensions) bytes. A header that is wrong, or that declares
 * more than the gzip data could hold (deflate expands at most 1032:1), fails before any bulk
 * inflation; more data than declared fails as soon as the limit is passed.
 */
export function gunzipIdx(bytes: Uint8Array, name: string): Uint8Array {
  // Step 1: inflate growing prefixes of the compressed bytes until the header is out. A prefix
  // of k bytes inflates to at most about 1032 k bytes, so this step stays small.
  let head: Uint8Array = new Uint8Array(0);
  for (let k = 64; ; k *= 4) {
    const input = bytes.subarray(0, Math.min(k, bytes.length));
    try {
      head = gunzipSync(input, { finishFlush: zlibConstants.Z_SYNC_FLUSH, maxOutputLength: DEFLATE_MAX_RATIO * HEADER_SEARCH_BYTES });
    } catch (error) {
      throw new Error(`${name}: corrupt gzip data (${(error as Error).message})`);
    }
    if (head.length >= 4) {
      checkMagic(head, name); // a wrong magic number fails here, after a few kilobytes at most
      if (head.length >= 4 + 4 * head[3]) break;
    }
    if (input.length === bytes.length) break;
    if (k >= HEADER_SEARCH_BYTES) {
      throw new Error(`${name}: no IDX header in the first ${HEADER_SEARCH_BYTES} bytes of gzip data (inflated to ${head.length} bytes)`);
    }
  }
  const header = parseIdxHeader(head, name);
  const expected = header.headerBytes + header.dataBytes;
  const most = bytes.length * DEFLATE_MAX_RATIO;
  if (expected > most) {
    throw new Error(`${name}: truncated: dimensions ${showDims(header.dims)} need ${expected} bytes, but ${bytes.length} bytes of gzip data inflate to at most ${most}`);
  }
  if (expected > bufferConstants.MAX_LENGTH) {
    throw new Error(`${name}: dimensions ${showDims(header.dims)} need ${expected} bytes, more than this Node.js can hold in one buffer (${bufferConstants.MAX_LENGTH})`);
  }
  // Step 2: the whole stream, never more than `expected` bytes.
  try {
    return gunzipSync(bytes, { maxOutputLength: expected });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") {
      throw new Error(`${name}: corrupt: dimensions ${showDims(header.dims)} need ${expected} bytes, but the gzip data inflates to more (stopped at ${expected})`);
    }
    const message = (error as Error).message;
    if (/unexpected end of file/.test(message)) {
      throw new Error(`${name}: truncated gzip data (${message}); dimensions ${showDims(header.dims)} need ${expected} bytes`);
    }
    throw new Error(`${name}: corrupt gzip data (${message})`);
  }
}

/** The header at the start of `bytes`; throws, naming `name`, when it is not a valid IDX header. */
function parseIdxHeader(bytes: Uint8Array, name: string): IdxHeader {
  checkMagic(bytes, name);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const rank = bytes[3];
  const headerBytes = 4 + 4 * rank;
  if (bytes.length < headerBytes) {
    throw new Error(`${name}: truncated header: rank ${rank} needs ${headerBytes} bytes, file has ${bytes.length}`);
  }
  const dims: number[] = [];
  for (let d = 0; d < rank; d++) dims.push(view.getUint32(4 + 4 * d, false));
  // Exact while it stays below 2^53; beyond that no file can match anyway.
  const dataBytes = dims.reduce((a, b) => a * b, 1);
  if (!Number.isSafeInteger(dataBytes)) {
    throw new Error(`${name}: dimensions ${showDims(dims)} declare more than 2^53 bytes; not a real IDX file`);
  }
  return { dims, headerBytes, dataBytes };
}

/** Checks the magic number: two zero bytes, the unsigned-byte type, a rank of at least 1. */
function checkMagic(bytes: Uint8Array, name: string): void {
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
}

/** Throws when `length` (of the file or the inflated data) is not what the header declares. */
function checkLength(header: IdxHeader, length: number, name: string): void {
  const expected = header.headerBytes + header.dataBytes;
  const dims = showDims(header.dims);
  if (length < expected) throw new Error(`${name}: truncated: dimensions ${dims} need ${expected} bytes, file has ${length}`);
  if (length > expected) throw new Error(`${name}: corrupt: dimensions ${dims} need ${expected} bytes, file has ${length - expected} bytes more`);
}

/** `[60000, 28, 28]`; a long list (a corrupt rank byte) is cut: `[2, 28, 28, 5, 7, 9, ... 255 dimensions]`. */
function showDims(dims: number[]): string {
  return dims.length <= 8 ? `[${dims.join(", ")}]` : `[${dims.slice(0, 6).join(", ")}, ... ${dims.length} dimensions]`;
}

function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

function readError(path: string, error: unknown): Error {
  const code = (error as NodeJS.ErrnoException).code;
  return new Error(`${path}: cannot read MNIST file (${code ?? String(error)})`, { cause: error });
}

function hex(n: number): string {
  return n.toString(16).padStart(8, "0");
}
