import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { Network } from "../../dist";

/** The project's root folder. */
export const ROOT = resolve(__dirname, "..", "..");

/** The article's pretrained network, kept beside the project in ../shared/reference/. */
export const REFERENCE_PATH = resolve(ROOT, "..", "shared", "reference", "network-784-30-10.json");

/** The committed network trained by `npm run train`. */
export const COMMITTED_PATH = join(ROOT, "data", "network-784-30-10.json");

let cached: Network | null = null;

/**
 * The reference network, or a skip (with the reason printed) when ../shared is not there:
 * these tests check the library against the article's own weights.
 */
export function referenceNetwork(ctx: Mocha.Context): Network {
  if (!existsSync(REFERENCE_PATH)) {
    console.log(`    (skipped: ${REFERENCE_PATH} is absent; these tests need ../shared/reference beside the project)`);
    ctx.skip();
  }
  cached ??= Network.load(REFERENCE_PATH);
  return cached;
}

/** Indices of the first `count` images of `digit` in a label array. */
export function firstOfDigit(labels: Uint8Array, digit: number, count: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < labels.length && out.length < count; i++) if (labels[i] === digit) out.push(i);
  return out;
}
