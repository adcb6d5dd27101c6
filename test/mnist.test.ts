import { expect } from "chai";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadMnist, mnistDir } from "../dist";

function idx(dims: number[], data: Uint8Array, type = 0x08): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = type;
  header[3] = dims.length;
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, Buffer.from(data)]);
}

/** A folder with four small MNIST-shaped files: `train` training images, `test` test images. */
function fakeMnist(train: number, test: number, overrides: Record<string, Buffer> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "mnist-test-"));
  const pixels = (n: number) => Uint8Array.from({ length: n * 784 }, (_, i) => i % 256);
  const labels = (n: number) => Uint8Array.from({ length: n }, (_, i) => i % 10);
  const files: Record<string, Buffer> = {
    "train-images-idx3-ubyte": idx([train, 28, 28], pixels(train)),
    "train-labels-idx1-ubyte": idx([train], labels(train)),
    "t10k-images-idx3-ubyte": idx([test, 28, 28], pixels(test)),
    "t10k-labels-idx1-ubyte": idx([test], labels(test)),
    ...overrides,
  };
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(dir, name), bytes);
  return dir;
}

describe("mnist", () => {
  it("loadMnist() splits the real files 50,000 / 10,000 / 10,000 with pixels in [0, 1]", () => {
    const { training, validation, test } = loadMnist();
    expect([training.length, validation.length, test.length]).to.deep.equal([50_000, 10_000, 10_000]);
    expect(training.images).to.be.instanceOf(Float32Array);
    expect(training.images.length).to.equal(50_000 * 784);
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of test.images) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    expect([lo, hi]).to.deep.equal([0, 1]);
    expect(test.image(0).length).to.equal(784);
  });

  it("the validation split is the last 10,000 images of the training file", () => {
    const dir = fakeMnist(10_003, 2);
    const { training, validation } = loadMnist({ dir });
    expect(training.length).to.equal(3);
    expect(validation.length).to.equal(10_000);
    // Label i of the file is i % 10; validation starts at file index 3.
    expect(Array.from(validation.labels.subarray(0, 3))).to.deep.equal([3, 4, 5]);
    expect(validation.image(0)[0]).to.be.closeTo(((3 * 784) % 256) / 255, 1e-7);
  });

  it("the first test labels of the real files are 7, 2, 1, 0, 4", () => {
    expect(Array.from(loadMnist().test.labels.subarray(0, 5))).to.deep.equal([7, 2, 1, 0, 4]);
  });

  it("reads gzipped files when the plain ones are absent", () => {
    const dir = mkdtempSync(join(tmpdir(), "mnist-gz-"));
    const src = fakeMnist(10_001, 3);
    for (const name of ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]) {
      writeFileSync(join(dir, `${name}.gz`), gzipSync(readFileSync(join(src, name))));
    }
    expect(loadMnist({ dir }).test.length).to.equal(3);
  });

  it("a missing file is named, with the way to point at another copy", () => {
    const dir = fakeMnist(10_001, 2);
    const other = mkdtempSync(join(tmpdir(), "mnist-missing-"));
    copyFileSync(join(dir, "train-images-idx3-ubyte"), join(other, "train-images-idx3-ubyte"));
    expect(() => loadMnist({ dir: other })).to.throw(/train-labels-idx1-ubyte: MNIST file not found .*MNIST_DIR/);
  });

  it("images and labels that disagree in count are reported with both files", () => {
    const dir = fakeMnist(10_001, 2, { "t10k-labels-idx1-ubyte": idx([3], Uint8Array.of(1, 2, 3)) });
    expect(() => loadMnist({ dir })).to.throw(/t10k-images-idx3-ubyte has 2 images but .*t10k-labels-idx1-ubyte has 3 labels/);
  });

  it("a truncated image file is reported by name", () => {
    const full = idx([2, 28, 28], new Uint8Array(2 * 784));
    const dir = fakeMnist(10_001, 2, { "t10k-images-idx3-ubyte": full.subarray(0, full.length - 100) });
    expect(() => loadMnist({ dir })).to.throw(/t10k-images-idx3-ubyte: truncated/);
  });

  it("images that are not 28x28 are refused with their shape", () => {
    const dir = fakeMnist(10_001, 2, { "t10k-images-idx3-ubyte": idx([2, 10, 10], new Uint8Array(200)) });
    expect(() => loadMnist({ dir })).to.throw(/expected images of shape \[n, 28, 28\], got \[2, 10, 10\]/);
  });

  it("images of 784 pixels in another shape ([n, 784, 1]) are refused too", () => {
    const dir = fakeMnist(10_001, 2, { "t10k-images-idx3-ubyte": idx([2, 784, 1], new Uint8Array(2 * 784)) });
    expect(() => loadMnist({ dir })).to.throw(/t10k-images-idx3-ubyte: expected images of shape \[n, 28, 28\], got \[2, 784, 1\]/);
  });

  it("a gzip bomb in place of an image file fails fast, naming the file", () => {
    const dir = fakeMnist(10_001, 2);
    const member = gzipSync(Buffer.alloc(1 << 20), { level: 9 });
    const bomb = Buffer.concat([gzipSync(idx([2, 28, 28], new Uint8Array(0))), ...new Array(500).fill(member)]);
    rmSync(join(dir, "t10k-images-idx3-ubyte"));
    writeFileSync(join(dir, "t10k-images-idx3-ubyte.gz"), bomb);
    expect(() => loadMnist({ dir })).to.throw(/t10k-images-idx3-ubyte\.gz: corrupt: dimensions \[2, 28, 28\] need 1584 bytes, but the gzip data inflates to more/);
  });

  it("a label above 9 is refused with its index", () => {
    const dir = fakeMnist(10_001, 2, { "t10k-labels-idx1-ubyte": idx([2], Uint8Array.of(3, 12)) });
    expect(() => loadMnist({ dir })).to.throw(/label 1 is 12, not a digit/);
  });

  it("MNIST_DIR points the loader at another copy", () => {
    const dir = fakeMnist(10_002, 4);
    const saved = process.env.MNIST_DIR;
    process.env.MNIST_DIR = dir;
    try {
      expect(mnistDir()).to.equal(dir);
      expect(loadMnist().test.length).to.equal(4);
    } finally {
      if (saved === undefined) delete process.env.MNIST_DIR;
      else process.env.MNIST_DIR = saved;
    }
  });
});
