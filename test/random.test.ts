import { expect } from "chai";
import { randomLcg, randomNormal } from "d3-random";
import { shuffler } from "d3-array";
import { mean, deviation } from "d3-array";
import { createRng } from "../dist";

describe("random", () => {
  it("the same seed gives the same stream", () => {
    const a = createRng(42);
    const b = createRng(42);
    const draw = (r: ReturnType<typeof createRng>) => [r.uniform(), r.normal(), r.int(10), r.normal(0.5, 0.3)];
    expect(draw(a)).to.deep.equal(draw(b));
  });

  it("different seeds give different streams", () => {
    expect(createRng(1).uniform()).to.not.equal(createRng(2).uniform());
  });

  it("normal(0.5, 0.3) has about that mean and deviation over 20,000 draws", () => {
    const r = createRng(3);
    const xs = Array.from({ length: 20_000 }, () => r.normal(0.5, 0.3));
    expect(mean(xs)).to.be.closeTo(0.5, 0.01);
    expect(deviation(xs)).to.be.closeTo(0.3, 0.01);
  });

  it("int(10) covers 0..9 evenly", () => {
    const r = createRng(4);
    const counts = new Array(10).fill(0);
    for (let i = 0; i < 10_000; i++) counts[r.int(10)]++;
    for (const c of counts) expect(c).to.be.within(900, 1100);
  });

  it("shuffle permutes in place", () => {
    const xs = Uint32Array.from({ length: 100 }, (_, i) => i);
    createRng(5).shuffle(xs);
    expect(Array.from(xs).sort((p, q) => p - q)).to.deep.equal(Array.from({ length: 100 }, (_, i) => i));
    expect(Array.from(xs)).to.not.deep.equal(Array.from({ length: 100 }, (_, i) => i));
  });

  it("a seed that is not a non-negative whole number is refused", () => {
    expect(() => createRng(-1)).to.throw(/seed must be a non-negative whole number, got -1/);
    expect(() => createRng(1.5)).to.throw(/got 1.5/);
  });

  it("draws d3-random's numbers bit for bit: uniform, fillUniform, normal, fillNormal (odd, even, after a kept half-pair), int and shuffle interleaved", () => {
    for (const seed of [0, 1, 7, 123456789]) {
      const rng = createRng(seed);
      const uniform = randomLcg(seed);
      const standard = randomNormal.source(uniform)(0, 1);
      const shuffle = shuffler(uniform);
      const ours: number[] = [], theirs: number[] = [];
      for (let round = 0; round < 200; round++) {
        const kind = round % 7;
        if (kind === 0) { ours.push(rng.uniform()); theirs.push(uniform()); }
        if (kind === 1) { ours.push(rng.normal(0.5, 0.3)); theirs.push(0.5 + 0.3 * standard()); }
        if (kind === 2 || kind === 3) {
          const n = kind === 2 ? 7 : 10;
          const out = new Float64Array(n);
          rng.fillNormal(out, 0.5, 0.3);
          ours.push(...out);
          for (let i = 0; i < n; i++) theirs.push(0.5 + 0.3 * standard());
        }
        if (kind === 4) { ours.push(rng.int(10)); theirs.push(Math.floor(uniform() * 10)); }
        if (kind === 5) { ours.push(...rng.shuffle([1, 2, 3, 4, 5])); theirs.push(...shuffle([1, 2, 3, 4, 5])); }
        if (kind === 6) {
          const out = new Float64Array(9);
          rng.fillUniform(out);
          ours.push(...out);
          for (let i = 0; i < 9; i++) theirs.push(uniform());
        }
      }
      expect(Float64Array.from(ours)).to.deep.equal(Float64Array.from(theirs));
    }
  });
});
