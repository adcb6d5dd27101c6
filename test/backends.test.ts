import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { backendName, loadMnist, Network, setBackend } from "../dist";
import { nativeKernelsOrWhy } from "../dist/kernels/native";
import { ROOT } from "./support/reference";

/** Runs `code` in a fresh Node process with the library at `dist` as `l`; stdout, stderr, status. */
function fresh(code: string, env: NodeJS.ProcessEnv = {}, dist = join(ROOT, "dist")) {
  const vars = { ...process.env, ...env };
  if (!("ADVLAB_BACKEND" in env)) delete vars.ADVLAB_BACKEND;
  return spawnSync(process.execPath, ["-e", `const l = require(${JSON.stringify(dist)}); ${code}`], { encoding: "utf8", env: vars });
}

describe("choosing a backend", () => {
  const first = backendName();
  afterEach(() => setBackend(first));

  it("the default is native when its module is built, else wasm", () => {
    const r = fresh("console.log(l.backendName())");
    expect(r.stdout.trim()).to.equal(nativeKernelsOrWhy().available ? "native" : "wasm");
  });

  it("without the native module the default is wasm, and the library says why once", () => {
    // A copy of dist/ with no build/Release/advlab_native.node beside it (node_modules still resolve from here).
    const copy = join(ROOT, "build", "test-no-native");
    rmSync(copy, { recursive: true, force: true });
    mkdirSync(copy, { recursive: true });
    cpSync(join(ROOT, "dist"), join(copy, "dist"), { recursive: true });
    try {
      const r = fresh("const n = new l.Network([4, 3], { seed: 1 }); n.forward(new Float32Array(8)); n.forward(new Float32Array(4)); console.log(l.backendName(), l.kernelVariant())",
        {}, join(copy, "dist"));
      expect(r.status, r.stderr).to.equal(0);
      expect(r.stdout.trim()).to.match(/^wasm (fma|plain)$/);
      const notes = r.stderr.split("\n").filter((line) => line.includes("using the WebAssembly kernels"));
      expect(notes.length).to.equal(1);
      expect(notes[0]).to.match(/advlab_native\.node is not built \(`npm run build:native` builds it/);
      const asked = fresh("l.setBackend('native')", {}, join(copy, "dist"));
      expect(asked.status).to.not.equal(0);
      expect(asked.stderr).to.match(/backend "native" is not available here: .*advlab_native\.node is not built.*\(available: "wasm", "reference"\)/);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  it("setBackend switches, and the kernels and the float64 reference agree on a forward pass up to float32 rounding", () => {
    setBackend("wasm");
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

  it("refuses an unknown name, saying which names there are", () => {
    expect(() => setBackend("gpu" as never)).to.throw(/backend must be one of "native", "wasm", "reference", got "gpu"/);
  });

  it("ADVLAB_BACKEND chooses in a fresh process, and a wrong value is named", () => {
    const run = (value: string) => fresh("console.log(l.backendName())", { ADVLAB_BACKEND: value });
    expect(run("reference").stdout.trim()).to.equal("reference");
    expect(run("wasm").stdout.trim()).to.equal("wasm");
    if (nativeKernelsOrWhy().available) expect(run("native").stdout.trim()).to.equal("native");
    const bad = run("gpu");
    expect(bad.status).to.not.equal(0);
    expect(bad.stderr).to.match(/ADVLAB_BACKEND must be one of "native", "wasm", "reference", got "gpu"/);
  });
});
