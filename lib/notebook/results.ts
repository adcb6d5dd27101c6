/**
 * How a notebook hands its numbers to the reproduction job (`npm run reproduce`): each
 * notebook records named values, written as JSON to
 * `${ADVLAB_RESULTS_DIR ?? <project root>/build/results}/<notebook>.json`.
 */
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { writeFileAtomic } from "../util/files";

/** Everything recorded so far in this process, per notebook name. */
const records = new Map<string, Record<string, unknown>>();

/** The folder results go to: $ADVLAB_RESULTS_DIR, or build/results under the project root. */
export function resultsDir(): string {
  const fromEnv = process.env.ADVLAB_RESULTS_DIR;
  // Compiled, this file is dist/notebook/results.js, so the project root is two folders up.
  return fromEnv !== undefined && fromEnv !== "" ? resolve(fromEnv) : resolve(__dirname, "..", "..", "build", "results");
}

/**
 * A copy of `value` that JSON keeps exactly: typed arrays become plain arrays; NaN, Infinity,
 * undefined and functions are refused (JSON would turn them into null or drop them silently).
 * `path` names the value in errors, e.g. "01-predict: confusion[3][7]".
 */
function jsonValue(value: unknown, path: string): unknown {
  if (value === null || typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new RangeError(`${path} is ${value}: record a finite number (or null when there is no value)`);
    return value;
  }
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    return jsonValue(Array.from(value as unknown as ArrayLike<number>), path);
  }
  if (Array.isArray(value)) return value.map((v, i) => jsonValue(v, `${path}[${i}]`));
  if (typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = jsonValue(v, `${path}.${k}`);
    return out;
  }
  throw new TypeError(`${path} cannot be stored as JSON (got ${value === undefined ? "undefined" : typeof value})`);
}

/**
 * Merges `values` into this process's record for `notebook` and writes the whole record,
 * atomically, to `<results dir>/<notebook>.json`. Returns that path. Keys recorded again
 * replace their earlier value; a fresh process (a fresh kernel) starts from an empty record.
 *
 *   recordResults("01-predict", { testAccuracy: 0.9496, testCorrect: 9496 })
 *   // "/path/to/adversarial-lab/build/results/01-predict.json"
 */
export function recordResults(notebook: string, values: Record<string, unknown>): string {
  if (typeof notebook !== "string" || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(notebook)) {
    throw new RangeError(`recordResults: notebook must be a file name such as "01-predict", got ${JSON.stringify(notebook)}`);
  }
  if (values === null || typeof values !== "object" || Array.isArray(values)) {
    throw new TypeError(`recordResults: values for ${notebook} must be an object of named values`);
  }
  const checked = jsonValue(values, notebook) as Record<string, unknown>;
  const record = { ...(records.get(notebook) ?? {}), ...checked };
  const dir = resultsDir();
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${notebook}.json`);
  writeFileAtomic(path, JSON.stringify(record, null, 2) + "\n");
  records.set(notebook, record);
  return path;
}
