import { expect } from "chai";
import { distances, l0Distances, l2Distance, l2Distances, linfDistances } from "../dist";

describe("norms", () => {
  const a = Float64Array.of(0, 0, 0, 1, 1, 1);
  const b = Float64Array.of(0, 0.5, 0, 1, 0, 0.5);
  it("measure L0, L2 and L-inf per image", () => {
    expect(Array.from(l0Distances(a, b, 3))).to.deep.equal([1, 2]);
    expect(Array.from(l2Distances(a, b, 3))).to.deep.equal([0.5, Math.sqrt(1.25)]);
    expect(Array.from(linfDistances(a, b, 3))).to.deep.equal([0.5, 1]);
    expect(l2Distance([3, 0], [0, 4])).to.equal(5);
  });
  it("distances gives the three in one pass, to the bit, on float32 and float64 images alike", () => {
    // Seeded pseudo-random images with many unchanged pixels, as an attack leaves them.
    let state = 7;
    const next = () => (state = (1103515245 * state + 12345) % 2147483648) / 2147483648;
    const clean = Float32Array.from({ length: 50 * 784 }, () => (next() < 0.8 ? 0 : next()));
    const adv = clean.map((x) => (next() < 0.5 ? x : Math.min(1, Math.max(0, x + (next() < 0.5 ? -0.1 : 0.1)))));
    for (const [x, y] of [[adv, clean], [Float64Array.from(adv), Float64Array.from(clean)], [adv, Float64Array.from(clean)]] as const) {
      const all = distances(x, y, 784);
      expect(all.l0).to.deep.equal(l0Distances(x, y, 784));
      expect(all.l2).to.deep.equal(l2Distances(x, y, 784));
      expect(all.linf).to.deep.equal(linfDistances(x, y, 784));
      expect(Array.from(all.l0).some((c, i) => c > 0 && c < 784 && all.linf[i] > 0)).to.equal(true);
    }
    expect(Array.from(distances(a, b, 3, 0.6).l0)).to.deep.equal([0, 1]);
    const withNaN = distances([NaN, 0], [0, 0], 2);
    expect([withNaN.l0[0], withNaN.l2[0], withNaN.linf[0]]).to.deep.equal([0, NaN, NaN]);
  });
  it("refuse arrays of different lengths or not whole images, naming the function", () => {
    expect(() => l2Distances(a, b.subarray(1), 3)).to.throw(/l2Distances: the two image arrays differ in length \(6 and 5\)/);
    expect(() => linfDistances(a, b, 4)).to.throw(/linfDistances: 6 numbers are not a whole number of 4-number images/);
  });
});
