import { expect } from "chai";
import { drawPairs, gatherImages, loadMnist, createRng } from "../dist";

describe("experiment protocol", () => {
  const { test } = loadMnist();

  it("gatherImages copies the images and labels at the given indices, in order", () => {
    const g = gatherImages(test, [5, 0, 9]);
    expect(Array.from(g.labels)).to.deep.equal([test.labels[5], test.labels[0], test.labels[9]]);
    expect(Array.from(g.image(1))).to.deep.equal(Array.from(test.image(0)));
    expect(() => gatherImages(test, [10000])).to.throw(/indices\[0\] must be a whole number from 0 to 9999, got 10000/);
  });

  it("drawPairs draws index then goal from one seeded stream, the goal never the true label", () => {
    const p = drawPairs(test, 500, { seed: 3 });
    const rng = createRng(3);
    for (let k = 0; k < 500; k++) {
      const index = rng.int(test.length);
      const goal = (test.labels[index] + 1 + rng.int(9)) % 10;
      expect(p.indices[k]).to.equal(index);
      expect(p.goals[k]).to.equal(goal);
      expect(p.goals[k]).to.not.equal(p.labels[k]);
    }
    expect(Array.from(p.images.subarray(784, 2 * 784))).to.deep.equal(Array.from(test.image(p.indices[1])));
  });

  it("with accept, rejected draws are spent and skipped", () => {
    const evens = drawPairs(test, 50, { seed: 1, accept: (i) => test.labels[i] % 2 === 0 });
    expect(Array.from(evens.labels).every((y) => y % 2 === 0)).to.equal(true);
    expect(() => drawPairs(test, 2, { seed: 1, accept: () => false })).to.throw(/accept\(\) rejected/);
  });
});
