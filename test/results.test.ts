import { expect } from "chai";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { recordResults, resultsDir } from "../dist";

describe("results", () => {
  let dir: string;
  let saved: string | undefined;

  beforeEach(() => {
    saved = process.env.ADVLAB_RESULTS_DIR;
    dir = mkdtempSync(join(tmpdir(), "advlab-results-"));
    process.env.ADVLAB_RESULTS_DIR = dir;
  });

  afterEach(() => {
    if (saved === undefined) delete process.env.ADVLAB_RESULTS_DIR;
    else process.env.ADVLAB_RESULTS_DIR = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  it("recordResults writes <notebook>.json in ADVLAB_RESULTS_DIR and returns its path", () => {
    const path = recordResults("t1-write", { testAccuracy: 0.9496, testCorrect: 9496 });
    expect(path).to.equal(join(dir, "t1-write.json"));
    expect(JSON.parse(readFileSync(path, "utf8"))).to.deep.equal({ testAccuracy: 0.9496, testCorrect: 9496 });
  });

  it("merges later values into the same record, replacing keys recorded again", () => {
    recordResults("t2-merge", { a: 1, b: 2 });
    const path = recordResults("t2-merge", { b: 3, c: [1, 2] });
    expect(JSON.parse(readFileSync(path, "utf8"))).to.deep.equal({ a: 1, b: 3, c: [1, 2] });
  });

  it("stores typed arrays and nested matrices as plain JSON arrays", () => {
    const path = recordResults("t3-arrays", { rates: Float64Array.of(0.5, 0.25), confusion: [Uint32Array.of(1, 2), Uint32Array.of(3, 4)] });
    expect(JSON.parse(readFileSync(path, "utf8"))).to.deep.equal({ rates: [0.5, 0.25], confusion: [[1, 2], [3, 4]] });
  });

  it("refuses NaN and undefined, naming the value, and writes nothing for that call", () => {
    expect(() => recordResults("t4-bad", { rates: [0.5, NaN] })).to.throw(/t4-bad\.rates\[1\] is NaN/);
    expect(() => recordResults("t4-bad", { x: undefined })).to.throw(/t4-bad\.x cannot be stored as JSON/);
    expect(() => readFileSync(join(dir, "t4-bad.json"))).to.throw();
  });

  it("refuses notebook names that are not plain file names", () => {
    expect(() => recordResults("../escape", { a: 1 })).to.throw(/notebook must be a file name/);
    expect(() => recordResults("", { a: 1 })).to.throw(/notebook must be a file name/);
  });

  it("defaults to build/results under the project root when ADVLAB_RESULTS_DIR is unset", () => {
    delete process.env.ADVLAB_RESULTS_DIR;
    expect(resultsDir()).to.equal(join(__dirname, "..", "build", "results"));
  });
});
