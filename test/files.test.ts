import { expect } from "chai";
import { execFileSync, spawnSync } from "node:child_process";
import {
  chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Network } from "../dist";
import {
  firstNonFinite, readJsonFile, removeStaleTemporaries, STALE_TEMPORARY_MS, temporaryPath, writeFileAtomic, writeJsonAtomic,
} from "../dist/util/files";

const FILES_JS = resolve(__dirname, "..", "dist", "util", "files.js");

const temporaries = (dir: string) => readdirSync(dir).filter((f) => f.endsWith(".tmp"));

/** A network whose JSON is about `mb` megabytes (784 inputs, 10 outputs, hidden units to suit). */
function networkOfAbout(mb: number): Network {
  const hidden = Math.round((mb * 1e6) / (795 * 19.5));
  return new Network([784, hidden, 10], { seed: 5 });
}

describe("files", () => {
  const dir = mkdtempSync(join(tmpdir(), "files-test-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe("writeFileAtomic", () => {
    it("writes the whole text and leaves no temporary file", () => {
      const path = join(dir, "plain.txt");
      writeFileAtomic(path, "first");
      writeFileAtomic(path, "second, longer");
      expect(readFileSync(path, "utf8")).to.equal("second, longer");
      expect(temporaries(dir)).to.deep.equal([]);
    });

    it("a failure names the path and the cause, and leaves nothing behind", () => {
      const path = join(dir, "no-such-folder", "net.json");
      expect(() => writeFileAtomic(path, "x")).to.throw(/no-such-folder\/net\.json: cannot write \(ENOENT\): no such file or directory/);
      expect(existsSync(join(dir, "no-such-folder"))).to.equal(false);
    });

    it("temporary names are .<prefix>.<pid>.<random>.tmp beside the target, within 255 bytes whatever the name", () => {
      const short = temporaryPath(join(dir, "net.json"));
      expect(short.startsWith(dir + "/")).to.equal(true);
      expect(short.slice(dir.length + 1)).to.match(new RegExp(`^\\.net\\.json\\.${process.pid}\\.[0-9a-f]{8}\\.tmp$`));
      for (const name of ["n".repeat(255), "é".repeat(127) + "x"]) {
        expect(Buffer.byteLength(name)).to.equal(255);
        const tmp = temporaryPath(join(dir, name)).slice(dir.length + 1);
        expect(Buffer.byteLength(tmp)).to.be.at.most(255);
        expect(tmp).to.match(/^\.[^/]+\.\d+\.[0-9a-f]{8}\.tmp$/);
      }
      expect(temporaryPath(join(dir, "a"))).to.not.equal(temporaryPath(join(dir, "a")));
    });

    it("saves under a legal 245-character file name (the old temporary name was too long)", () => {
      const name = "m".repeat(240) + ".json";
      expect(name.length).to.equal(245);
      new Network([3, 2], { seed: 1 }).save(join(dir, name));
      expect(Network.load(join(dir, name)).sizes).to.deep.equal([3, 2]);
      const multibyte = "ü".repeat(125) + ".json";   // 255 bytes
      writeFileAtomic(join(dir, multibyte), "ok");
      expect(readFileSync(join(dir, multibyte), "utf8")).to.equal("ok");
      expect(temporaries(dir)).to.deep.equal([]);
    });

    it("keeps the permission bits of the file it replaces", () => {
      const path = join(dir, "private.json");
      writeFileAtomic(path, "{}");
      chmodSync(path, 0o600);
      writeFileAtomic(path, "[]");
      expect(statSync(path).mode & 0o777).to.equal(0o600);
    });

    describe("on a full filesystem (a 2 MB tmpfs)", function () {
      let mnt = "";
      before(function () {
        mnt = mkdtempSync(join(tmpdir(), "files-tmpfs-"));
        try {
          execFileSync("mount", ["-t", "tmpfs", "-o", "size=2m", "tmpfs", mnt], { stdio: "pipe" });
        } catch (error) {
          const reason = String((error as { stderr?: Buffer }).stderr ?? (error as Error).message).trim();
          console.log(`      skipped: cannot mount a 2 MB tmpfs here (${reason || "mount failed"}); needs root or CAP_SYS_ADMIN`);
          rmSync(mnt, { recursive: true, force: true });
          mnt = "";
          this.skip();
        }
      });
      after(() => {
        if (!mnt) return;
        execFileSync("umount", [mnt]);
        rmSync(mnt, { recursive: true, force: true });
      });

      it("saving a 3 MB network fails with ENOSPC naming the path; the good checkpoint stays, byte for byte", () => {
        const path = join(mnt, "checkpoint.json");
        const good = new Network([784, 30, 10], { seed: 1 });
        good.save(path);
        const before = readFileSync(path);
        expect(before.length).to.be.within(400_000, 600_000);

        const big = networkOfAbout(3);
        expect(JSON.stringify(big.toJSON()).length).to.be.within(2_500_000, 3_500_000);
        expect(() => big.save(path)).to.throw(new RegExp(`${mnt}/checkpoint\\.json: cannot write \\(ENOSPC\\): no space left on device`));
        expect(readFileSync(path).equals(before)).to.equal(true);
        expect(Network.load(path).toJSON()).to.deep.equal(good.toJSON());
        expect(temporaries(mnt)).to.deep.equal([]);
      });

      it("the space of the failed attempt is given back: a write that fits succeeds afterwards", () => {
        const path = join(mnt, "after.bin");
        expect(() => writeFileAtomic(path, Buffer.alloc(3_000_000, 7))).to.throw(/after\.bin: cannot write \(ENOSPC\)/);
        expect(existsSync(path)).to.equal(false);
        writeFileAtomic(path, Buffer.alloc(1_200_000, 7));
        expect(statSync(path).size).to.equal(1_200_000);
        expect(temporaries(mnt)).to.deep.equal([]);
      });
    });
  });

  describe("temporary files of killed processes", () => {
    const sub = join(dir, "killed");
    mkdirSync(sub);
    const target = join(sub, "net.json");

    /** Runs a fresh node that starts writing `text` to `target` and is SIGKILLed just before its rename. */
    function killedWriter(text: string): { pid: number; tmp: string } {
      const script = `
        const fs = require("node:fs");
        fs.renameSync = () => process.kill(process.pid, "SIGKILL");
        require(${JSON.stringify(FILES_JS)}).writeFileAtomic(${JSON.stringify(target)}, ${JSON.stringify(text)});`;
      const before = new Set(temporaries(sub));
      const run = spawnSync(process.execPath, ["-e", script], { encoding: "utf8" });
      expect(run.signal).to.equal("SIGKILL");
      const left = temporaries(sub).filter((f) => !before.has(f));
      expect(left, "the killed writer's temporary file").to.have.length(1);
      return { pid: run.pid!, tmp: join(sub, left[0]) };
    }

    it("a kill mid-save leaves the old file intact and a recognisable temporary file", () => {
      writeFileAtomic(target, "old");
      const { pid, tmp } = killedWriter("new");
      expect(readFileSync(target, "utf8")).to.equal("old");
      expect(tmp.slice(sub.length + 1)).to.match(new RegExp(`^\\.net\\.json\\.${pid}\\.[0-9a-f]{8}\\.tmp$`));
      rmSync(tmp);
    });

    it("the next save of the same target removes it once its process is gone and it is a minute old", () => {
      writeFileAtomic(target, "old");
      const { tmp } = killedWriter("new");
      writeFileAtomic(target, "newer");
      expect(existsSync(tmp), "a fresh temporary file gets a minute's grace").to.equal(true);
      const old = new Date(Date.now() - STALE_TEMPORARY_MS - 5_000);
      utimesSync(tmp, old, old);
      writeFileAtomic(target, "newest");
      expect(existsSync(tmp)).to.equal(false);
      expect(readFileSync(target, "utf8")).to.equal("newest");
      expect(temporaries(sub)).to.deep.equal([]);
    });

    it("temporary files of running processes and of other targets are left alone", () => {
      const old = new Date(Date.now() - 10 * STALE_TEMPORARY_MS);
      const ofLiving = join(sub, `.net.json.1.0123abcd.tmp`);       // pid 1 always runs
      const ofOther = join(sub, `.other.json.999999999.0123abcd.tmp`);
      for (const f of [ofLiving, ofOther]) {
        writeFileSync(f, "x");
        utimesSync(f, old, old);
      }
      expect(removeStaleTemporaries(target)).to.deep.equal([]);
      expect(existsSync(ofLiving) && existsSync(ofOther)).to.equal(true);
      rmSync(ofLiving);
      rmSync(ofOther);
    });
  });

  describe("writeJsonAtomic", () => {
    it("writes JSON that reads back equal", () => {
      const path = join(dir, "value.json");
      writeJsonAtomic(path, { a: [1, 2.5, -3e-7], b: { c: "d" } }, { indent: 2 });
      expect(readJsonFile(path)).to.deep.equal({ a: [1, 2.5, -3e-7], b: { c: "d" } });
      expect(readFileSync(path, "utf8").endsWith("}\n")).to.equal(true);
    });

    it("refuses NaN or Infinity anywhere, naming the first bad path, and leaves the old file", () => {
      const path = join(dir, "refused.json");
      writeFileAtomic(path, "old");
      const weights = [Array.from({ length: 5 }, () => new Array(20).fill(0.5))];
      weights[0][3][17] = NaN;
      weights[0][4][0] = Infinity;
      expect(() => writeJsonAtomic(path, { sizes: [20, 5], weights })).to.throw(
        /refused\.json: refusing to write weights\[0\]\[3\]\[17\] = NaN \(JSON has no NaN or Infinity; nothing was written\)/);
      expect(() => writeJsonAtomic(path, { report: { rates: [0.5, 1, -Infinity] } })).to.throw(/refusing to write report\.rates\[2\] = -Infinity/);
      expect(() => writeJsonAtomic(path, NaN)).to.throw(/refusing to write the value = NaN/);
      expect(readFileSync(path, "utf8")).to.equal("old");
      expect(temporaries(dir)).to.deep.equal([]);
    });

    it("checks what JSON.stringify would see: a Network through its toJSON, typed arrays element by element", () => {
      const net = new Network([4, 3, 2], { seed: 2 });
      const json = net.toJSON();
      json.biases[1][1] = NaN;
      const broken = Network.fromJSON(net.toJSON());
      (broken as unknown as { biases: Float64Array[] }).biases[1][1] = NaN;
      expect(() => writeJsonAtomic(join(dir, "net.json"), broken)).to.throw(/refusing to write biases\[1\]\[1\] = NaN/);
      expect(firstNonFinite(json)).to.deep.equal({ path: "biases[1][1]", value: NaN });
      expect(firstNonFinite({ x: Float32Array.of(0, 1, Infinity) })).to.deep.equal({ path: "x[2]", value: Infinity });
      expect(firstNonFinite(net)).to.equal(undefined);
    });

    it("a deeply nested value is checked without overflowing the stack", () => {
      let deep: unknown = [NaN];
      for (let i = 0; i < 100_000; i++) deep = [deep];
      const found = firstNonFinite(deep);
      expect(found?.value).to.be.NaN;
      expect(found?.path.length).to.equal(100_001 * 3);
    });
  });

  describe("readJsonFile", () => {
    it("names the file when it is missing or not JSON", () => {
      expect(() => readJsonFile(join(dir, "missing.json"))).to.throw(/missing\.json: cannot read \(ENOENT\)/);
      writeFileSync(join(dir, "bad.json"), "{ nope");
      expect(() => readJsonFile(join(dir, "bad.json"))).to.throw(/bad\.json: not valid JSON/);
    });
  });
});
