import type { Backend, BackendName } from "./backend";
import { referenceBackend } from "./reference-backend";

/**
 * Which backend computes: "wasm" (the float32 WebAssembly SIMD kernels, the default where
 * registered), "reference" (float64, one image at a time) or "native" (when built). Chosen by
 * `setBackend(name)` or the ADVLAB_BACKEND variable; backends register themselves by name so
 * that this module (and the model above it) never imports an engine.
 */
const factories = new Map<BackendName, () => Backend>([["reference", () => referenceBackend]]);
const NAMES: BackendName[] = ["native", "wasm", "reference"];
let current: Backend | null = null;

/** Makes `name` available; `factory` runs on first use. */
export function registerBackend(name: BackendName, factory: () => Backend): void {
  factories.set(name, factory);
}

function create(name: BackendName): Backend {
  const factory = factories.get(name);
  if (!factory) {
    const have = [...factories.keys()].map((n) => `"${n}"`).join(", ");
    throw new Error(`backend "${name}" is not available here (available: ${have})`);
  }
  return factory();
}

function checkName(name: unknown, what: string): asserts name is BackendName {
  if (typeof name !== "string" || !NAMES.includes(name as BackendName)) {
    throw new RangeError(`${what} must be one of ${NAMES.map((n) => `"${n}"`).join(", ")}, got ${JSON.stringify(name)}`);
  }
}

/** The backend in use: the one `setBackend` chose, else ADVLAB_BACKEND, else wasm (reference when absent). */
export function backend(): Backend {
  if (current) return current;
  const env = process.env.ADVLAB_BACKEND;
  if (env !== undefined && env !== "") {
    checkName(env, "ADVLAB_BACKEND");
    current = create(env);
  } else {
    current = create(factories.has("wasm") ? "wasm" : "reference");
  }
  return current;
}

/**
 * Computes with backend `name` from now on. Results differ between backends only by float
 * rounding (float64 reference, float32 kernels); within one backend they are bit-identical.
 *
 *   setBackend("reference");  // e.g. to check a surprising number against float64
 */
export function setBackend(name: BackendName): void {
  checkName(name, "backend");
  current = create(name);
}

/** The name of the backend in use. */
export function backendName(): BackendName {
  return backend().name;
}
