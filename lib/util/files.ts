import {
  closeSync, fchmodSync, fsyncSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeSync,
} from "node:fs";
import { randomBytes } from "node:crypto";
import { basename, dirname, join } from "node:path";

/**
 * Bytes of the target's name kept in a temporary file's name. A temporary name is
 * `.<prefix>.<pid>.<8 hex digits>.tmp`: at most 1 + 40 + 1 + 10 + 1 + 8 + 4 = 65 bytes, far
 * inside NAME_MAX (255 bytes), whatever the length of the target's name.
 */
const PREFIX_BYTES = 40;

/** A temporary file of a dead process is removed once it has not been written for this long. */
export const STALE_TEMPORARY_MS = 60_000;

/**
 * Writes `data` to `path` so that the file at `path` is always either the old one or the
 * whole new one, even if the process is killed or the disk fills up on the way:
 *
 * 1. the bytes go to a temporary file beside the target, `.<prefix>.<pid>.<random>.tmp`
 *    (`prefix` = the first 40 bytes of the target's name), written in a loop until every
 *    byte is down (a single `write` may write fewer);
 * 2. the temporary file is flushed to disk (fsync), then renamed over `path`;
 * 3. the folder is flushed, so the rename itself survives a power cut.
 *
 * On any failure the temporary file is removed, `path` is untouched, and the error names the
 * path and the cause: `out/net.json: cannot write (ENOSPC): no space left on device, write`.
 * An existing target keeps its permission bits.
 *
 * Temporary files left by processes that were killed are removed by the next write to a
 * target with the same prefix, once their process is gone and they are a minute old (see
 * `removeStaleTemporaries`).
 *
 *   writeFileAtomic("build/bench.json", JSON.stringify(report));
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  removeStaleTemporaries(path);
  const tmp = temporaryPath(path);
  const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  let fd: number | undefined;
  let stage = "create a temporary file";
  try {
    fd = openSync(tmp, "wx", 0o666);
    const mode = existingMode(path);
    if (mode !== undefined) {
      stage = "copy the permissions";
      fchmodSync(fd, mode);
    }
    stage = "write";
    let offset = 0;
    while (offset < bytes.length) {
      const written = writeSync(fd, bytes, offset, bytes.length - offset);
      if (written <= 0) throw Object.assign(new Error(`write returned ${written} at byte ${offset} of ${bytes.length}`), { code: "EIO" });
      offset += written;
    }
    stage = "flush";
    fsyncSync(fd);
    stage = "close";
    closeSync(fd);
    fd = undefined;
    stage = "rename the temporary file over it";
    renameSync(tmp, path);
  } catch (error) {
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        // already failing; the original error is the one to report
      }
    }
    rmSync(tmp, { force: true });
    throw fileError(path, "cannot write", error, stage === "write" ? undefined : stage);
  }
  try {
    syncFolder(dirname(path));
  } catch (error) {
    throw fileError(path, "written, but its folder could not be flushed to disk", error);
  }
}

/**
 * Writes `value` as JSON with `writeFileAtomic`, after checking that JSON can hold it: a NaN or
 * an infinity anywhere in the value (JSON.stringify would turn it into `null`, which nothing
 * can load back) is refused with an error naming the first one, e.g.
 * `net.json: refusing to write weights[0][3][17] = NaN (JSON has no NaN or Infinity; nothing was written)`.
 * Objects with a `toJSON` method (such as a Network) are checked as JSON.stringify sees them.
 *
 *   writeJsonAtomic("data/net.json", net);                        // what net.save does, checked
 *   writeJsonAtomic("build/report.json", report, { indent: 2 });
 */
export function writeJsonAtomic(path: string, value: unknown, options: { indent?: number } = {}): void {
  const bad = firstNonFinite(value);
  if (bad !== undefined) {
    throw new Error(`${path}: refusing to write ${bad.path || "the value"} = ${bad.value} (JSON has no NaN or Infinity; nothing was written)`);
  }
  let text: string | undefined;
  try {
    text = JSON.stringify(value, null, options.indent);
  } catch (error) {
    throw new Error(`${path}: cannot convert the value to JSON (${(error as Error).message}); nothing was written`);
  }
  if (text === undefined) throw new Error(`${path}: the value (${typeof value}) has no JSON form; nothing was written`);
  writeFileAtomic(path, options.indent ? text + "\n" : text);
}

/**
 * The first number JSON cannot hold (NaN, Infinity, -Infinity) in `value`, with its path in
 * the style `weights[0][3][17]` or `report.rates[2]`; undefined when there is none.
 * Typed arrays are checked element by element; cycles are left for JSON.stringify to report.
 */
export function firstNonFinite(value: unknown): { path: string; value: number } | undefined {
  const seen = new Set<object>();
  // An explicit stack, so a deeply nested value cannot overflow the call stack here.
  const stack: { value: unknown; path: string }[] = [{ value, path: "" }];
  while (stack.length > 0) {
    const item = stack.pop()!;
    let v = item.value;
    if (v !== null && typeof v === "object" && typeof (v as { toJSON?: unknown }).toJSON === "function" && !ArrayBuffer.isView(v)) {
      v = (v as { toJSON: () => unknown }).toJSON();
    }
    if (typeof v === "number") {
      if (!Number.isFinite(v)) return { path: item.path, value: v };
      continue;
    }
    if (v === null || typeof v !== "object" || seen.has(v)) continue;
    seen.add(v);
    if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
      const a = v as unknown as ArrayLike<number | bigint>;
      for (let i = 0; i < a.length; i++) {
        const x = a[i];
        if (typeof x === "number" && !Number.isFinite(x)) return { path: `${item.path}[${i}]`, value: x };
      }
      continue;
    }
    const entries: [string, unknown][] = Array.isArray(v)
      ? v.map((x, i) => [`${item.path}[${i}]`, x])
      : Object.keys(v).map((k) => [item.path ? `${item.path}.${k}` : k, (v as Record<string, unknown>)[k]]);
    // Pushed in reverse so the first entry is visited first: the error names the first bad number.
    for (let i = entries.length - 1; i >= 0; i--) stack.push({ path: entries[i][0], value: entries[i][1] });
  }
  return undefined;
}

/**
 * Removes temporary files that `writeFileAtomic` left beside `path` (same name prefix) when its
 * process was killed: those whose process id no longer runs on this machine and that have not
 * been modified for `STALE_TEMPORARY_MS` (a minute; the age rule protects a write in progress
 * by a process this one cannot see, e.g. in another container sharing the folder). Returns the
 * paths removed. Called by every `writeFileAtomic`; errors (a folder that cannot be listed,
 * a file removed meanwhile) are ignored, since cleaning is a courtesy, not part of the write.
 */
export function removeStaleTemporaries(path: string, now = Date.now()): string[] {
  const dir = dirname(path);
  const prefix = `.${namePrefix(basename(path))}.`;
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return removed;
  }
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith(".tmp")) continue;
    const m = /^(\d+)\.[0-9a-z]+\.tmp$/.exec(name.slice(prefix.length));
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || processRuns(pid)) continue;
    const file = join(dir, name);
    try {
      if (now - statSync(file).mtimeMs < STALE_TEMPORARY_MS) continue;
      rmSync(file, { force: true });
      removed.push(file);
    } catch {
      // removed by someone else meanwhile
    }
  }
  return removed;
}

/** The temporary name `writeFileAtomic` uses for `path`: `.<prefix>.<pid>.<8 hex>.tmp` beside it. */
export function temporaryPath(path: string): string {
  return join(dirname(path), `.${namePrefix(basename(path))}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
}

/** Reads and parses a JSON file; errors name the file. */
export function readJsonFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw fileError(path, "cannot read", error);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`${path}: not valid JSON (${(error as Error).message})`);
  }
}

/** The first PREFIX_BYTES bytes of a file name, cut at a character boundary. */
function namePrefix(name: string): string {
  let bytes = 0;
  let out = "";
  for (const ch of name) {
    const n = Buffer.byteLength(ch, "utf8");
    if (bytes + n > PREFIX_BYTES) break;
    bytes += n;
    out += ch;
  }
  return out;
}

function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function existingMode(path: string): number | undefined {
  try {
    return statSync(path).mode & 0o7777;
  } catch {
    return undefined;
  }
}

/** fsync a folder, so a rename in it is on disk. Platforms that cannot (Windows) are skipped. */
function syncFolder(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, "r");
  } catch (error) {
    if (process.platform === "win32") return;
    throw error;
  }
  try {
    fsyncSync(fd);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "EINVAL" && code !== "EISDIR" && code !== "EPERM" && code !== "ENOTSUP") throw error;
  } finally {
    closeSync(fd);
  }
}

/** `path: what (CODE): detail`, with the original error as `cause`. */
function fileError(path: string, what: string, error: unknown, stage?: string): Error {
  const e = error as NodeJS.ErrnoException;
  const code = e && typeof e === "object" ? e.code : undefined;
  const detail = e instanceof Error ? e.message.replace(/^[A-Z]+: /, "") : String(error);
  const where = stage ? ` (while trying to ${stage})` : "";
  return new Error(`${path}: ${what}${code ? ` (${code})` : ""}: ${detail}${where}`, { cause: error });
}
