/**
 * The reproduction report, written as build/reproduction.json and build/reproduction.md by
 * `npm run reproduce`, in three parts:
 * 1. every number the article states (ARTICLE.md), what the article's procedure gives when
 *    measured (ARTICLE.md §8), and ours (build/results/*.json), side by side, with a note
 *    wherever they disagree;
 * 2. published results beside ours (notebooks 07-10), saying "different model: not comparable"
 *    where that is so;
 * 3. every value every notebook recorded.
 * Then each notebook's execution time and the static PNG pass on its own line. The article's,
 * the measured and the published numbers, with their sources, come from
 * data/published-results.json (see data/README.md), not from literals here.
 */
import { existsSync, readdirSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { wilsonInterval } from "../dist";
import { readJsonFile } from "../dist/util/files";
import type { NotebookRun } from "./run-notebooks";
import type { ReferenceRates } from "./reference-rates";
import { describePass, PngPass } from "./static-pngs";

export type Results = Record<string, Record<string, unknown>>;

export interface ReportRow {
  section: string;
  quantity: string;
  /** What the article (text or notebook) states. */
  article: string;
  /** What its procedure gives when measured with its own network (ARTICLE.md §8). */
  measured: string;
  /** Ours, from the notebooks' results on our trained network. */
  ours: string;
  /** The library on the article's own network, where computed. */
  reference: string;
  /** Whether ours agrees with the measured value within sampling error (null: nothing to compare). */
  agrees: boolean | null;
  note: string;
}

/** One row of the second table: a published (or issue-quoted) number beside ours. */
export interface PublishedRow {
  id: string;
  notebook: string;
  paper: string;
  setting: string;
  /** Their number, as the paper states it. */
  theirs: string;
  /** Ours, from the notebook's recorded values ("not recorded: key" where absent). */
  ours: string;
  /** "same model", "different model: not comparable", ... */
  comparable: string;
}

/** What data/published-results.json holds (see data/README.md). */
export interface PublishedData {
  sources: Record<string, string>;
  article: Record<string, { text: string; source: string }>;
  measured: Record<string, { value: number | number[]; n: number | null; text: string; source: string }>;
  published: {
    id: string; notebook: string; paper: string; setting: string; theirs: string; comparable: string;
    ours: { label: string; key: string; index?: number; format: "pct" | "signedPct" | "number" | "integer" }[];
  }[];
}

/** The default data file, beside the notebooks' networks. */
export const PUBLISHED_FILE = resolve(__dirname, "..", "data", "published-results.json");

/** Reads and checks data/published-results.json (or `path`). */
export function readPublished(path = PUBLISHED_FILE): PublishedData {
  const data = readJsonFile(path) as PublishedData;
  for (const part of ["sources", "article", "measured"] as const) {
    if (data[part] === null || typeof data[part] !== "object") throw new TypeError(`${path}: "${part}" must be an object`);
  }
  if (!Array.isArray(data.published)) throw new TypeError(`${path}: "published" must be an array`);
  for (const [key, m] of Object.entries(data.measured)) {
    const ok = typeof m.value === "number" || (Array.isArray(m.value) && m.value.every((v) => typeof v === "number"));
    if (!ok) throw new TypeError(`${path}: measured.${key}.value must be a number or an array of numbers`);
    if (m.n !== null && !(Number.isInteger(m.n) && m.n > 0)) throw new TypeError(`${path}: measured.${key}.n must be a positive integer or null`);
  }
  return data;
}

/** One recorded value of one notebook, flattened to a dotted key (e.g. "oursLinf.perAttack.BPDA"). */
export interface RecordedValue {
  notebook: string;
  key: string;
  value: string;
}

export interface Report {
  rows: ReportRow[];
  /** The second table: published results beside ours. */
  published: PublishedRow[];
  /** The third part: every recorded value of every notebook, in notebook and key order. */
  recorded: RecordedValue[];
  /** Each notebook's execution wall time (no PNGs, no HTML export). */
  notebooks: { name: string; ok: boolean; seconds: number }[];
  /** The static PNG pass after execution, when there was one. */
  pngs: PngPass | null;
  missing: string[];
  reference: ReferenceRates | null;
}

/** Reads every <notebook>.json of the results folder. */
export function readResults(dir: string): Results {
  const results: Results = {};
  if (!existsSync(dir)) return results;
  for (const f of readdirSync(dir).sort()) {
    if (!f.endsWith(".json") || f.startsWith(".")) continue;
    results[basename(f, ".json")] = readJsonFile(join(dir, f)) as Record<string, unknown>;
  }
  return results;
}

const pct = (v: number, digits = 1) => `${(100 * v).toFixed(digits)} %`;

/**
 * Whether two measured rates agree within sampling error: ours (`rate` on `n` draws) and the
 * article's (`expected` on `nExpected` draws, same n unless said). Two-proportion test at 95 %:
 * |p1 - p2| <= 1.96 sqrt(p1 q1 / n1 + p2 q2 / n2), with each p taken from the middle of its
 * Wilson interval so that rates of 0 or 1 on few draws still carry some uncertainty.
 *
 *   withinSampling(0.51, 1000, 0.56)  // false (2.2 standard errors apart)
 */
export function withinSampling(rate: number, n: number, expected: number, nExpected = n): boolean {
  const spread = (p: number, m: number) => {
    const { low, high } = wilsonInterval(Math.round(p * m), m);
    const mid = (low + high) / 2;
    return (mid * (1 - mid)) / m;
  };
  return Math.abs(rate - expected) <= 1.96 * Math.sqrt(spread(rate, n) + spread(expected, nExpected)) + 1e-12;
}

/**
 * How many standard errors apart two rates are: |p1 - p2| / sqrt(p1 q1 / n1 + p2 q2 / n2), with
 * the rates as given (no Wilson adjustment, unlike withinSampling), so rates of 0 or 1 have no
 * spread here.
 */
export function standardErrorsApart(rate: number, n: number, expected: number, nExpected = n): number {
  const se = Math.sqrt((rate * (1 - rate)) / n + (expected * (1 - expected)) / nExpected);
  return se === 0 ? (rate === expected ? 0 : Infinity) : Math.abs(rate - expected) / se;
}

/**
 * Compares a rate of ours with the measured one, and says why they differ when they do: when
 * the library on the article's own network (`reference`) matches the measurement, the procedure
 * is right and the difference is our network's; when it does not either, the draws differ.
 */
export function compareRate(
  ours: number | undefined, n: number, measured: number, nMeasured: number, reference?: number, nReference = nMeasured,
): { agrees: boolean | null; note: string } {
  if (ours === undefined) return { agrees: null, note: "" };
  if (withinSampling(ours, n, measured, nMeasured)) return { agrees: true, note: "within sampling error" };
  const apart = `${standardErrorsApart(ours, n, measured, nMeasured).toFixed(1)} standard errors apart`;
  if (reference === undefined) return { agrees: false, note: `${apart}; our network (data/) is not the article's, and attack outcomes depend on the weights` };
  if (withinSampling(reference, nReference, measured, nMeasured)) {
    return { agrees: false, note: `${apart}; on the article's own network the library gives ${pct(reference)}, matching the measurement: the procedure is the same, the difference is our network's` };
  }
  return {
    agrees: false,
    note: `${apart}; on the article's own network the library gives ${pct(reference)}, ${standardErrorsApart(reference, nReference, measured, nMeasured).toFixed(1)} standard errors from the measurement too: the random draws (start images, pairs) come from a different generator than the measurement's numpy, and our network differs as well`,
  };
}

/** The 10 per-goal rates as "0: 100, 1: 0, ..." (percent). */
const perGoal = (rates: number[]) => rates.map((r, d) => `${d}: ${Math.round(100 * r)}`).join(", ") + " (%)";

/** A recorded value as text: numbers to 4 significant digits, arrays and objects as compact JSON. */
export function formatValue(v: unknown): string {
  const round = (x: unknown): unknown =>
    typeof x === "number" ? (Number.isInteger(x) ? x : Number(x.toPrecision(4))) : Array.isArray(x) ? x.map(round) : x;
  if (typeof v === "number") return String(round(v));
  if (typeof v === "string") return v;
  return JSON.stringify(round(v));
}

/**
 * Every recorded value, notebook by notebook (in name order), keys in the order recorded; nested
 * objects are flattened to dotted keys ("oursLinf.perAttack.BPDA"), arrays kept whole.
 */
export function recordedValues(results: Results): RecordedValue[] {
  const out: RecordedValue[] = [];
  const walk = (notebook: string, prefix: string, v: unknown) => {
    if (v !== null && typeof v === "object" && !Array.isArray(v)) {
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) walk(notebook, prefix ? `${prefix}.${k}` : k, x);
    } else {
      out.push({ notebook, key: prefix, value: formatValue(v) });
    }
  };
  for (const notebook of Object.keys(results).sort()) walk(notebook, "", results[notebook]);
  return out;
}

/**
 * Builds the rows. `results` maps notebook names (e.g. "03-sneaky") to their recorded values;
 * a value a notebook did not record shows as "missing" and is listed in `missing`. Sample sizes
 * are read from what the notebooks record (e.g. 03-sneaky's sneaky2to8Count); a rate whose size
 * was not recorded is shown but not compared.
 */
export function buildReport(
  results: Results, runs: NotebookRun[], reference: ReferenceRates | null, pngs: PngPass | null = null, data: PublishedData = readPublished(),
): Report {
  const missing: string[] = [];
  const num = (notebook: string, key: string): number | undefined => {
    const v = results[notebook]?.[key];
    if (typeof v === "number" && Number.isFinite(v)) return v;
    missing.push(`${notebook}.${key}`);
    return undefined;
  };
  const arr = (notebook: string, key: string): number[] | undefined => {
    const v = results[notebook]?.[key];
    if (Array.isArray(v) && v.every((x) => typeof x === "number")) return v as number[];
    missing.push(`${notebook}.${key}`);
    return undefined;
  };
  const article = (key: string) => data.article[key]?.text ?? "";
  const measuredOf = (key: string) => {
    const m = data.measured[key];
    if (!m) throw new Error(`data/published-results.json: measured.${key} is missing`);
    return m;
  };
  const rateOf = (key: string) => {
    const m = measuredOf(key);
    if (typeof m.value !== "number") throw new Error(`data/published-results.json: measured.${key}.value must be a number`);
    return { value: m.value, n: m.n, text: m.text };
  };
  /** compareRate with the sample sizes as recorded: ours `n` (undefined: not recorded), the measurement's (null: not stated, taken as ours). */
  const compare = (ours: number | undefined, n: number | undefined, key: string, ref?: number, nRef?: number) => {
    const m = rateOf(key);
    if (ours === undefined) return { agrees: null, note: "" };
    if (n === undefined) return { agrees: null, note: "sample size not recorded by the notebook: not compared" };
    const nMeasured = m.n ?? n;
    const c = compareRate(ours, n, m.value, nMeasured, ref, nRef ?? nMeasured);
    const unstated = m.n === null ? `; §8 does not state its sample size, taken as ours (${n})` : "";
    return { agrees: c.agrees, note: c.note + unstated };
  };
  const show = (v: number | undefined, f: (v: number) => string = (x) => pct(x)) => (v === undefined ? "missing" : f(v));
  const ref = (f: (r: ReferenceRates) => string) => (reference ? f(reference) : "");
  const rows: ReportRow[] = [];
  const add = (row: ReportRow) => rows.push(row);

  // 1. The network.
  const acc = num("01-predict", "testAccuracy");
  const accM = rateOf("testAccuracy");
  add({
    section: "network",
    quantity: "test accuracy, [784, 30, 10], 30 epochs, mini-batch 10, eta 3.0",
    article: article("testAccuracy"),
    measured: accM.text,
    ours: show(acc, (v) => pct(v, 2)),
    reference: ref((r) => pct(r.testAccuracy, 2)),
    agrees: acc === undefined ? null : Math.abs(acc - accM.value) <= 0.01,
    note:
      acc !== undefined && Math.abs(acc - accM.value) > 0.01
        ? "ours is our own network (data/, seeded training): a different seed gives a different network; more than 1 point apart"
        : "our own trained network; within a point of the article's",
  });
  const p8384 = num("01-predict", "prediction8384");
  const p8384M = rateOf("prediction8384").value;
  add({
    section: "network",
    quantity: "prediction for test image 8384",
    article: article("prediction8384"),
    measured: rateOf("prediction8384").text,
    ours: show(p8384, String),
    reference: "",
    agrees: p8384 === undefined ? null : p8384 === p8384M,
    note: p8384 !== undefined && p8384 !== p8384M ? "our network reads this image differently" : "",
  });

  // 2. Non-targeted attack.
  const fooled = arr("02-nontargeted", "fooledRateByGoal");
  const starts = num("02-nontargeted", "startsPerGoal");
  const byGoal = measuredOf("fooledRateByGoal");
  const measuredByGoal = byGoal.value as number[];
  const nByGoal = byGoal.n ?? starts ?? 0;
  let goalsAgreeing = 0;
  if (fooled && starts !== undefined) fooled.forEach((r, d) => (goalsAgreeing += withinSampling(r, starts, measuredByGoal[d], nByGoal) ? 1 : 0));
  add({
    section: "non-targeted attack",
    quantity: `goal wins the argmax, per goal (${starts ?? "?"} seeded starts, 1000 steps, eta 1)`,
    article: article("fooledRateByGoal"),
    measured: perGoal(measuredByGoal),
    ours: fooled ? perGoal(fooled) : "missing",
    reference: ref((r) => perGoal(r.fooledRateByGoal)),
    agrees: fooled && starts !== undefined ? goalsAgreeing === 10 : null,
    note: fooled && starts !== undefined
      ? goalsAgreeing === 10
        ? "every goal within sampling error of the measured rate"
        : `${10 - goalsAgreeing} of 10 goals outside sampling error: which noise a network reads as which digit depends on its weights, and ours are not the article's` +
          (reference
            ? `; on the article's own network the library agrees with the measurement for ${reference.fooledRateByGoal.filter((r, d) => withinSampling(r, reference.startsPerGoal, measuredByGoal[d], nByGoal)).length} of 10 goals`
            : "")
      : "",
  });

  // 3. Sneaky attack.
  const sneaky = num("03-sneaky", "sneakySuccessRate");
  const pairs = num("03-sneaky", "sneakyPairs");
  add({
    section: "sneaky attack",
    quantity: `goal wins, ${pairs ?? "?"} seeded (test image, other label) pairs, 100 steps, eta 1, lambda 0.05`,
    article: article("sneakySuccessRate"),
    measured: rateOf("sneakySuccessRate").text,
    ours: show(sneaky),
    reference: ref((r) => pct(r.sneakySuccessRate)),
    ...compare(sneaky, pairs, "sneakySuccessRate", reference?.sneakySuccessRate, reference?.sneakyPairs),
  });
  const two8 = num("03-sneaky", "sneaky2to8Rate");
  const twos = num("03-sneaky", "sneaky2to8Count");
  add({
    section: "sneaky attack",
    quantity: `goal wins, test images of 2 attacked towards 8 (${twos ?? "?"} images)`,
    article: article("sneaky2to8Rate"),
    measured: rateOf("sneaky2to8Rate").text,
    ours: show(two8),
    reference: ref((r) => `${pct(r.sneaky2to8Rate)} (${r.sneaky2to8Count} images)`),
    ...compare(two8, twos, "sneaky2to8Rate", reference?.sneaky2to8Rate, reference?.sneaky2to8Count),
  });

  // 4. Thresholding (04 thresholds the pairs of 03: the same pairs, seeds and starts).
  const rec = num("04-thresholding", "thresholdRecoveryRate");
  add({
    section: "binary thresholding",
    quantity: "thresholding at 0.5 restores the true label (the sneaky examples)",
    article: article("thresholdRecoveryRate"),
    measured: rateOf("thresholdRecoveryRate").text,
    ours: show(rec),
    reference: ref((r) => pct(r.thresholdRecoveryRate)),
    ...compare(rec, pairs, "thresholdRecoveryRate", reference?.thresholdRecoveryRate, reference?.sneakyPairs),
  });
  const recS = num("04-thresholding", "thresholdRecoverySuccessfulRate");
  add({
    section: "binary thresholding",
    quantity: "same, among the successful sneaky examples",
    article: article("thresholdRecoverySuccessfulRate"),
    measured: rateOf("thresholdRecoverySuccessfulRate").text,
    ours: show(recS),
    reference: ref((r) => `${pct(r.thresholdRecovery2to8SuccessfulRate)} (successful 2 -> 8)`),
    agrees: null,
    note: "ours counts every successful pair, §8 only the 2 -> 8 ones: not the same subset, so not compared",
  });
  const clean = num("04-thresholding", "cleanAccuracy");
  const cleanT = num("04-thresholding", "thresholdedCleanAccuracy");
  const drop = accM.value - rateOf("thresholdedCleanAccuracy").value;
  add({
    section: "binary thresholding",
    quantity: "clean test accuracy, before -> after thresholding",
    article: article("thresholdCleanCost"),
    measured: rateOf("thresholdedCleanAccuracy").text,
    ours: clean === undefined || cleanT === undefined ? "missing" : `${pct(clean, 2)} -> ${pct(cleanT, 2)}`,
    reference: ref((r) => `${pct(r.testAccuracy, 2)} -> ${pct(r.thresholdedCleanAccuracy, 2)}`),
    agrees: clean === undefined || cleanT === undefined ? null : Math.abs(clean - cleanT - drop) <= 0.01,
    note: "compared as the cost of thresholding (the drop), within a point",
  });

  // 5. Adversarial training.
  const nb5 = "05-adversarial-training";
  const advN = num(nb5, "advTestCount");
  const testN = num(nb5, "cleanTestCount");
  const origAdv = num(nb5, "originalAdvAccuracy");
  const origCompare = compare(origAdv, advN, "originalAdvAccuracy");
  add({
    section: "adversarial training",
    quantity: `original network on the ${advN ?? "?"}-example adversarial test set`,
    article: article("originalAdvAccuracy"),
    measured: rateOf("originalAdvAccuracy").text,
    ours: show(origAdv),
    reference: "",
    agrees: origCompare.agrees,
    note:
      "the article's '0 %' was never measured; fake labels are drawn uniformly, so 10 % equal the true label, and many attacks fail" +
      (origCompare.agrees === true ? "" : origCompare.note ? `; ${origCompare.note}` : ""),
  });
  const retAdv = num(nb5, "retrainedAdvAccuracy");
  add({
    section: "adversarial training",
    quantity: "retrained network on that adversarial test set",
    article: article("retrainedAdvAccuracy"),
    measured: rateOf("retrainedAdvAccuracy").text,
    ours: show(retAdv),
    reference: "",
    ...compare(retAdv, advN, "retrainedAdvAccuracy"),
  });
  const retClean = num(nb5, "retrainedCleanAccuracy");
  const origClean = num(nb5, "originalCleanAccuracy");
  add({
    section: "adversarial training",
    quantity: "clean test accuracy, original -> retrained",
    article: article("retrainedCleanAccuracy"),
    measured: rateOf("retrainedCleanAccuracy").text,
    ours: origClean === undefined || retClean === undefined ? "missing" : `${pct(origClean, 2)} -> ${pct(retClean, 2)}`,
    reference: "",
    ...compare(retClean, testN, "retrainedCleanAccuracy"),
  });
  const epochs = arr(nb5, "retrainEpochAccuracies");
  add({
    section: "adversarial training",
    quantity: "retraining, test accuracy after epoch 1 -> epoch 30",
    article: article("retrainEpochAccuracies"),
    measured: "",
    ours: epochs && epochs.length > 0 ? `${pct(epochs[0])} -> ${pct(epochs[epochs.length - 1])} (${epochs.length} epochs)` : "missing",
    reference: "",
    agrees: null,
    note: "",
  });
  const white = num(nb5, "whiteBoxRetrainedAccuracy");
  const whiteCompare = compare(white, advN, "whiteBoxRetrainedAccuracy");
  add({
    section: "adversarial training",
    quantity: "retrained network on fresh sneaky examples crafted against itself",
    article: article("whiteBoxRetrainedAccuracy"),
    measured: rateOf("whiteBoxRetrainedAccuracy").text,
    ours: show(white),
    reference: "",
    agrees: whiteCompare.agrees,
    note:
      "the article's 94 % measures transfer from the original network, not white-box robustness" +
      (whiteCompare.agrees === true ? "" : whiteCompare.note ? `; ${whiteCompare.note}` : ""),
  });
  const augS = num(nb5, "augmentSeconds");
  const augN = num(nb5, "augmentCount");
  const retS = num(nb5, "retrainSeconds");
  add({
    section: "adversarial training",
    quantity: "time to build the adversarial examples (100 steps each)",
    article: article("augmentSeconds"),
    measured: "",
    ours: augS === undefined ? "missing" : `${augS.toFixed(1)} s for ${augN ?? "?"}${retS === undefined ? "" : `; retraining 30 epochs: ${retS.toFixed(1)} s`}`,
    reference: "",
    agrees: null,
    note: "different machines: not compared",
  });

  // 6. Transfer.
  const nb6 = "06-transfer";
  const tT = num(nb6, "transferTargetedRate");
  const tU = num(nb6, "transferUntargetedRate");
  const src = num(nb6, "sourceTargetedRate");
  const noise = num(nb6, "noiseBaselineRate");
  const second = num(nb6, "secondNetAccuracy");
  add({
    section: "black-box transfer",
    quantity: "sneaky examples made on [784, 30, 10], read by [784, 100, 10]: attacker's goal / any wrong label",
    article: article("transfer"),
    measured: "",
    ours: tT === undefined || tU === undefined ? "missing" : `${pct(tT)} / ${pct(tU)}`,
    reference: "",
    agrees: null,
    note:
      [
        src === undefined ? "" : `on the source network itself: ${pct(src)}`,
        noise === undefined ? "" : `random noise of the same L2 size misleads the second network ${pct(noise)} of the time`,
        second === undefined ? "" : `second network's clean accuracy ${pct(second, 2)}`,
      ]
        .filter(Boolean)
        .join("; ") || "",
  });

  // The second table: published results beside ours. A notebook that did not run leaves its rows
  // "not recorded"; only notebooks that ran count their absent keys as missing.
  const published: PublishedRow[] = data.published.map((p) => {
    const ours = p.ours.map((o) => {
      const recorded = results[p.notebook];
      let v: unknown = recorded?.[o.key];
      if (o.index !== undefined) v = Array.isArray(v) ? v[o.index] : undefined;
      if (typeof v !== "number" || !Number.isFinite(v)) {
        if (recorded) missing.push(`${p.notebook}.${o.key}${o.index === undefined ? "" : `[${o.index}]`}`);
        return `${o.label}: not recorded`;
      }
      const text =
        o.format === "pct" ? pct(v) : o.format === "signedPct" ? `${v >= 0 ? "+" : ""}${(100 * v).toFixed(1)} points`
          : o.format === "integer" ? String(Math.round(v)) : v.toFixed(3);
      return `${o.label}: ${text}`;
    });
    return { id: p.id, notebook: p.notebook, paper: p.paper, setting: p.setting, theirs: p.theirs, ours: ours.join("; "), comparable: p.comparable };
  });

  return {
    rows,
    published,
    recorded: recordedValues(results),
    notebooks: runs.map((r) => ({ name: r.name, ok: r.ok, seconds: Math.round(r.seconds * 10) / 10 })),
    pngs: pngs && { ...pngs, seconds: Math.round(pngs.seconds * 10) / 10 },
    missing,
    reference,
  };
}

const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

/**
 * The report as Markdown: the comparison with the article, published results beside ours, every
 * recorded value per notebook, then wall times and the PNG pass, then what is missing.
 */
export function reportMarkdown(report: Report, meta: { date: string; versions: Record<string, string> }): string {
  const lines: string[] = [];
  lines.push("# Reproduction of the article's numbers", "");
  lines.push(`Made by \`npm run reproduce\` on ${meta.date}. ${Object.entries(meta.versions).map(([k, v]) => `${k} ${v}`).join(", ")}.`, "");
  lines.push(
    "Columns: what the article states; what its own procedure gives when measured with its own network (ARTICLE.md §8);",
    "ours (the notebooks, on our trained network from data/); the library on the article's own network, where computed.",
    "\"agrees\": ours and the measured value are within sampling error of each other (two-proportion test at 95 %).",
    "",
  );
  lines.push("| section | quantity | article | measured (§8) | ours | library, article's network | agrees | note |");
  lines.push("|---|---|---|---|---|---|---|---|");
  for (const r of report.rows) {
    const agrees = r.agrees === null ? "" : r.agrees ? "yes" : "no";
    lines.push(`| ${[r.section, r.quantity, r.article, r.measured, r.ours, r.reference, agrees, r.note].map(cell).join(" | ")} |`);
  }
  lines.push(
    "", "## Published results beside ours", "",
    "Sources and settings as data/published-results.json gives them. \"different model: not comparable\" means the paper's",
    "number is on another model, so it is a reference point, not a check of ours.", "",
    "| notebook | paper | their setting | their number | ours | comparable |", "|---|---|---|---|---|---|",
  );
  for (const p of report.published) lines.push(`| ${[p.notebook, p.paper, p.setting, p.theirs, p.ours, p.comparable].map(cell).join(" | ")} |`);
  lines.push("", "## All recorded values", "", "Every value each notebook recorded with `recordResults` (nested values as dotted keys).");
  let current = "";
  for (const v of report.recorded) {
    if (v.notebook !== current) {
      current = v.notebook;
      lines.push("", `### ${current}`, "", "| key | value |", "|---|---|");
    }
    lines.push(`| ${cell(v.key)} | ${cell(v.value)} |`);
  }
  if (report.recorded.length === 0) lines.push("", "(no notebook recorded anything)");
  lines.push("", "## Notebooks", "", "| notebook | result | wall time |", "|---|---|---|");
  for (const n of report.notebooks) lines.push(`| ${n.name} | ${n.ok ? "ran" : "FAILED"} | ${n.seconds.toFixed(1)} s |`);
  const total = report.notebooks.reduce((sum, n) => sum + n.seconds, 0);
  lines.push("", `Wall time is execution alone (kernel start to last cell): ${total.toFixed(1)} s in all.`);
  if (report.pngs) lines.push("", `Static PNGs of the figures, drawn afterwards in one pass (one browser): ${describePass(report.pngs)}.`);
  if (report.reference) lines.push("", `The reference column took ${report.reference.seconds.toFixed(1)} s (${report.reference.network}).`);
  if (report.missing.length > 0) lines.push("", "## Missing values", "", ...report.missing.map((m) => `- ${m}`));
  lines.push("");
  return lines.join("\n");
}
