import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { parseIdx, readIdx } from "../dist";

const IDX_JS = resolve(__dirname, "..", "dist", "data", "idx.js");

/**
 * A gzip bomb: `head` gzipped, then `megabytes` gzip members of 1 MB of zeros each (about 1 KB
 * apiece). Concatenated members are one valid gzip stream, so 3,000 of them (3 MB) inflate to
 * 3 GB, like the 1.5 MB file of the issue that inflated to 3.1 GB.
 */
function gzipBomb(head: Uint8Array, megabytes: number): Buffer {
  const member = gzipSync(Buffer.alloc(1 << 20), { level: 9 });
  return Buffer.concat([gzipSync(head), ...new Array(megabytes).fill(member)]);
}

/**
 * Reads `path` with readIdx in a fresh Node process and reports the error, the time taken and
 * the process's peak resident memory, so an allocation of the inflated size would show.
 */
function readInFreshProcess(path: string): { error: string; ms: number; maxRssMB: number } {
  const script = `
    const { readIdx } = require(${JSON.stringify(IDX_JS)});
    const t0 = process.hrtime.bigint();
    let error = "no error";
    try { readIdx(${JSON.stringify(path)}); } catch (e) { error = e.constructor.name + ": " + e.message; }
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    // VmHWM: this process's own peak resident memory (getrusage's maxRSS can carry the parent's over exec).
    const peakKB = process.platform === "linux"
      ? Number(/VmHWM:\\s+(\\d+)/.exec(require("node:fs").readFileSync("/proc/self/status", "utf8"))[1])
      : process.resourceUsage().maxRSS;
    console.log(JSON.stringify({ error, ms, maxRssMB: peakKB / 1024 }));`;
  const run = spawnSync(process.execPath, ["-e", script], { encoding: "utf8", timeout: 60_000 });
  expect(run.status, run.stderr).to.equal(0);
  return JSON.parse(run.stdout);
}

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

  describe("gzip bombs and oversized files", () => {
    const header = (dims: number[]) => idxBytes(dims, []);

    it("a 3 MB gzip bomb (3 GB of zeros) whose first bytes are no IDX header fails at the header, in a fresh process", () => {
      const path = join(dir, "bomb-bad-magic.gz");
      const bad = Buffer.from("PK\u0003\u0004\u0014\u0000\u0000\u0000", "latin1");
      writeFileSync(path, gzipBomb(bad, 3000));
      expect(statSync(path).size).to.be.below(4_000_000);
      const r = readInFreshProcess(path);
      console.log(`      bad-magic bomb: ${r.ms.toFixed(1)} ms, peak RSS ${r.maxRssMB.toFixed(0)} MB`);
      expect(r.error).to.equal(`Error: ${path}: not an IDX file: magic number 0x504b0304 does not start with two zero bytes`);
      expect(r.ms, "hang guard").to.be.below(5_000);
      expect(r.maxRssMB, "nothing near the 3 GB inflated size was allocated").to.be.below(300);
      rmSync(path);
    });

    it("a bomb under a valid MNIST header is inflated only to the size the header declares", () => {
      const path = join(dir, "bomb-60000.gz");
      writeFileSync(path, gzipBomb(header([60000, 28, 28]), 3000));
      const r = readInFreshProcess(path);
      console.log(`      bomb under [60000, 28, 28]: ${r.ms.toFixed(1)} ms, peak RSS ${r.maxRssMB.toFixed(0)} MB`);
      expect(r.error).to.equal(`Error: ${path}: corrupt: dimensions [60000, 28, 28] need 47040016 bytes, but the gzip data inflates to more (stopped at 47040016)`);
      expect(r.ms, "hang guard").to.be.below(10_000);
      expect(r.maxRssMB, "at most the declared 47 MB and working space").to.be.below(400);
      rmSync(path);
    });

    it("a header declaring more than the gzip data could ever inflate to fails before inflating", () => {
      const bomb = gzipBomb(header([4_000_000, 28, 28]), 30);
      const t0 = Date.now();
      expect(() => parseIdx(bomb, "huge.gz")).to.throw(
        `huge.gz: truncated: dimensions [4000000, 28, 28] need 3136000016 bytes, but ${bomb.length} bytes of gzip data inflate to at most ${bomb.length * 1040}`);
      expect(Date.now() - t0, "hang guard").to.be.below(5_000);
      expect(() => parseIdx(gzipSync(header([0xffffffff, 0xffffffff, 0xffffffff])), "absurd.gz")).to.throw(
        /absurd\.gz: dimensions \[4294967295, 4294967295, 4294967295\] declare more than 2\^53 bytes/);
    });

    it("parseIdx inflates gzipped bytes itself, and refuses trailing data and a cut-off stream", () => {
      const bytes = idxBytes([2, 2], [1, 2, 3, 4]);
      expect(Array.from(parseIdx(gzipSync(bytes), "ok.gz").data)).to.deep.equal([1, 2, 3, 4]);
      expect(() => parseIdx(gzipSync(Buffer.concat([bytes, Buffer.of(5)])), "extra.gz")).to.throw(
        "extra.gz: corrupt: dimensions [2, 2] need 16 bytes, but the gzip data inflates to more (stopped at 16)");
      const big = gzipSync(idxBytes([5000], Array.from({ length: 5000 }, (_, i) => (i * 7919) % 251)));
      expect(() => parseIdx(big.subarray(0, big.length - 100), "cut.gz")).to.throw(/cut\.gz: truncated gzip data \(unexpected end of file\); dimensions \[5000\] need 5008 bytes/);
    });

    it("a plain file whose size disagrees with its header fails before it is read (a sparse 3 GB file)", () => {
      const path = join(dir, "sparse");
      writeFileSync(path, header([60000, 28, 28]));
      truncateSync(path, 3_000_000_000);
      const r = readInFreshProcess(path);
      console.log(`      sparse 3 GB file: ${r.ms.toFixed(1)} ms, peak RSS ${r.maxRssMB.toFixed(0)} MB`);
      expect(r.error).to.equal(`Error: ${path}: corrupt: dimensions [60000, 28, 28] need 47040016 bytes, file has 2952959984 bytes more`);
      expect(r.maxRssMB).to.be.below(300);
      rmSync(path);
    });
  });
});
