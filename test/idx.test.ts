import { expect } from "chai";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { parseIdx, readIdx } from "../dist";

/** An IDX file of unsigned bytes with the given dimensions and data. */
function idxBytes(dims: number[], data: number[], type = 0x08): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = type;
  header[3] = dims.length;
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, Buffer.from(data)]);
}

describe("idx", () => {
  const dir = mkdtempSync(join(tmpdir(), "idx-test-"));

  it("parseIdx reads big-endian dimensions and the data that follows", () => {
    const { dims, data } = parseIdx(idxBytes([2, 3], [1, 2, 3, 4, 5, 250]), "small");
    expect(dims).to.deep.equal([2, 3]);
    expect(Array.from(data)).to.deep.equal([1, 2, 3, 4, 5, 250]);
  });

  it("parseIdx reads dimensions larger than 255 (big-endian, all four bytes)", () => {
    const { dims, data } = parseIdx(idxBytes([300], new Array(300).fill(7)), "long");
    expect(dims).to.deep.equal([300]);
    expect(data.length).to.equal(300);
  });

  it("readIdx reads a plain file and a gzipped one alike", () => {
    const bytes = idxBytes([3], [9, 8, 7]);
    writeFileSync(join(dir, "plain"), bytes);
    writeFileSync(join(dir, "zipped.gz"), gzipSync(bytes));
    expect(Array.from(readIdx(join(dir, "plain")).data)).to.deep.equal([9, 8, 7]);
    expect(Array.from(readIdx(join(dir, "zipped.gz")).data)).to.deep.equal([9, 8, 7]);
  });

  it("a truncated file is reported with the bytes expected and found", () => {
    const path = join(dir, "truncated");
    writeFileSync(path, idxBytes([2, 3], [1, 2, 3, 4]));
    expect(() => readIdx(path)).to.throw(`${path}: truncated: dimensions [2, 3] need 18 bytes, file has 16`);
  });

  it("a truncated header is reported", () => {
    expect(() => parseIdx(idxBytes([2, 3], []).subarray(0, 9), "head")).to.throw(/head: truncated header: rank 2 needs 12 bytes, file has 9/);
  });

  it("trailing bytes after the data mark the file as corrupt", () => {
    expect(() => parseIdx(idxBytes([2], [1, 2, 3]), "long")).to.throw(/long: corrupt: .* 1 bytes more/);
  });

  it("a wrong magic number is reported in hex", () => {
    const bytes = idxBytes([1], [0]);
    bytes[0] = 0x50;
    expect(() => parseIdx(bytes, "x")).to.throw(/x: not an IDX file: magic number 0x50000801/);
  });

  it("a data type other than unsigned bytes is refused by name", () => {
    expect(() => parseIdx(idxBytes([1], [0, 0, 0, 0], 0x0d), "floats")).to.throw(/floats: unsupported IDX data type 0x0d/);
  });

  it("a file shorter than the magic number is not an IDX file", () => {
    expect(() => parseIdx(new Uint8Array([0, 0]), "tiny")).to.throw(/tiny: not an IDX file: 2 bytes/);
  });

  it("a missing file is reported by path", () => {
    expect(() => readIdx(join(dir, "nope"))).to.throw(/nope: cannot read MNIST file \(ENOENT\)/);
  });

  it("corrupt gzip data is reported by path", () => {
    const path = join(dir, "bad.gz");
    writeFileSync(path, Buffer.from([0x1f, 0x8b, 1, 2, 3]));
    expect(() => readIdx(path)).to.throw(/bad\.gz: corrupt gzip data/);
  });
});
