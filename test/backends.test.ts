import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { backendName, loadMnist, Network, setBackend } from "../dist";
import { ROOT } from "./support/reference";

describe("choosing a backend", () => {
  afterEach(() => setBackend("wasm"));

  it("wasm is the default; setBackend switches, and the two agree on a forward pass up to float32 rounding", () => {
    expect(backendName()).to.equal("wasm");
    const net = new Network([784, 30, 10], { seed: 1 });
    const images = loadMnist().test.images.subarray(0, 5 * 784);
    const fast = net.forward(images);
    setBackend("reference");
    expect(backendName()).to.equal("reference");
    const slow = net.forward(images);
    expect(fast).to.be.instanceOf(Float32Array);
    expect(slow).to.be.instanceOf(Float64Array);
    slow.forEach((v, i) => expect(fast[i]).to.be.closeTo(v, 1e-5));
  });

  it("refuses an unknown name and a backend that is not built here, saying which are", () => {
    expect(() => setBackend("gpu" as never)).to.throw(/backend must be one of "native", "wasm", "reference", got "gpu"/);
    expect(() => setBackend("native")).to.throw(/backend "native" is not available here \(available: "reference", "wasm"\)/);
  });

  it("ADVLAB_BACKEND chooses in a fresh process, and a wrong value is named", () => {
    const run = (value: string) => spawnSync(process.execPath, ["-e", `const l = require(${JSON.stringify(join(ROOT, "dist"))}); console.log(l.backendName());`],
      { encoding: "utf8", env: { ...process.env, ADVLAB_BACKEND: value } });
    expect(run("reference").stdout.trim()).to.equal("reference");
    const bad = run("gpu");
    expect(bad.status).to.not.equal(0);
    expect(bad.stderr).to.match(/ADVLAB_BACKEND must be one of "native", "wasm", "reference", got "gpu"/);
  });
});
