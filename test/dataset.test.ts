import { expect } from "chai";
import { firstNonFiniteIndex, knownFinite } from "../dist/util/validate";
import { concatDatasets, makeDataset, oneHot, sliceDataset } from "../dist";

describe("dataset", () => {
  const a = makeDataset(Float32Array.from({ length: 2 * 784 }, (_, i) => i / 2000), Uint8Array.of(3, 7));
  const b = makeDataset(new Float64Array(784).fill(0.5), Uint8Array.of(1));

  it("image(i) is a view of image i's 784 pixels", () => {
    expect(a.image(1).length).to.equal(784);
    expect(a.image(1)[0]).to.equal(a.images[784]);
    expect(a.image(1).buffer).to.equal(a.images.buffer);
  });

  it("image(i) out of range names the valid range", () => {
    expect(() => a.image(2)).to.throw(/image index must be a whole number from 0 to 1, got 2/);
  });

  it("makeDataset refuses pixels that do not match the labels", () => {
    expect(() => makeDataset(new Float32Array(783), Uint8Array.of(1))).to.throw(/1 labels need 784 pixels \(784 each\), got 783/);
  });

  it("makeDataset refuses a label outside 0..9", () => {
    expect(() => makeDataset(new Float32Array(784), Uint8Array.of(10))).to.throw(/dataset label 0 must be a whole number from 0 to 9, got 10/);
  });

  it("concatDatasets keeps every image and label in order", () => {
    const c = concatDatasets(a, b);
    expect(c.length).to.equal(3);
    expect(Array.from(c.labels)).to.deep.equal([3, 7, 1]);
    expect(c.image(2)[100]).to.equal(0.5);
    expect(c.image(1)[5]).to.equal(a.image(1)[5]);
  });

  it("sliceDataset views a range without copying", () => {
    const s = sliceDataset(a, 1, 2);
    expect(s.length).to.equal(1);
    expect(s.labels[0]).to.equal(7);
    expect(s.images.buffer).to.equal(a.images.buffer);
    expect(() => sliceDataset(a, 1, 5)).to.throw(/range 1..5 is not within 0..2/);
  });

  it("a dataset's images are checked once: views into them are known finite, other element types over the same bytes are not", () => {
    const images = Float32Array.from({ length: 3 * 784 }, (_, i) => (i % 7) / 7);
    const data = makeDataset(images, Uint8Array.of(1, 2, 3));
    expect(knownFinite(data.images)).to.equal(true);
    expect(knownFinite(data.images.subarray(784, 2 * 784))).to.equal(true);
    expect(knownFinite(new Uint32Array(data.images.buffer, 0, 10))).to.equal(false);
    expect(knownFinite(Float32Array.from(data.images))).to.equal(false);
  });

  it("firstNonFiniteIndex finds the first NaN or infinity, or -1; makeDataset and concatDatasets name it", () => {
    const x = Float32Array.from({ length: 5000 }, (_, i) => (i % 13) / 13);
    expect(firstNonFiniteIndex(x)).to.equal(-1);
    expect(firstNonFiniteIndex([])).to.equal(-1);
    for (const bad of [NaN, Infinity, -Infinity]) {
      const y = x.slice();
      y[4321] = bad;
      y[4999] = NaN;
      expect(firstNonFiniteIndex(y)).to.equal(4321);
      expect(firstNonFiniteIndex(Float64Array.from(y))).to.equal(4321);
    }
    const images = new Float32Array(2 * 784);
    images[784 + 9] = NaN;
    expect(() => makeDataset(images, Uint8Array.of(1, 2))).to.throw(/dataset: image 1 pixel 9 is NaN, not a finite number/);
    // A float64 pixel beyond float32's range is finite in its own set but not in the float32 copy.
    const huge = makeDataset(Float64Array.from({ length: 784 }, (_, i) => (i === 5 ? 1e300 : 0)), Uint8Array.of(4));
    expect(() => concatDatasets(a, huge)).to.throw(/dataset: image 2 pixel 5 is Infinity, not a finite number/);
  });

  it("oneHot(3) has a single 1 at index 3", () => {
    expect(Array.from(oneHot(3))).to.deep.equal([0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    expect(() => oneHot(10)).to.throw(/label must be a whole number from 0 to 9, got 10/);
  });
});
