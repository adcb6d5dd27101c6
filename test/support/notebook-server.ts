/**
 * A Jupyter Notebook 6 server (Debian's jupyter-notebook) on a folder of executed notebooks,
 * for browser tests of what a reader sees when the notebooks are not trusted: a fresh data
 * folder holds no signatures, so every notebook opens untrusted (outputs' HTML sanitised, no
 * scripts run). Its kernels are the project's (JUPYTER_PATH from scripts/kernel).
 *
 *   const server = await startNotebookServer(dir)   // { url: "http://127.0.0.1:8891/", stop() }
 *   await page.goto(server.url + "notebooks/01-predict.ipynb")
 *   await server.stop()
 */
import { ChildProcess, spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { findJupyter, jupyterEnv } from "../../scripts/kernel";

export interface NotebookServer {
  /** The server's root URL, ending in "/". */
  url: string;
  /** Everything the server printed (for error messages). */
  log(): string;
  stop(): Promise<void>;
}

/** A TCP port nobody listens on now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

/**
 * Starts `jupyter notebook` on `dir` (no token, no browser, localhost only), with its config,
 * data and runtime folders under `stateDir`; resolves once it answers HTTP. Throws, with the
 * server's output, when it does not start within `timeoutMs`.
 */
export async function startNotebookServer(dir: string, stateDir: string, timeoutMs = 60000): Promise<NotebookServer> {
  const port = await freePort();
  for (const sub of ["config", "data", "runtime"]) mkdirSync(join(stateDir, sub), { recursive: true });
  const env = {
    ...jupyterEnv(),
    JUPYTER_CONFIG_DIR: join(stateDir, "config"),
    JUPYTER_DATA_DIR: join(stateDir, "data"),
    JUPYTER_RUNTIME_DIR: join(stateDir, "runtime"),
  };
  let output = "";
  const child: ChildProcess = spawn(
    findJupyter(),
    ["notebook", "--no-browser", "--ip=127.0.0.1", `--port=${port}`, "--port-retries=0", "--NotebookApp.token=", "--NotebookApp.password=", `--notebook-dir=${dir}`,
      // CI runs as root, which the server refuses unless told.
      ...(process.getuid?.() === 0 ? ["--allow-root"] : [])],
    { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"] },
  );
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const url = `http://127.0.0.1:${port}/`;
  const started = Date.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`jupyter notebook exited with ${child.exitCode}:\n${output}`);
    try {
      const r = await fetch(`${url}api/status`);
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() - started > timeoutMs) {
      child.kill("SIGTERM");
      throw new Error(`jupyter notebook did not answer on ${url} within ${timeoutMs / 1000} s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    url,
    log: () => output,
    async stop() {
      if (child.exitCode !== null) return;
      // SIGTERM: the server shuts its kernels down, then exits.
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10000);
      await exited;
      clearTimeout(timer);
    },
  };
}
