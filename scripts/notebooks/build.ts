/**
 * Builds notebooks/NN-topic.ipynb from the readable sources scripts/notebooks/NN-topic.md.
 *
 * A source is Markdown; every ```ts fenced block becomes a code cell, and the Markdown between
 * two blocks one Markdown cell (a line holding only `<!-- cell -->` splits it further). The
 * notebooks are written with no outputs and execution_count null, for the tslab kernel.
 *
 *   npx tsx scripts/notebooks/build.ts            # every source
 *   npx tsx scripts/notebooks/build.ts 03-sneaky  # one
 *   npx tsx scripts/notebooks/build.ts --check    # exit 1 if a notebook differs from its source
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { writeFileAtomic } from "../../lib/util/files";

const here = __dirname;
const outDir = resolve(here, "..", "..", "notebooks");

interface Cell { cell_type: "markdown" | "code"; source: string }

/** Splits one source into cells; throws on an unclosed code block. */
export function parseSource(text: string, file: string): Cell[] {
  const cells: Cell[] = [];
  let markdown: string[] = [];
  let code: string[] | null = null;
  const flushMarkdown = () => {
    const source = markdown.join("\n").trim();
    if (source) cells.push({ cell_type: "markdown", source });
    markdown = [];
  };
  text.split("\n").forEach((line) => {
    if (code === null && /^```ts\s*$/.test(line)) {
      flushMarkdown();
      code = [];
    } else if (code !== null && /^```\s*$/.test(line)) {
      cells.push({ cell_type: "code", source: code.join("\n").trim() });
      code = null;
    } else if (code !== null) {
      code.push(line);
    } else if (line.trim() === "<!-- cell -->") {
      flushMarkdown();
    } else {
      markdown.push(line);
    }
  });
  if (code !== null) throw new Error(`${file}: a \`\`\`ts block is never closed`);
  flushMarkdown();
  return cells;
}

/** The nbformat 4 JSON of `cells`, for the tslab kernel, without outputs. */
export function toNotebook(cells: Cell[], name: string): object {
  const id = (i: number) => `${name}-${String(i).padStart(2, "0")}`;
  const lines = (s: string) => s.split("\n").map((l, i, all) => (i < all.length - 1 ? l + "\n" : l));
  return {
    cells: cells.map((c, i) =>
      c.cell_type === "code"
        ? { cell_type: "code", execution_count: null, id: id(i), metadata: {}, outputs: [], source: lines(c.source) }
        : { cell_type: "markdown", id: id(i), metadata: {}, source: lines(c.source) },
    ),
    metadata: {
      kernelspec: { name: "tslab", display_name: "TypeScript", language: "typescript" },
      language_info: { name: "typescript" },
    },
    nbformat: 4,
    nbformat_minor: 5,
  };
}

function main(): void {
  const args = process.argv.slice(2);
  const check = args.includes("--check");
  const wanted = args.filter((a) => a !== "--check");
  const sources = readdirSync(here).filter((f) => /^\d\d-.*\.md$/.test(f));
  const chosen = wanted.length ? sources.filter((f) => wanted.some((w) => f.startsWith(w))) : sources;
  if (chosen.length === 0) throw new Error(`no notebook source matches ${wanted.join(", ")}`);
  const stale: string[] = [];
  for (const file of chosen) {
    const cells = parseSource(readFileSync(join(here, file), "utf8"), file);
    const out = join(outDir, file.replace(/\.md$/, ".ipynb"));
    const text = JSON.stringify(toNotebook(cells, file.slice(0, 2)), null, 1) + "\n";
    if (check) {
      if (!existsSync(out) || readFileSync(out, "utf8") !== text) stale.push(out);
      continue;
    }
    writeFileAtomic(out, text);
    console.log(`${out}: ${cells.length} cells`);
  }
  if (stale.length > 0) {
    console.error(`out of date with scripts/notebooks/*.md (run npx tsx scripts/notebooks/build.ts):\n  ${stale.join("\n  ")}`);
    process.exit(1);
  }
}

main();
