/**
 * The package as a researcher gets it: `npm pack` here (which builds, through `prepack`), then
 * `npm install <tarball>` in an empty folder elsewhere, then the library imported by name from a
 * script (ESM and CommonJS) and from a tslab notebook, with the WebAssembly kernels and their
 * worker found inside node_modules. Dependencies come from the npm cache where it has them
 * (`--prefer-offline`), from the registry otherwise.
 */
import { expect } from "chai";
import { spawnSync, SpawnSyncReturns } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { findPython } from "../scripts/kernel";

const ROOT = resolve(__dirname, "..");
const NPM = process.platform === "win32" ? "npm.cmd" : "npm";

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { cwd, env, encoding: "utf8", timeout: 240_000 });
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(" ")} (in ${cwd}) exited ${r.status ?? r.signal}:\n${r.stdout}\n${r.stderr}`);
  }
  return r;
}

describe("package: npm pack, then install in another folder", function () {
  this.timeout(600_000);
  const work = mkdtempSync(join(tmpdir(), "advlab-package-"));
  const exp = join(work, "experiment");
  let tarball = "";
  let files: string[] = [];
  after(() => rmSync(work, { recursive: true, force: true }));

  before(() => {
    // `npm pack` runs `prepack` (npm run build) first; --json lists what went into the tarball.
    const stdout = run(NPM, ["pack", "--json", "--pack-destination", work], ROOT).stdout;
    const packed = JSON.parse(stdout.slice(stdout.search(/^\[$/m)));   // the build's output comes first
    tarball = join(work, packed[0].filename);
    files = packed[0].files.map((f: { path: string }) => f.path);
    mkdirSync(exp);
    writeFileSync(join(exp, "package.json"), JSON.stringify({ name: "my-experiment", private: true, version: "0.0.0" }));
    run(NPM, ["install", "--prefer-offline", "--no-audit", "--no-fund", tarball], exp);
  });

  it("the tarball holds the compiled library, the kernels (WebAssembly, and the native sources) and their worker, the networks and the docs, and no tests", () => {
    for (const f of ["package.json", "README.md", "environment.md", "dist/index.js", "dist/index.d.ts",
      "dist/kernels/kernels.wasm", "dist/kernels/kernels-fma.wasm", "dist/kernels/worker.js",
      "data/network-784-30-10.json", "data/network-784-100-10.json", "notebooks/01-predict.ipynb",
      "binding.gyp", "native/addon.cc", "native/kernels_impl.h", "scripts/build-native.mjs"]) {
      expect(files, f).to.include(f);
    }
    expect(files.filter((f) => f.startsWith("test/") || f.startsWith("node_modules/") || f.startsWith("build/"))).to.deep.equal([]);
  });

  it("an ES module script imports { loadMnist, Network } from \"adversarial-lab\" and runs the fast kernels on worker threads", () => {
    writeFileSync(join(exp, "run.mjs"), `
      import { createRequire } from "node:module";
      import { loadMnist, Network, evaluateBatch, kernelVariant, getThreads, backendName } from "adversarial-lab";
      const require = createRequire(import.meta.url);
      const { training, test } = loadMnist();
      const net = Network.load(require.resolve("adversarial-lab/data/network-784-30-10.json"));
      console.log(JSON.stringify({ training: training.length, correct: net.evaluate(test), batch: evaluateBatch(net, test),
        backend: backendName(), variant: kernelVariant(), threads: getThreads(), from: require.resolve("adversarial-lab") }));`);
    // The installed package's own default backend (whatever backend this suite runs on).
    const out = JSON.parse(run(process.execPath, ["run.mjs"], exp, { ...process.env, ADVLAB_THREADS: "2", ADVLAB_BACKEND: "" }).stdout);
    expect(out).to.deep.include({ training: 50_000, correct: 9463, batch: 9463, threads: 2 });
    // npm install built the native kernels inside the installed package (g++ is on this machine), and they run.
    expect(existsSync(join(exp, "node_modules", "adversarial-lab", "build", "Release", "advlab_native.node"))).to.equal(true);
    expect(out.backend).to.equal("native");
    expect(["avx512", "avx2", "sse2", "neon", "generic"]).to.include(out.variant);
    expect(out.from).to.equal(join(exp, "node_modules", "adversarial-lab", "dist", "index.js"));
  });

  it("a CommonJS script requires it too, and trains on the worker threads", () => {
    writeFileSync(join(exp, "run.cjs"), `
      const { loadMnist, Network, sliceDataset } = require("adversarial-lab");
      const { training, test } = loadMnist();
      const net = new Network([784, 30, 10], { seed: 1 });
      const before = net.evaluate(sliceDataset(test, 0, 1000));
      net.sgd(sliceDataset(training, 0, 5000), 1, 10, 3.0, { seed: 1 });
      console.log(JSON.stringify({ before, after: net.evaluate(sliceDataset(test, 0, 1000)) }));`);
    const out = JSON.parse(run(process.execPath, ["run.cjs"], exp, { ...process.env, ADVLAB_THREADS: "2" }).stdout);
    // One epoch on 5,000 images: from chance (about 100 of 1,000) to more than half right.
    expect(out.before).to.be.below(250);
    expect(out.after).to.be.above(500);
  });

  it("a tslab notebook in that folder imports it by name (type-checked against the shipped .d.ts)", () => {
    const python = findPython(["jupyter_client", "nbconvert"]);
    run(process.execPath, [join(exp, "node_modules", "tslab", "bin", "tslab"), "install", `--python=${python}`,
      `--binary=${join(exp, "node_modules", ".bin", "tslab")}`, `--prefix=${join(exp, ".jupyter")}`], exp);
    const cells = [
      'import { loadMnist, Network, evaluateBatch } from "adversarial-lab";\n' +
        'const { test } = loadMnist();\nconst net: Network = Network.load(require.resolve("adversarial-lab/data/network-784-30-10.json"));',
      "console.log(JSON.stringify({ correct: evaluateBatch(net, test), sizes: net.sizes }));",
    ];
    writeFileSync(join(exp, "experiment.ipynb"), JSON.stringify({
      nbformat: 4, nbformat_minor: 5,
      metadata: { kernelspec: { name: "tslab", display_name: "TypeScript", language: "typescript" } },
      cells: cells.map((source, i) => ({ id: `c${i}`, cell_type: "code", metadata: {}, execution_count: null, outputs: [], source })),
    }));
    const env = { ...process.env, JUPYTER_PATH: join(exp, ".jupyter", "share", "jupyter") };
    run(python, ["-m", "nbconvert", "--to", "notebook", "--execute", "experiment.ipynb", "--output", "executed.ipynb"], exp, env);
    const nb = JSON.parse(readFileSync(join(exp, "executed.ipynb"), "utf8")) as { cells: { outputs: { text?: string | string[] }[] }[] };
    const printed = nb.cells.flatMap((c) => c.outputs).map((o) => [o.text ?? ""].flat().join("")).join("");
    expect(JSON.parse(printed)).to.deep.equal({ correct: 9463, sizes: [784, 30, 10] });
    expect(readdirSync(join(exp, "node_modules", "adversarial-lab", "dist", "kernels")).filter((f) => f.endsWith(".wasm")).sort())
      .to.deep.equal(["kernels-fma.wasm", "kernels.wasm"]);
  });
});
