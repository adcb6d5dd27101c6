/**
 * npx tsx scripts/bench-threads.ts [--repeats N] [--examples N]   (after npm run build)
 *
 * The thread-count policy, measured: sgd (784-30-10, mini-batches of 10) and the sneaky attack
 * with 1 thread, 2 threads and the default ("auto"), on the machine as it is and again while a
 * busy loop (another process) keeps one core busy. Prints medians (runs interleaved, so that
 * changes in the machine's load hit every setting alike) and the load average before each part.
 * The default must never be more than 10 % slower than 1 thread.
 */
import { spawn } from "node:child_process";
import { loadavg } from "node:os";
import { createRng, makeDataset, Network, setThreads, sneakyAdversarialBatch } from "../dist";
import { kernelEngine } from "../dist/kernels/pool";

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const repeats = arg("--repeats", 7);
const examples = arg("--examples", 20_000);

const rng = createRng(1);
const images = Float32Array.from({ length: examples * 784 }, () => rng.uniform());
const data = makeDataset(images, Uint8Array.from({ length: examples }, () => rng.int(10)));
const attackImages = 400;
const attackSteps = 50;
const goals = Array.from({ length: attackImages }, (_, i) => i % 10);

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** us per training example of one sgd epoch (the second of two: the first warms up). */
function sgdMicros(): number {
  const net = new Network([784, 30, 10], { seed: 1 });
  let seconds = 0;
  net.sgd(data, 2, 10, 3.0, { onEpoch: (r) => { seconds = r.seconds; } });
  return (seconds / examples) * 1e6;
}

/** us per image per step of the sneaky attack. */
function attackMicros(net: Network): number {
  const start = performance.now();
  sneakyAdversarialBatch(net, goals, images.subarray(0, attackImages * 784), attackSteps, 1);
  return ((performance.now() - start) * 1000) / (attackImages * attackSteps);
}

type Setting = 1 | 2 | "auto";
const SETTINGS: Setting[] = [1, 2, "auto"];

function measure(label: string): void {
  const [l1] = loadavg();
  const attackNet = new Network([784, 30, 10], { seed: 2 });
  const sgd = new Map<Setting, number[]>(SETTINGS.map((s) => [s, []]));
  const attack = new Map<Setting, number[]>(SETTINGS.map((s) => [s, []]));
  const autoThreads: number[] = [];
  for (let r = 0; r < repeats; r++) {
    for (const s of SETTINGS) {
      setThreads(s);
      sgd.get(s)!.push(sgdMicros());
      if (s === "auto") autoThreads.push(kernelEngine().lastJobThreads);
      attack.get(s)!.push(attackMicros(attackNet));
    }
  }
  console.log(`\n${label} (1-minute load average before: ${l1.toFixed(2)}; default ran jobs on ${autoThreads.join(",")} threads)`);
  console.log("setting   sgd us/example   attack us/image-step");
  for (const s of SETTINGS) {
    console.log(`${String(s).padEnd(9)} ${median(sgd.get(s)!).toFixed(2).padStart(14)}   ${median(attack.get(s)!).toFixed(3).padStart(20)}`);
  }
  const ratio = median(sgd.get("auto")!) / median(sgd.get(1)!);
  const aratio = median(attack.get("auto")!) / median(attack.get(1)!);
  console.log(`default / 1 thread: sgd ${ratio.toFixed(2)}, attack ${aratio.toFixed(2)}`);
}

async function main(): Promise<void> {
  measure("as the machine is");
  const busy = spawn(process.execPath, ["-e", "for(;;){}"], { stdio: "ignore" });
  try {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    measure("one core kept busy by another process");
  } finally {
    busy.kill("SIGKILL");
  }
}

void main();
