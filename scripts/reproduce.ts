/**
 * `npm run reproduce`: builds the library, registers the project's tslab kernel, executes every
 * notebook headlessly into build/notebooks/, draws the figures' static PNGs in one pass over
 * the executed copies, exports them to HTML (.ipynb and .html), and writes
 * build/reproduction.json and build/reproduction.md: the article's numbers beside ours.
 * Fails, naming it, if any notebook fails (missing PNGs never fail it: no Chromium only warns).
 *
 *   npm run reproduce
 *   npm run reproduce -- --only 03-sneaky      # some notebooks (names or prefixes)
 *   npm run reproduce -- --no-reference        # skip the column computed on the article's network
 *   npm run reproduce -- --notebooks DIR --out DIR --no-build   # other notebooks, another output folder
 *
 * Environment: ADVLAB_CELL_TIMEOUT (seconds per cell, default 7200), ADVLAB_JUPYTER,
 * ADVLAB_PYTHON (see scripts/kernel.ts), ADVLAB_REFERENCE_NETWORK, MNIST_DIR, ADVLAB_CHROMIUM
 * (the browser drawing the PNGs, default /usr/bin/chromium).
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { registerKernel, ROOT } from "./kernel";
import { assertAllPassed, listNotebooks, NotebookRun, runNotebooks } from "./run-notebooks";
import type { ReferenceRates } from "./reference-rates";
// report.ts, reference-rates.ts and static-pngs.ts import the compiled library: loaded after the build below.

export interface Args {
  only: string[];
  reference: boolean;
  /** Skip `npm run build` (dist/ is current). */
  build: boolean;
  /** Where the notebooks are (default notebooks/). */
  notebooksDir: string;
  /** Where executed notebooks, results and the report go (default build/). */
  outDir: string;
}

export function parseArgs(argv: string[]): Args {
  const args: Args = { only: [], reference: true, build: true, notebooksDir: join(ROOT, "notebooks"), outDir: join(ROOT, "build") };
  const value = (i: number) => {
    if (argv[i] === undefined) throw new Error(`reproduce: ${argv[i - 1]} needs a value`);
    return argv[i];
  };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--only") args.only.push(...value(++i).split(",").filter(Boolean));
    else if (argv[i] === "--no-reference") args.reference = false;
    else if (argv[i] === "--no-build") args.build = false;
    else if (argv[i] === "--notebooks") args.notebooksDir = resolve(value(++i));
    else if (argv[i] === "--out") args.outDir = resolve(value(++i));
    else throw new Error(`reproduce: unknown argument ${JSON.stringify(argv[i])} (use --only NAMES, --no-reference, --no-build, --notebooks DIR, --out DIR)`);
  }
  return args;
}

/** `npm run build`: whatever the project's build is (TypeScript, WebAssembly kernels). */
function build(): void {
  const r = spawnSync("npm", ["run", "build"], { cwd: ROOT, stdio: "inherit" });
  if (r.status !== 0) throw new Error("reproduce: the library does not build (npm run build failed)");
}

/** The backend and kernel build a notebook kernel started from this process gets (as a child process sees them). */
function kernelBuild(): Record<string, string> {
  const code = `const l = require(${JSON.stringify(join(ROOT, "dist"))}); console.log(JSON.stringify({ backend: l.backendName(), build: l.kernelVariant() }))`;
  const r = spawnSync(process.execPath, ["-e", code], { encoding: "utf8" });
  try {
    const { backend, build } = JSON.parse(r.stdout.trim()) as { backend: string; build: string };
    return { backend, "kernel build": build };
  } catch {
    return { backend: `unknown (${(r.stderr ?? "").trim().split("\n")[0]})` };
  }
}

function versions(): Record<string, string> {
  const version = (pkg: string) => (JSON.parse(readFileSync(join(ROOT, "node_modules", pkg, "package.json"), "utf8")) as { version: string }).version;
  const jupyter = spawnSync("/usr/bin/python3", ["-c", "import nbconvert, nbclient; print(nbconvert.__version__, nbclient.__version__)"], { encoding: "utf8" });
  const [nbconvert, nbclient] = (jupyter.stdout ?? "").trim().split(" ");
  return {
    node: process.version,
    tslab: version("tslab"),
    "plotly.js": version("plotly.js-dist-min"),
    ...(nbconvert ? { nbconvert } : {}),
    ...(nbclient ? { nbclient } : {}),
    // What the notebooks' kernels compute with (they inherit this process's environment).
    ...kernelBuild(),
    threads: process.env.ADVLAB_THREADS || "default",
  };
}

/** Builds, registers the kernel, runs the notebooks and writes the report; returns the runs. */
export async function reproduce(args: Args): Promise<NotebookRun[]> {
  const buildDir = args.outDir;
  mkdirSync(buildDir, { recursive: true });
  if (args.build) {
    console.log("building the library (npm run build) ...");
    build();
  }
  const { buildReport, readResults, reportMarkdown } = await import("./report");
  const { describePass } = await import("./static-pngs");
  console.log(`kernel: ${registerKernel()}`);
  let sources = listNotebooks(args.notebooksDir);
  if (args.only.length > 0) sources = sources.filter((s) => args.only.some((o) => basename(s).startsWith(o)));
  if (sources.length === 0) throw new Error(`reproduce: no notebooks to run (${args.notebooksDir}/*.ipynb)`);
  const resultsDir = join(buildDir, "results");
  const { runs, pngs } = await runNotebooks(sources, {
    outDir: join(buildDir, "notebooks"),
    resultsDir,
    onEvent: (e) => {
      if (e.kind === "start") console.log(`${e.name}: running ...`);
      else if (e.kind === "end") console.log(`${e.name}: ${e.run?.ok ? "ok" : "FAILED"} in ${e.run?.seconds.toFixed(1)} s`);
      else if (e.kind === "pngs-start") console.log(`static PNGs of the figures (${e.notebooks} notebooks) ...`);
      else if (e.kind === "pngs-end") console.log(`static PNGs: ${describePass(e.pngs)}`);
    },
  });

  let reference: ReferenceRates | null = null;
  if (args.reference) {
    // Loaded here, after the build: it imports the compiled library.
    const { referenceNetworkPath, referenceRates } = await import("./reference-rates");
    const path = referenceNetworkPath();
    if (path) {
      console.log(`reference column: the library on ${path} ...`);
      reference = referenceRates(path);
    } else {
      console.log("reference column skipped: the article's network is not there (set ADVLAB_REFERENCE_NETWORK)");
    }
  }

  const report = buildReport(readResults(resultsDir), runs, reference, pngs);
  const { writeFileAtomic } = await import("../dist/util/files");
  writeFileAtomic(join(buildDir, "reproduction.json"), JSON.stringify({ date: new Date().toISOString(), versions: versions(), ...report }, null, 2) + "\n");
  writeFileAtomic(join(buildDir, "reproduction.md"), reportMarkdown(report, { date: new Date().toISOString().slice(0, 16).replace("T", " ") + " UTC", versions: versions() }));
  console.log(`wrote ${join(buildDir, "reproduction.md")} and reproduction.json`);
  assertAllPassed(runs);
  return runs;
}

if (require.main === module) {
  reproduce(parseArgs(process.argv.slice(2))).catch((error: Error) => {
    console.error(error.message);
    process.exit(1);
  });
}
