import { expect } from "chai";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { feedforwardBatch, makeDataset, Network, sneakyAdversarialBatch } from "../dist";
import { kernelEngine } from "../dist/kernels/pool";
import { nativeKernelsOrWhy } from "../dist/kernels/native";
import { findPython, jupyterEnv, registerKernel, ROOT } from "../scripts/kernel";

/**
 * The kernel engine's lifecycle: interrupting (SIGINT in a script, "Interrupt kernel" in a real
 * tslab kernel), asynchronous calls keeping a script alive, lost workers, memory given back on
 * failure, and the errors that name what went wrong. Most of it runs in fresh processes, since
 * what is tested is how a process behaves. Timings are hang guards, not measurements.
 */

const DIST = join(ROOT, "dist");

/** A training set of `n` images with cheap, deterministic pixels and labels 0..9 in turn. */
const DATA_SOURCE = (n: number) => `
  const n = ${n};
  const images = new Float32Array(n * 784);
  for (let i = 0; i < images.length; i++) images[i] = (i % 997) / 997;
  const data = lib.makeDataset(images, Uint8Array.from({ length: n }, (_, i) => i % 10));`;

interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Date.now() when SIGINT was sent, if it was. */
  sentAt?: number;
}

/**
 * Runs `file` with node; when `interruptAfterMs` is given, sends SIGINT that long after the
 * child prints "ready". Lines of JSON the child prints are in stdout.
 */
function runChild(file: string, options: { interruptAfterMs?: number; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [file], { env: { ...process.env, ...options.env }, stdio: ["ignore", "pipe", "pipe"] });
    const out: ChildResult = { code: null, signal: null, stdout: "", stderr: "" };
    const guard = setTimeout(() => { child.kill("SIGKILL"); reject(new Error(`${file} still ran after ${options.timeoutMs ?? 60_000} ms:\n${out.stdout}${out.stderr}`)); }, options.timeoutMs ?? 60_000);
    child.stdout.on("data", (d) => {
      const before = out.stdout;
      out.stdout += d;
      if (options.interruptAfterMs !== undefined && !before.includes("ready") && out.stdout.includes("ready")) {
        setTimeout(() => { out.sentAt = Date.now(); child.kill("SIGINT"); }, options.interruptAfterMs);
      }
    });
    child.stderr.on("data", (d) => { out.stderr += d; });
    child.on("exit", (code, signal) => {
      clearTimeout(guard);
      out.code = code;
      out.signal = signal;
      resolve(out);
    });
  });
}

/** The JSON lines a child printed, by their "event" field. */
function events(stdout: string): Record<string, Record<string, unknown>> {
  const byEvent: Record<string, Record<string, unknown>> = {};
  for (const line of stdout.split("\n")) {
    if (!line.startsWith("{")) continue;
    const e = JSON.parse(line) as Record<string, unknown>;
    byEvent[String(e.event)] = e;
  }
  return byEvent;
}

describe("engine", () => {
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), "advlab-engine-")); });
  after(() => { rmSync(dir, { recursive: true, force: true }); });
  const script = (name: string, source: string) => {
    const file = join(dir, name);
    writeFileSync(file, source);
    return file;
  };

  describe("a plain script awaiting an asynchronous call", () => {
    it("stays alive until sgdAsync is done (CommonJS): the promise settles and the weights change", async () => {
      const file = script("sgd-async.cjs", `
        const lib = require(${JSON.stringify(DIST)});
        ${DATA_SOURCE(3000)}
        const net = new lib.Network([784, 30, 10], { seed: 1 });
        const w = net.weights[0][0];
        net.sgdAsync(data, 2, 10, 3.0).then(() => console.log(JSON.stringify({ event: "done", changed: net.weights[0][0] !== w })));
        process.on("exit", (code) => console.log(JSON.stringify({ event: "exit", code })));`);
      const r = await runChild(file);
      const e = events(r.stdout);
      expect(e.done, r.stdout + r.stderr).to.deep.include({ changed: true });
      expect(e.exit).to.deep.include({ code: 0 });
    });

    it("stays alive until augmentDataAsync is done (an ES module importing the compiled dist)", async () => {
      const file = script("augment-async.mjs", `
        import lib from ${JSON.stringify(join(DIST, "index.js"))};
        ${DATA_SOURCE(500)}
        const net = new lib.Network([784, 30, 10], { seed: 1 });
        const adv = await lib.augmentDataAsync(net, 300, data, 30, { seed: 1 });
        console.log(JSON.stringify({ event: "done", length: adv.length, pixel: adv.images[1000] }));`);
      const r = await runChild(file);
      expect(r.code, r.stderr).to.equal(0);
      expect(events(r.stdout).done).to.deep.include({ length: 300 });
    });

    it("is not kept alive by an idle engine: a script that used the kernels ends at once", async () => {
      const file = script("idle.cjs", `
        const lib = require(${JSON.stringify(DIST)});
        const net = new lib.Network([784, 30, 10], { seed: 1 });
        (async () => {
          await net.sgdAsync(lib.makeDataset(new Float32Array(20 * 784), new Uint8Array(20)), 1, 10, 1);
          lib.feedforwardBatch(net, new Float32Array(784));
          console.log(JSON.stringify({ event: "end", at: Date.now() }));
        })();`);
      const r = await runChild(file, { timeoutMs: 20_000 });
      expect(r.code, r.stderr).to.equal(0);
      expect(Date.now() - Number(events(r.stdout).end.at)).to.be.below(5000);
    });
  });

  describe("Ctrl-C (SIGINT) in a plain script", () => {
    // The child starts a long call, prints "ready", and is sent SIGINT 1.5 s later (time for the
    // engine's SIGINT watcher thread to start, on a loaded machine). It reports the error, the
    // kernel memory in use before and after, and a short sgd run afterwards.
    const calls: Record<string, string> = {
      "awaited sgdAsync": "await net.sgdAsync(data, 1000, 10, 3.0)",
      "awaited augmentDataAsync": "await lib.augmentDataAsync(net, 20000, data, 1000)",
      "synchronous sgd": "net.sgd(data, 1000, 10, 3.0)",
      "synchronous augmentData": "lib.augmentData(net, 20000, data, 1000)",
    };
    for (const [label, call] of Object.entries(calls)) {
      it(`stops ${label} within about a second with an "interrupted" error, frees its kernel memory, and the next call works`, async function () {
        this.timeout(120_000);
        const file = script(`sigint-${label.replace(/\W+/g, "-")}.cjs`, `
          const lib = require(${JSON.stringify(DIST)});
          const { kernelEngine } = require(${JSON.stringify(join(DIST, "kernels", "pool.js"))});
          ${DATA_SOURCE(20000)}
          const net = new lib.Network([784, 30, 10], { seed: 1 });
          const engine = kernelEngine();
          const before = engine.arena.bytesInUse;
          (async () => {
            console.log("ready");
            try {
              ${call};
              console.log(JSON.stringify({ event: "finished" }));
            } catch (e) {
              console.log(JSON.stringify({ event: "error", message: e.message, at: Date.now(), before, after: engine.arena.bytesInUse }));
            }
            const w = net.weights[0][0];
            net.sgd(lib.makeDataset(images.subarray(0, 100 * 784), data.labels.subarray(0, 100)), 1, 10, 3.0);
            console.log(JSON.stringify({ event: "next", changed: net.weights[0][0] !== w, inUse: engine.arena.bytesInUse }));
          })();`);
        const r = await runChild(file, { interruptAfterMs: 1500 });
        const e = events(r.stdout);
        expect(e.error, r.stdout + r.stderr).to.not.equal(undefined);
        expect(e.error.message).to.match(/interrupted/);
        expect(Number(e.error.at) - r.sentAt!, "ms from SIGINT to the error").to.be.below(3000);
        expect(e.error.after).to.equal(e.error.before);
        expect(e.next).to.deep.include({ changed: true, inUse: e.error.before });
        expect(r.code).to.equal(0);
      });
    }

    it("a synchronous run cut short without its finally blocks (vm timeout) gives its kernel memory back before the next call", async function () {
      this.timeout(120_000);
      const file = script("vm-timeout.cjs", `
        const lib = require(${JSON.stringify(DIST)});
        const { kernelEngine } = require(${JSON.stringify(join(DIST, "kernels", "pool.js"))});
        const vm = require("node:vm");
        ${DATA_SOURCE(20000)}
        const net = new lib.Network([784, 30, 10], { seed: 1 });
        const engine = kernelEngine();
        const before = engine.arena.bytesInUse;
        globalThis.go = () => net.sgd(data, 1000, 10, 3.0);
        let message = "";
        try { vm.runInThisContext("go()", { timeout: 500 }); } catch (e) { message = e.message; }
        const inUseAfterTimeout = engine.arena.bytesInUse;
        setTimeout(() => {
          const w = net.weights[0][0];
          net.sgd(lib.makeDataset(images.subarray(0, 100 * 784), data.labels.subarray(0, 100)), 1, 10, 3.0);
          console.log(JSON.stringify({ event: "after", message, before, inUseAfterTimeout, inUse: engine.arena.bytesInUse, changed: net.weights[0][0] !== w }));
        }, 0);`);
      const r = await runChild(file);
      const after = events(r.stdout).after;
      expect(after, r.stdout + r.stderr).to.not.equal(undefined);
      expect(after.message).to.match(/timed out/);
      expect(after.inUseAfterTimeout as number, "the abandoned run still held memory").to.be.above(after.before as number);
      expect(after).to.deep.include({ inUse: after.before, changed: true });
    });
  });

  describe("Interrupt kernel in a real tslab kernel", () => {
    it("stops sgd, sgdAsync, augmentData and augmentDataAsync within about a second; each time the next cell runs and the kernel memory is back", function () {
      this.timeout(10 * 60 * 1000);
      registerKernel();
      const setup = `
        import * as lib from "./dist";
        import { kernelEngine } from "./dist/kernels/pool";
        ${DATA_SOURCE(20000)}
        const net = new lib.Network([784, 30, 10], { seed: 1 });
        const engine = kernelEngine();
        const inUseBefore = engine.arena.bytesInUse;
        console.log("ready");`;
      const cells = [
        "net.sgd(data, 1000, 10, 3.0);",
        "await net.sgdAsync(data, 1000, 10, 3.0);",
        "lib.augmentData(net, 20000, data, 1000);",
        "await lib.augmentDataAsync(net, 20000, data, 1000);",
      ];
      const check = `{
        const small = new lib.Network([784, 10], { seed: 2 });
        const w = small.weights[0][0];
        small.sgd(lib.makeDataset(images.subarray(0, 784 * 100), data.labels.subarray(0, 100)), 1, 10, 1);
        console.log(JSON.stringify({ inUse: engine.arena.bytesInUse, inUseBefore: inUseBefore, changed: small.weights[0][0] !== w }));
      }`;
      const spec = { setup, cells: cells.map((code) => ({ code, interruptAfter: 1.5 })), check };
      const r = spawnSync(findPython(["jupyter_client"]), [join(__dirname, "support", "interrupt.py")], {
        input: JSON.stringify(spec), encoding: "utf8", cwd: ROOT, env: jupyterEnv(), timeout: 9 * 60 * 1000,
      });
      expect(r.status, r.stderr).to.equal(0);
      const report = JSON.parse(r.stdout) as { setup: [string, string]; cells: { seconds: number; interrupts: number; text: string; check: [string, string] }[] };
      expect(report.setup[0], report.setup[1]).to.equal("ok");
      report.cells.forEach((cell, i) => {
        const what = cells[i];
        expect(cell.text, what).to.match(/[Ii]nterrupted/);
        expect(cell.seconds, `${what}: seconds from the interrupt to an idle kernel`).to.be.below(3);
        // One interrupt may arrive while tslab still compiles the cell, where nothing can hear it.
        expect(cell.interrupts, `${what}: interrupts sent`).to.be.at.most(2);
        expect(cell.check[0], `${what}: the next cell ${cell.check[1]}`).to.equal("ok");
        expect(JSON.parse(cell.check[1]), what).to.deep.equal({ inUse: JSON.parse(cell.check[1]).inUseBefore, inUseBefore: JSON.parse(cell.check[1]).inUseBefore, changed: true });
      });
      console.log(`      (seconds from interrupt to idle: ${report.cells.map((c) => `${c.seconds.toFixed(2)}${c.interrupts > 1 ? ` after ${c.interrupts} interrupts` : ""}`).join(", ")})`);
    });
  });

  describe("lifecycle", () => {
    const net = new Network([784, 30, 10], { seed: 1 });
    const n = 200;
    const images = Float32Array.from({ length: n * 784 }, (_, i) => (i % 991) / 991);
    const data = makeDataset(images, Uint8Array.from({ length: n }, (_, i) => i % 10));

    it("a synchronous call while sgdAsync is under way is refused at once, naming sgdAsync", async () => {
      const copy = Network.fromJSON(net.toJSON());
      const pending = copy.sgdAsync(data, 3, 10, 3.0);
      const start = performance.now();
      // Named after the library function that reached the kernels (feedforwardBatch goes through Network.forward).
      expect(() => feedforwardBatch(net, images.subarray(0, 784))).to.throw(/(feedforwardBatch|forward): an asynchronous call \(sgdAsync\) is under way; await it first/);
      expect(() => net.sgd(data, 1, 10, 3.0)).to.throw(/sgd: an asynchronous call \(sgdAsync\) is under way/);
      // A hang guard only (no timing claim): refusing never waits for the running job.
      expect(performance.now() - start).to.be.below(2000);
      await pending;
      expect(feedforwardBatch(net, images.subarray(0, 784))).to.have.length(10);
    });

    it("a synchronous call from sgdAsync's own onEpoch is allowed", async () => {
      const copy = Network.fromJSON(net.toJSON());
      const outputs: number[] = [];
      await copy.sgdAsync(data, 2, 10, 3.0, { onEpoch: () => { outputs.push(feedforwardBatch(copy, images.subarray(0, 784)).length); } });
      expect(outputs).to.deep.equal([10, 10]);
    });

    it("feedforwardBatch that runs out of kernel memory after uploading the network frees what it took", () => {
      const { arena } = kernelEngine();
      const before = arena.bytesInUse;
      const limit = arena.maximumBytes;
      // Room for the network (~95 KB) but not for 1,000 input images (3 MB).
      arena.maximumBytes = Math.max(...arena.regionStarts().map((s) => s + 1), arena.base) + (1 << 20);
      try {
        for (let k = 0; k < 3; k++) {
          expect(() => feedforwardBatch(net, new Float32Array(1000 * 784))).to.throw(/kernel memory: \d+ more bytes would pass the/);
          expect(arena.bytesInUse).to.equal(before);
        }
      } finally {
        arena.maximumBytes = limit;
      }
      expect(feedforwardBatch(net, new Float32Array(1000 * 784))).to.have.length(10_000);
      expect(arena.bytesInUse).to.equal(before);
    });

    it("sgd and a batched attack that run out of kernel memory free what they took", () => {
      const { arena } = kernelEngine();
      const before = arena.bytesInUse;
      const limit = arena.maximumBytes;
      arena.maximumBytes = Math.max(...arena.regionStarts().map((s) => s + 1), arena.base) + 300_000;
      try {
        expect(() => Network.fromJSON(net.toJSON()).sgd(data, 1, 10, 3.0)).to.throw(/kernel memory/);
        expect(arena.bytesInUse).to.equal(before);
        expect(() => sneakyAdversarialBatch(net, new Array(200).fill(1), images, 5, 1)).to.throw(/kernel memory/);
        expect(arena.bytesInUse).to.equal(before);
      } finally {
        arena.maximumBytes = limit;
      }
    });

    it("a kernel that throws on a worker fails the call with the kernel's own message, and the next call works", () => {
      const engine = kernelEngine();
      const end = engine.memory.buffer.byteLength;
      // No network table at the arena's base and a program past the end of memory: the native module
      // refuses the table, naming it; WebAssembly traps on the program.
      engine.start({ kernel: "descendRange", args: [engine.arena.base, end - 8, 0, 4, engine.arena.base], splitAt: 2 });
      expect(() => engine.finish()).to.throw(/^kernel descendRange failed on a worker thread: (descendRange: (network table at \d+|program region)|memory access out of bounds)/);
      expect(feedforwardBatch(net, images.subarray(0, 784))).to.have.length(10);
    });

    it("a worker that stops during a job fails that call with an error naming the worker, and the next call works", async function () {
      this.timeout(60_000);
      const file = script("lost-worker.cjs", `
        const lib = require(${JSON.stringify(DIST)});
        const { kernelEngine } = require(${JSON.stringify(join(DIST, "kernels", "pool.js"))});
        ${DATA_SOURCE(20000)}
        const net = new lib.Network([784, 30, 10], { seed: 1 });
        const engine = kernelEngine();
        engine.setThreads(2);
        const before = engine.arena.bytesInUse;
        const report = (event, f) => {
          const start = Date.now();
          try { f(); console.log(JSON.stringify({ event, ok: true })); }
          catch (e) { console.log(JSON.stringify({ event, message: e.message, ms: Date.now() - start, inUse: engine.arena.bytesInUse, before })); }
        };
        (async () => {
          // Asynchronous: the worker's 'exit' event arrives while the call awaits (an epoch
          // takes ~100 ms or more, and the worker is stopped 30 ms into the second).
          const pending = net.sgdAsync(data, 3, 10, 3.0, { onEpoch: (r) => { if (r.epoch === 1) setTimeout(() => void engine.workers[1].terminate(), 30); } });
          try { await pending; console.log(JSON.stringify({ event: "async", ok: true })); }
          catch (e) { console.log(JSON.stringify({ event: "async", message: e.message, inUse: engine.arena.bytesInUse, before })); }
          report("after-async", () => net.sgd(data, 1, 10, 3.0));
          // Synchronous: this thread is blocked, so no event can tell it; its wait loop looks.
          // The worker is stopped between epochs 1 and 2, so epoch 2's job waits for it.
          report("sync", () => net.sgd(data, 3, 10, 3.0, { onEpoch: (r) => { if (r.epoch === 1) void engine.workers[0].terminate(); } }));
          report("after-sync", () => net.sgd(data, 1, 10, 3.0));
        })();`);
      const r = await runChild(file, { timeoutMs: 50_000 });
      const e = events(r.stdout);
      expect(e.async, r.stdout + r.stderr).to.not.equal(undefined);
      expect(e.async.message).to.match(/kernel worker 1 .*during a sgdRange job; the kernel engine restarted its workers/);
      expect(e.async.inUse).to.equal(e.async.before);
      expect(e["after-async"]).to.deep.include({ ok: true });
      expect(e.sync.message).to.match(/kernel worker 0 .*(stopped|exited).* during a sgdRange job/);
      expect(e.sync.ms as number).to.be.below(5000);
      expect(e.sync.inUse).to.equal(e.sync.before);
      expect(e["after-sync"]).to.deep.include({ ok: true });
    });

    for (const value of ["100", "0", "1.5", "two"]) {
      it(`ADVLAB_THREADS=${value} is refused with a message naming the variable and its value`, () => {
        const r = spawnSync(process.execPath, ["-e", `require(${JSON.stringify(DIST)}).getThreads()`], {
          encoding: "utf8", env: { ...process.env, ADVLAB_THREADS: value },
        });
        expect(r.status).to.not.equal(0);
        expect(r.stderr).to.include(`ADVLAB_THREADS must be a whole number from 1 to 64, got "${value}"`);
      });
    }

    it("run from the TypeScript sources (lib/), an engine names the compiled file it lacks and how to build it", () => {
      // The sources through tsx's require hook, as a user running lib/ directly would. A wasm engine
      // stops at the missing .wasm; a native one gets as far as starting its workers.
      const lib = join(ROOT, "lib", "kernels");
      const run = (kind: string) => {
        const code = `require("tsx/cjs");
          const { KernelEngine } = require(${JSON.stringify(join(lib, "pool.ts"))});
          try { new KernelEngine(${JSON.stringify(kind)}, 2); console.log("no error"); } catch (e) { console.log(e.message); }`;
        const r = spawnSync(process.execPath, ["-e", code], { encoding: "utf8", cwd: ROOT });
        return r.stdout.trim() || r.stderr;
      };
      expect(run("wasm")).to.equal(`${join(lib, "kernels-fma.wasm")} is missing: run \`npm run build\` (its build:wasm step compiles assembly/kernels.ts)`);
      if (nativeKernelsOrWhy().available) {
        expect(run("native")).to.equal(`${join(lib, "worker.js")} is missing: the kernels run from the compiled build; import the library from dist/ (\`npm run build\`)`);
      }
    });

    it("ADVLAB_THREADS=1 is used as given", () => {
      const r = spawnSync(process.execPath, ["-e", `console.log(require(${JSON.stringify(DIST)}).getThreads())`], {
        encoding: "utf8", env: { ...process.env, ADVLAB_THREADS: "1" },
      });
      expect(r.stdout.trim(), r.stderr).to.equal("1");
    });
  });
});
