import { expect } from "chai";
import { l0Distances, l2Distance, l2Distances, linfDistances } from "../dist";

describe("norms", () => {
  const a = Float64Array.of(0, 0, 0, 1, 1, 1);
  const b = Float64Array.of(0, 0.5, 0, 1, 0, 0.5);
  it("measure L0, L2 and L-inf per image", () => {
    expect(Array.from(l0Distances(a, b, 3))).to.deep.equal([1, 2]);
    expect(Array.from(l2Distances(a, b, 3))).to.deep.equal([0.5, Math.sqrt(1.25)]);
    expect(Array.from(linfDistances(a, b, 3))).to.deep.equal([0.5, 1]);
    expect(l2Distance([3, 0], [0, 4])).to.equal(5);
  });
  it("refuse arrays of different lengths or not whole images, naming the function", () => {
    expect(() => l2Distances(a, b.subarray(1), 3)).to.throw(/l2Distances: the two image arrays differ in length \(6 and 5\)/);
    expect(() => linfDistances(a, b, 4)).to.throw(/linfDistances: 6 numbers are not a whole number of 4-number images/);
  });
});
