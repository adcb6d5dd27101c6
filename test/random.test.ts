import { expect } from "chai";
import { nativeIsaLevels } from "./support/native";
import { randomLcg, randomNormal } from "d3-random";
import { shuffler } from "d3-array";
import { mean, deviation } from "d3-array";
import { createRng } from "../dist";
import { LCG_EPS, lcgJump } from "../dist/util/random";
import { nativeKernelsOrWhy, NATIVE_PATH } from "../dist/kernels/native";
import { execFileSync } from "node:child_process";
import { join } from "node:path";

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

  it("lcgJump(state, k) is k steps of the stream, and claimUniforms moves the stream past what it claims", () => {
    for (const seed of [0, 3, 2 ** 32 - 1]) {
      const state = createRng(seed).claimUniforms(0);
      for (const k of [0, 1, 2, 7, 1000, 65_537]) {
        const stepped = createRng(seed);
        for (let i = 0; i < k; i++) stepped.uniform();
        const next = stepped.uniform();
        // The (k+1)-th uniform is the state k + 1 steps on, over 2^32.
        expect(LCG_EPS * (lcgJump(state, k + 1) >>> 0), `seed ${seed}, k ${k}`).to.equal(next);
        const claimed = createRng(seed);
        expect(claimed.claimUniforms(k)).to.equal(state);
        expect(claimed.uniform()).to.equal(next);
      }
    }
  });

  describe("native draws (native/draws.h)", () => {
    // A fresh process per instruction set: the module picks its draws when it loads.
    const script = `
      const { createRng, useNormalPairs } = require(${JSON.stringify(join(__dirname, "..", "dist", "util", "random"))});
      const addon = require(${JSON.stringify(NATIVE_PATH)});
      let compared = 0, differ = 0;
      for (const seed of [0, 1, 7, 123456789, 4294967295]) for (const [mu, sigma] of [[0.5, 0.3], [0, 1], [-0, 1], [2, 1e-3], [NaN, 1], [0, Infinity], [-Infinity, 0]])
        for (const T of [Float32Array, Float64Array]) for (const n of [0, 63, 64, 65, 1000, 784 * 40 + 1]) for (const kept of [false, true]) {
          const draw = (f) => {
            useNormalPairs(f);
            const rng = createRng(seed), out = new T(n);
            if (kept) rng.normal();
            rng.fillNormal(out, mu, sigma);
            return [...out, rng.uniform(), rng.normal()];
          };
          const js = draw(null), native = draw(addon.normalPairs);
          compared += js.length;
          for (let i = 0; i < js.length; i++) if (!Object.is(js[i], native[i])) differ++;
        }
      console.log(JSON.stringify({ isa: addon.isa(), compared, differ }));`;
    const native = nativeKernelsOrWhy();
    const levels = nativeIsaLevels();
    for (const isa of levels) {
      it(`on ${isa}, fillNormal's numbers and the stream after them are JavaScript's, bit for bit`, () => {
        const r = JSON.parse(execFileSync(process.execPath, ["-e", script], { encoding: "utf8", env: { ...process.env, ADVLAB_NATIVE_ISA: isa } }));
        expect(r.isa).to.equal(isa);
        expect(r.compared).to.be.above(2_000_000);
        expect(r.differ).to.equal(0);
      });
    }
    if (native.available) {
      it("normalPairs refuses an out it cannot fill, naming the argument", () => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const addon = require(NATIVE_PATH) as { normalPairs: (...a: unknown[]) => number };
        expect(() => addon.normalPairs(new Uint8Array(8), 0, 1, 0, 0, 1)).to.throw(/normalPairs: out must be a Float32Array or a Float64Array/);
        expect(() => addon.normalPairs(new Float32Array(8), 3, 3, 0, 0, 1)).to.throw(/6 numbers from 3 pass the end of out \(8 numbers\)/);
        expect(() => addon.normalPairs(new Float32Array(8), 0.5, 1, 0, 0, 1)).to.throw(/start must be a whole number >= 0, got 0.5/);
        expect(() => addon.normalPairs(new Float32Array(8), 0, 1, 2 ** 33, 0, 1)).to.throw(/state must be a 32-bit whole number/);
        expect(() => addon.normalPairs(new Float32Array(8), 0, 1)).to.throw(/expected 6 arguments/);
      });
    }
  });
});
