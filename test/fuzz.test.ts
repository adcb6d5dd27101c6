/**
 * Seeded mutation fuzzers for the two readers of untrusted input: the IDX reader (`parseIdx`,
 * `readIdx`, plain and gzipped) and the network JSON (`Network.fromJSON`, `Network.load`).
 * Every case must end either in a valid result or in a library error: an Error whose message
 * starts with the name of the input and says what is wrong, never a RangeError from a
 * typed-array constructor, "Invalid array length", a stack overflow or a hang.
 *
 * Each case draws from its own generator, seeded by (FUZZ_SEED, case number), so a failure
 * prints the seed and the case and reproduces alone: ADVLAB_FUZZ_SEED=<seed> and the case
 * number in the message. ADVLAB_FUZZ_SCALE=10 runs ten times as many cases.
 */
import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { Network, parseIdx, readIdx } from "../dist";
import { generator, Gen } from "./support/fuzz";

const FUZZ_SEED = Number(process.env.ADVLAB_FUZZ_SEED ?? 20260415);
const SCALE = Number(process.env.ADVLAB_FUZZ_SCALE ?? 1);


/** Failures the library must never let through, whatever the input. */
const BARE = /Invalid array length|Invalid typed array length|Maximum call stack|Array buffer allocation failed|out of memory|Cannot read properties|is not a function|is not iterable/i;

/** Checks that `error` is a clear library error about `name`; returns a complaint or "". */
function unclear(error: unknown, name: string): string {
  if (!(error instanceof Error)) return `threw a non-Error: ${String(error)}`;
  if (BARE.test(error.message)) return `bare runtime error: ${error.constructor.name}: ${error.message.slice(0, 300)}`;
  if (!error.message.startsWith(`${name}: `)) return `message does not name the input: ${error.constructor.name}: ${error.message.slice(0, 300)}`;
  if (error.message.length > 2000) return `message of ${error.message.length} characters: ${error.message.slice(0, 200)}...`;
  return "";
}

/** Runs `cases` cases, collecting every failure with its seed and case number, and fails listing the first few. */
function fuzz(label: string, cases: number, run: (rng: Gen, i: number, log: string[]) => string) {
  const failures: string[] = [];
  let valid = 0;
  for (let i = 0; i < cases; i++) {
    const log: string[] = [];
    let complaint: string;
    try {
      complaint = run(generator(FUZZ_SEED, i), i, log);
    } catch (error) {
      complaint = `the harness itself threw: ${(error as Error).stack}`;
    }
    if (complaint === "valid") valid++;
    else if (complaint) failures.push(`seed ${FUZZ_SEED} case ${i} [${log.join("; ")}]: ${complaint}`);
  }
  if (failures.length > 0) {
    console.log(`      ${label}: ${failures.length} of ${cases} cases failed; the first ones:\n` + failures.slice(0, Number(process.env.ADVLAB_FUZZ_SHOW ?? 10)).map((f) => `        ${f}`).join("\n"));
  }
  expect(failures, `${label}: ${failures.length} failing cases (seed ${FUZZ_SEED}); first: ${failures[0]}`).to.deep.equal([]);
  return valid;
}

// ---------------------------------------------------------------------------------------------
// IDX

function idx(dims: number[], data: Uint8Array | number[], type = 0x08): Uint8Array {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = type;
  header[3] = dims.length;
  dims.forEach((d, i) => header.writeUInt32BE(d >>> 0, 4 + 4 * i));
  return new Uint8Array(Buffer.concat([header, Buffer.from(data)]));
}

const IDX_SEEDS: Uint8Array[] = [
  idx([10], Array.from({ length: 10 }, (_, i) => i)),
  idx([3, 4, 5], Array.from({ length: 60 }, (_, i) => (i * 37) % 256)),
  idx([2, 28, 28], Array.from({ length: 1568 }, (_, i) => (i * 13) % 256)),
  idx([1], [255]),
  idx([0], []),
  idx([2, 0, 7], []),
];

const NICE_DIMS = [0, 1, 2, 3, 28, 255, 256, 60000, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffffe, 1 << 24];

/** One random change to IDX bytes; `log` records what was done. */
function mutateIdx(bytes: Uint8Array, rng: Gen, log: string[]): Uint8Array {
  const b = Uint8Array.from(bytes);
  const at = () => rng.int(Math.max(1, b.length));
  switch (rng.int(11)) {
    case 0: { const i = at(), bit = rng.int(8); log.push(`flip bit ${bit} of byte ${i}`); if (b.length) b[i] ^= 1 << bit; return b; }
    case 1: { const i = at(), v = rng.int(256); log.push(`byte ${i} = ${v}`); if (b.length) b[i] = v; return b; }
    case 2: { const n = rng.int(b.length + 1); log.push(`truncate to ${n}`); return b.subarray(0, n); }
    case 3: {
      const n = 1 + rng.int(64);
      log.push(`extend by ${n}`);
      return Uint8Array.from([...b, ...Array.from({ length: n }, () => rng.int(256))]);
    }
    case 4: { const t = rng.pick([0x08, 0x09, 0x0b, 0x0c, 0x0d, 0x0e, 0x00, 0xff, rng.int(256)]); log.push(`type = 0x${t.toString(16)}`); if (b.length > 2) b[2] = t; return b; }
    case 5: { const r = rng.pick([0, 1, 2, 3, 4, 64, 255, rng.int(256), b.length > 3 ? (b[3] + 1) & 255 : 1]); log.push(`rank = ${r}`); if (b.length > 3) b[3] = r; return b; }
    case 6: {
      const rank = b.length > 3 ? b[3] : 1;
      const k = rng.int(Math.max(1, rank));
      const v = rng.next() < 0.7 ? rng.pick(NICE_DIMS) : Math.floor(rng.next() * 2 ** 32);
      log.push(`dim ${k} = ${v}`);
      if (b.length >= 8 + 4 * k) new DataView(b.buffer, b.byteOffset).setUint32(4 + 4 * k, v, false);
      return b;
    }
    case 7: {
      const rank = b.length > 3 ? b[3] : 1;
      const k = rng.int(Math.max(1, rank));
      const delta = rng.pick([-1, 1, 784, -784]);
      log.push(`dim ${k} += ${delta}`);
      if (b.length >= 8 + 4 * k) {
        const v = new DataView(b.buffer, b.byteOffset);
        v.setUint32(4 + 4 * k, (v.getUint32(4 + 4 * k, false) + delta) >>> 0, false);
      }
      return b;
    }
    case 8: { const i = at(), j = at(); log.push(`swap bytes ${i}, ${j}`); if (b.length) [b[i], b[j]] = [b[j], b[i]]; return b; }
    case 9: { const i = at(), n = 1 + rng.int(16); log.push(`delete ${n} bytes at ${i}`); return Uint8Array.from([...b.subarray(0, i), ...b.subarray(i + n)]); }
    default: { const i = at(), n = 1 + rng.int(16); log.push(`duplicate ${n} bytes at ${i}`); return Uint8Array.from([...b.subarray(0, i + n), ...b.subarray(i, i + n), ...b.subarray(i + n)]); }
  }
}

/** Random changes to gzip bytes: the compressed stream, its framing, or a bomb appended. */
function mutateGzip(gz: Uint8Array, rng: Gen, log: string[]): Uint8Array {
  const choice = rng.int(6);
  if (choice === 0) {
    const members = 1 + rng.int(8);
    log.push(`append ${members} members of 1 MB of zeros`);
    const member = gzipSync(Buffer.alloc(1 << 20));
    return Uint8Array.from(Buffer.concat([gz, ...new Array(members).fill(member)]));
  }
  if (choice === 1) {
    log.push("flag byte changed");
    const b = Uint8Array.from(gz);
    b[3] = rng.int(256);
    return b;
  }
  return mutateIdx(gz, rng, log);
}

/** What a valid parse must satisfy: data of exactly product(dims) bytes. */
function checkIdx(result: { dims: number[]; data: Uint8Array }): string {
  const count = result.dims.reduce((a, b) => a * b, 1);
  if (!(result.data instanceof Uint8Array)) return "data is not a Uint8Array";
  if (result.data.length !== count) return `data has ${result.data.length} bytes, dims [${result.dims}] say ${count}`;
  return "valid";
}

function tryIdx(parse: () => { dims: number[]; data: Uint8Array }, name: string): string {
  let result: { dims: number[]; data: Uint8Array };
  try {
    result = parse();
  } catch (error) {
    return unclear(error, name);
  }
  return checkIdx(result);
}

// ---------------------------------------------------------------------------------------------
// Network JSON

type Json = unknown;

const NETWORK_SEEDS = [[3, 2], [5, 4, 3], [2, 3, 3, 2]].map((sizes, k) => new Network(sizes, { seed: k }).toJSON());

/** Paths into a JSON value (objects and arrays, the root included, at most 6 keys deep), as lists of keys. */
function paths(value: Json): (string | number)[][] {
  const out: (string | number)[][] = [];
  const stack: [Json, (string | number)[]][] = [[value, []]];
  while (stack.length) {
    const [v, prefix] = stack.pop()!;
    out.push(prefix);
    if (prefix.length >= 6) continue;
    if (Array.isArray(v)) v.forEach((x, i) => stack.push([x, [...prefix, i]]));
    else if (v && typeof v === "object") for (const k of Object.keys(v)) stack.push([(v as Record<string, Json>)[k], [...prefix, k]]);
  }
  return out;
}

function nest(depth: number, inner: Json): Json {
  let v = inner;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

/** Replacement values: huge numbers, NaN and infinities (as numbers and as strings), wrong types, deep nesting, long and sparse arrays. */
function strangeValue(rng: Gen, old: Json, log: string[]): Json {
  const kind = rng.int(24);
  const candidates: [string, () => Json][] = [
    ["NaN", () => NaN], ["Infinity", () => Infinity], ["-Infinity", () => -Infinity],
    ['"NaN"', () => "NaN"], ['"Infinity"', () => "Infinity"], ['"1e999"', () => "1e999"],
    ["1e308", () => 1e308], ["-1e308", () => -1e308], ["2^53", () => 2 ** 53], ["2^53 + 2", () => 2 ** 53 + 2],
    ["1e9", () => 1e9], ["-1", () => -1], ["0", () => 0], ["1.5", () => 1.5], ['"3"', () => "3"],
    ["null", () => null], ["true", () => true], ["{}", () => ({})], ["[]", () => []],
    ["nested 10000 deep", () => nest(10_000, Array.isArray(old) ? old : [old])],
    ["nested 100000 deep", () => nest(100_000, 1)],
    ["array of 100000 zeros", () => new Array(100_000).fill(0)],
    ["sparse array of the same length", () => (Array.isArray(old) ? new Array(old.length) : new Array(3))],
    ["array as an object with numeric keys", () => (Array.isArray(old) ? { ...old, length: old.length } : { 0: old })],
  ];
  const [what, make] = candidates[kind];
  log.push(`= ${what}`);
  return make();
}

function getAt(value: Json, path: (string | number)[]): Json {
  let v = value;
  for (const k of path) v = (v as Record<string | number, Json>)[k];
  return v;
}

/** One random structural change to a network's JSON, made in place (the root may be replaced). */
function mutateNetwork(value: Json, rng: Gen, log: string[]): Json {
  let root = value as Record<string, Json>;
  if (root === null || typeof root !== "object" || Array.isArray(root)) {
    log.push("root is no longer an object, unchanged");
    return root;
  }
  const ps = paths(root);
  const path = rng.pick(ps);
  const where = path.length ? path.map((k) => (typeof k === "number" ? `[${k}]` : `.${k}`)).join("").replace(/^\./, "") : "(root)";
  const parent = path.length ? (getAt(root, path.slice(0, -1)) as Record<string | number, Json>) : undefined;
  const key = path[path.length - 1];
  const target = getAt(root, path);
  switch (rng.int(8)) {
    case 0: case 1: case 2: {
      log.push(where);
      const v = strangeValue(rng, target, log);
      if (parent) parent[key] = v;
      else root = v as Record<string, Json>;
      break;
    }
    case 3: {
      if (Array.isArray(target)) {
        const op = rng.pick(["push", "pop", "shift", "double"]);
        log.push(`${where}: ${op}`);
        if (op === "push") target.push(target.length ? target[target.length - 1] : 0);
        else if (op === "pop") target.pop();
        else if (op === "shift") target.shift();
        else target.push(...target.slice(0, 100_000));
      } else log.push(`${where}: not an array, unchanged`);
      break;
    }
    case 4: {
      if (!Array.isArray(root.sizes) || root.sizes.length === 0) { log.push("sizes gone, unchanged"); break; }
      const sizes = root.sizes as number[];
      const l = rng.int(sizes.length);
      const v = rng.pick([0, -1, 1, 1.5, 1e9, 2 ** 31, 2 ** 32 + 1, 1e300, 2 ** 53, sizes[l] + 1, sizes[l] - 1]);
      log.push(`sizes[${l}] = ${v}`);
      sizes[l] = v;
      break;
    }
    case 5: {
      const k = rng.pick(["sizes", "weights", "biases"]);
      log.push(`delete ${k}`);
      delete root[k];
      break;
    }
    case 6: {
      log.push("swap weights and biases");
      [root.weights, root.biases] = [root.biases, root.weights];
      break;
    }
    default: {
      if (!Array.isArray(root.sizes) || !Array.isArray(root.weights)) { log.push("sizes or weights gone, unchanged"); break; }
      const sizes = root.sizes as number[];
      const op = rng.pick(["add a layer to sizes", "drop a layer from sizes", "add a weight matrix"]);
      log.push(op);
      if (op === "add a layer to sizes") sizes.push(2);
      else if (op === "drop a layer from sizes") sizes.pop();
      else (root.weights as Json[]).push([[0]]);
    }
  }
  return root;
}

/** What a network that loads must satisfy: declared shapes, every weight and bias finite. */
function checkNetwork(net: Network): string {
  const sizes = net.sizes;
  if (!Array.isArray(sizes) || sizes.length < 2) return `sizes ${JSON.stringify(sizes)}`;
  const json = net.toJSON();
  for (let l = 0; l + 1 < sizes.length; l++) {
    const W = json.weights[l];
    if (W.length !== sizes[l + 1]) return `weights[${l}] has ${W.length} rows, sizes say ${sizes[l + 1]}`;
    for (let r = 0; r < W.length; r++) {
      if (W[r].length !== sizes[l]) return `weights[${l}][${r}] has ${W[r].length} columns, sizes say ${sizes[l]}`;
      const bad = W[r].findIndex((x) => typeof x !== "number" || !Number.isFinite(x));
      if (bad >= 0) return `loaded with weights[${l}][${r}][${bad}] = ${W[r][bad]}`;
    }
    const b = json.biases[l];
    if (b.length !== sizes[l + 1]) return `biases[${l}] has ${b.length} entries, sizes say ${sizes[l + 1]}`;
    const bad = b.findIndex((x) => typeof x !== "number" || !Number.isFinite(x));
    if (bad >= 0) return `loaded with biases[${l}][${bad}] = ${b[bad]}`;
  }
  return "valid";
}

function tryNetwork(load: () => Network, name: string): string {
  let net: Network;
  try {
    net = load();
  } catch (error) {
    return unclear(error, name);
  }
  return checkNetwork(net);
}

/** Text-level changes to a JSON file: bit flips, cuts, garbage, NaN and huge literals, deep nesting. */
function mutateText(text: string, rng: Gen, log: string[]): string {
  const at = rng.int(text.length + 1);
  switch (rng.int(8)) {
    case 0: {
      const b = Buffer.from(text);
      const i = rng.int(b.length), bit = rng.int(8);
      log.push(`flip bit ${bit} of byte ${i}`);
      b[i] ^= 1 << bit;
      return b.toString("latin1");
    }
    case 1: log.push(`truncate to ${at}`); return text.slice(0, at);
    case 2: {
      const lit = rng.pick(["NaN", "Infinity", "-Infinity", "1e999", "-1e999", "1e-999", "0x10", "undefined", "null", "\"\"", "[]", "{}", ",", "]", "}"]);
      log.push(`insert ${lit} at ${at}`);
      return text.slice(0, at) + lit + text.slice(at);
    }
    case 3: {
      // Replace one number with a huge or non-finite literal.
      const numbers = [...text.matchAll(/-?\d+(\.\d+)?(e-?\d+)?/g)];
      const m = rng.pick(numbers);
      const lit = rng.pick(["1e400", "-1e400", "NaN", "Infinity", "9007199254740993", "1e9", "0"]);
      log.push(`number at ${m.index} = ${lit}`);
      return text.slice(0, m.index) + lit + text.slice(m.index! + m[0].length);
    }
    case 4: {
      const depth = rng.pick([100, 10_000, 100_000]);
      log.push(`sizes nested ${depth} deep`);
      return text.replace(/"sizes":/, `"sizes":${"[".repeat(depth)}`).replace(/("sizes":\[+[^\]]*\])/, `$1${"]".repeat(depth)}`);
    }
    case 5: log.push("extend with garbage"); return text + rng.pick(["}", "x", " \n", "{\"a\":1}", "\u0000"]);
    case 6: log.push("empty"); return rng.pick(["", " ", "null", "[]", "0", "\"network\""]);
    default: log.push("__proto__ key"); return text.replace(/^\{/, '{"__proto__":{"sizes":[1,1]},');
  }
}

// ---------------------------------------------------------------------------------------------

describe("fuzz", function () {
  // Hang guard: each fuzzer takes a few seconds; a minute means something loops.
  this.timeout(60_000);
  const dir = mkdtempSync(join(tmpdir(), "fuzz-test-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("parseIdx: 4,000 mutated IDX buffers each end in a valid array or an error naming the input", () => {
    const valid = fuzz("parseIdx", 4000 * SCALE, (rng, i, log) => {
      let bytes = rng.pick(IDX_SEEDS);
      const n = 1 + rng.int(3);
      for (let k = 0; k < n; k++) bytes = mutateIdx(bytes, rng, log);
      const name = `idx-case-${i}`;
      return tryIdx(() => parseIdx(bytes, name), name);
    });
    console.log(`      parseIdx: ${valid} of ${4000 * SCALE} mutated buffers still parse (with exact sizes)`);
    expect(valid).to.be.above(0);
  });

  it("parseIdx on gzip: 2,000 mutated streams (and mutated contents) each end in a valid array or an error naming the input", () => {
    const valid = fuzz("parseIdx gzip", 2000 * SCALE, (rng, i, log) => {
      let bytes = rng.pick(IDX_SEEDS);
      if (rng.next() < 0.5) {
        log.push("mutate, then gzip");
        bytes = gzipSync(mutateIdx(bytes, rng, log));
      } else {
        log.push("gzip, then mutate");
        bytes = mutateGzip(gzipSync(bytes), rng, log);
      }
      const name = `idx-gz-case-${i}`;
      return tryIdx(() => parseIdx(bytes, name), name);
    });
    expect(valid).to.be.above(0);
  });

  it("readIdx: 400 mutated files, plain and gzipped, each end in a valid array or an error naming the file", () => {
    fuzz("readIdx", 400 * SCALE, (rng, i, log) => {
      let bytes = mutateIdx(rng.pick(IDX_SEEDS), rng, log);
      if (rng.next() < 0.5) {
        log.push("gzip");
        bytes = gzipSync(bytes);
      }
      const path = join(dir, `case-${i}`);
      writeFileSync(path, bytes);
      const outcome = tryIdx(() => readIdx(path), path);
      rmSync(path);
      return outcome;
    });
  });

  it("Network.fromJSON: 3,000 mutated networks each load with finite weights of the declared shapes or fail naming the entry", () => {
    const valid = fuzz("Network.fromJSON", 3000 * SCALE, (rng, i, log) => {
      let json = structuredClone(rng.pick(NETWORK_SEEDS)) as Json;
      const n = 1 + rng.int(2);
      for (let k = 0; k < n; k++) json = mutateNetwork(json, rng, log);
      const name = `net-case-${i}`;
      return tryNetwork(() => Network.fromJSON(json, name), name);
    });
    console.log(`      Network.fromJSON: ${valid} of ${3000 * SCALE} mutated networks still load`);
  });

  it("Network.load: 600 mutated files (text and structure) each load with finite weights or fail naming the file", () => {
    fuzz("Network.load", 600 * SCALE, (rng, i, log) => {
      const base = rng.pick(NETWORK_SEEDS) as Json;
      let text: string;
      if (rng.next() < 0.5) {
        text = mutateText(JSON.stringify(base), rng, log);
      } else {
        log.push("structure");
        const value = mutateNetwork(structuredClone(base), rng, log);
        try {
          text = JSON.stringify(value) ?? "";
        } catch {
          // 100,000 levels of nesting: JSON.stringify itself overflows. Write such text directly.
          text = `{"sizes":${"[".repeat(100_000)}${"]".repeat(100_000)},"weights":[],"biases":[]}`;
        }
      }
      const path = join(dir, `net-${i}.json`);
      writeFileSync(path, text);
      const outcome = tryNetwork(() => Network.load(path), path);
      rmSync(path);
      return outcome;
    });
  });
});
