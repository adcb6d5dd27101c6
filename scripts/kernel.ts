/**
 * `npm run kernel`: registers the tslab kernel ("tslab", shown as "TypeScript") for this project
 * only, in .jupyter/share/jupyter/kernels/ under the project root. Jupyter finds it when
 * JUPYTER_PATH includes .jupyter/share/jupyter; nothing outside the project is touched.
 *
 *   npm run kernel
 *   export JUPYTER_PATH="$PWD/.jupyter/share/jupyter"
 *   jupyter kernelspec list     # tslab  .../.jupyter/share/jupyter/kernels/tslab
 *
 * Environment: ADVLAB_PYTHON (a Python with jupyter_client; default /usr/bin/python3 when it
 * has it, else python3 on PATH), ADVLAB_JUPYTER (the jupyter command; default /usr/bin/jupyter
 * when present, else jupyter on PATH).
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { delimiter, join, resolve } from "node:path";

export const ROOT = resolve(__dirname, "..");

/** The folder whose kernels/ holds the project's kernel spec; goes on JUPYTER_PATH. */
export function jupyterDataDir(root = ROOT): string {
  return join(root, ".jupyter", "share", "jupyter");
}

function hasModules(python: string, modules: string[]): boolean {
  const r = spawnSync(python, ["-c", `import ${modules.join(", ")}`], { stdio: "ignore" });
  return r.status === 0;
}

/**
 * A Python with the given Jupyter modules: jupyter_client for tslab's installer, nbclient and
 * nbformat to execute notebooks.
 */
export function findPython(modules: string[] = ["jupyter_client"]): string {
  const fromEnv = process.env.ADVLAB_PYTHON;
  if (fromEnv) return fromEnv;
  // The python3 first on PATH may be a pyenv one without Jupyter; Debian's has it.
  for (const candidate of ["/usr/bin/python3", "python3", "python"]) {
    if (hasModules(candidate, modules)) return candidate;
  }
  throw new Error(
    `no Python with ${modules.join(", ")} found: install Jupyter (apt-get install jupyter-nbconvert python3-nbclient jupyter-client python3-ipykernel, or pip install jupyterlab) or set ADVLAB_PYTHON`,
  );
}

/** The jupyter command. */
export function findJupyter(): string {
  const fromEnv = process.env.ADVLAB_JUPYTER;
  if (fromEnv) return fromEnv;
  if (existsSync("/usr/bin/jupyter")) return "/usr/bin/jupyter";
  return "jupyter";
}

/** process.env with the project's kernel folder first on JUPYTER_PATH. */
export function jupyterEnv(root = ROOT, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const existing = base.JUPYTER_PATH ? base.JUPYTER_PATH.split(delimiter).filter((p) => p !== jupyterDataDir(root)) : [];
  return {
    ...base,
    JUPYTER_PATH: [jupyterDataDir(root), ...existing].join(delimiter),
    // Quiets a debugger warning Python 3.11 prints on every kernel start.
    PYDEVD_DISABLE_FILE_VALIDATION: "1",
  };
}

/**
 * Writes the kernel spec (tslab's own installer, with this project's tslab binary) and returns
 * the kernel spec folder. Idempotent.
 */
export function registerKernel(root = ROOT): string {
  const python = findPython();
  const tslabBin = join(root, "node_modules", ".bin", "tslab");
  if (!existsSync(tslabBin)) throw new Error(`${tslabBin} not found: run npm install first`);
  const prefix = join(root, ".jupyter");
  const cli = join(root, "node_modules", "tslab", "bin", "tslab");
  const r = spawnSync(process.execPath, [cli, "install", `--python=${python}`, `--binary=${tslabBin}`, `--prefix=${prefix}`], {
    encoding: "utf8",
  });
  if (r.status !== 0) {
    throw new Error(`tslab install failed (exit ${r.status}):\n${r.stdout}${r.stderr}`);
  }
  const kernelDir = join(jupyterDataDir(root), "kernels", "tslab");
  if (!existsSync(join(kernelDir, "kernel.json"))) throw new Error(`tslab install reported success but ${kernelDir}/kernel.json is missing`);
  return kernelDir;
}

if (require.main === module) {
  try {
    const dir = registerKernel();
    console.log(`tslab kernel registered in ${dir}`);
    console.log(`Before starting Jupyter (JupyterLab, nbconvert) in this shell:\n  export JUPYTER_PATH="${jupyterDataDir()}"`);
  } catch (error) {
    console.error((error as Error).message);
    process.exit(1);
  }
}
