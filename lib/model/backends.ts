import type { Backend, BackendName } from "./backend";
import { referenceBackend } from "./reference-backend";

/**
 * Which backend computes: "native" (float32 kernels compiled for this processor, the default
 * when built), "wasm" (float32 WebAssembly SIMD kernels, the default otherwise), or
 * "reference" (float64, one image at a time). Chosen by `setBackend(name)` or the
 * ADVLAB_BACKEND variable; backends register themselves by name so that this module (and the
 * model above it) never imports an engine.
 */
interface Registration {
  factory: () => Backend;
  /** Why the backend cannot run here, or null when it can. */
  missing: () => string | null;
}
const registered = new Map<BackendName, Registration>([["reference", { factory: () => referenceBackend, missing: () => null }]]);
const NAMES: BackendName[] = ["native", "wasm", "reference"];
let current: Backend | null = null;
let toldFallback = false;

/**
 * Makes `name` available; `factory` runs on first use. `missing` says why it cannot run here
 * (e.g. a module that was not built), or null.
 */
export function registerBackend(name: BackendName, factory: () => Backend, missing: () => string | null = () => null): void {
  registered.set(name, { factory, missing });
}

function create(name: BackendName): Backend {
  const entry = registered.get(name);
  const why = entry ? entry.missing() : `it is not registered`;
  if (!entry || why !== null) {
    const have = NAMES.filter((n) => registered.has(n) && registered.get(n)!.missing() === null).map((n) => `"${n}"`).join(", ");
    throw new Error(`backend "${name}" is not available here: ${why} (available: ${have})`);
  }
  return entry.factory();
}

/** The first of native, wasm, reference that can run; says once why native cannot. */
function defaultBackend(): Backend {
  for (const name of NAMES) {
    const entry = registered.get(name);
    if (!entry) continue;
    const why = entry.missing();
    if (why === null) return entry.factory();
    if (name === "native" && !toldFallback) {
      toldFallback = true;
      console.warn(`adversarial-lab: using the WebAssembly kernels (${why})`);
    }
  }
  return referenceBackend;
}

function checkName(name: unknown, what: string): asserts name is BackendName {
  if (typeof name !== "string" || !NAMES.includes(name as BackendName)) {
    throw new RangeError(`${what} must be one of ${NAMES.map((n) => `"${n}"`).join(", ")}, got ${JSON.stringify(name)}`);
  }
}

/** The backend in use: the one `setBackend` chose, else ADVLAB_BACKEND, else native when built, else wasm. */
export function backend(): Backend {
  if (current) return current;
  const env = process.env.ADVLAB_BACKEND;
  if (env !== undefined && env !== "") {
    checkName(env, "ADVLAB_BACKEND");
    current = create(env);
  } else {
    current = defaultBackend();
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
