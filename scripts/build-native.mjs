// Builds the native kernels (native/*.cc -> build/Release/advlab_native.node) with node-gyp when
// the package installs, and again (incrementally) in `npm run build`. The module is optional:
// if the build fails (no compiler, no headers), install still succeeds, this says so in one
// line, and the library uses its WebAssembly kernels. ADVLAB_NATIVE=skip skips the build. (Plain JavaScript: it runs before anything of
// the package is compiled, with no dev dependency.) `npm run build:native` builds strictly.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const strict = process.argv.includes("--strict");

if (process.env.ADVLAB_NATIVE === "skip") {
  console.log("adversarial-lab: native kernels not built (ADVLAB_NATIVE=skip); the WebAssembly kernels will be used");
  process.exit(0);
}
if (!existsSync(join(root, "binding.gyp"))) process.exit(0);

// npm names its own node-gyp in npm_config_node_gyp for scripts; run by hand, npm's copy beside node.
const bundled = join(dirname(process.execPath), "..", "lib", "node_modules", "npm", "node_modules", "node-gyp", "bin", "node-gyp.js");
const gyp = process.env.npm_config_node_gyp ?? (existsSync(bundled) ? bundled : undefined);
// Configured already (build/Makefile): an incremental build; else configure and build.
const verb = existsSync(join(root, "build", "Makefile")) ? "build" : "rebuild";
const [cmd, args] = gyp ? [process.execPath, [gyp, verb]] : ["node-gyp", [verb]];
const started = Date.now();
const r = spawnSync(cmd, args, { cwd: root, encoding: "utf8", stdio: strict ? "inherit" : "pipe" });
if (r.status === 0) {
  console.log(`adversarial-lab: native kernels built in ${((Date.now() - started) / 1000).toFixed(1)} s (build/Release/advlab_native.node)`);
  process.exit(0);
}
const why = r.error ? r.error.message : (`${r.stderr ?? ""}`.split("\n").find((l) => /error/i.test(l)) ?? `node-gyp exited ${r.status}`).trim();
if (strict) process.exit(r.status ?? 1);
console.log(`adversarial-lab: native kernels not built (${why}); the WebAssembly kernels will be used`);
process.exit(0);
