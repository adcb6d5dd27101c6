import { expect } from "chai";
import { buildReport, compareRate, readPublished, recordedValues, reportMarkdown, standardErrorsApart, withinSampling } from "../scripts/report";
import type { NotebookRun } from "../scripts/run-notebooks";

const run = (name: string, ok: boolean, seconds: number): NotebookRun => ({ name, source: `${name}.ipynb`, ok, seconds, ipynb: "", html: "" });

describe("reproduction report", () => {
  it("withinSampling: 56 % and 58 % of 1,000 agree; 51 % and 56 % do not", () => {
    expect(withinSampling(0.58, 1000, 0.56)).to.equal(true);
    expect(withinSampling(0.51, 1000, 0.56)).to.equal(false);
    expect(standardErrorsApart(0.51, 1000, 0.56)).to.be.closeTo(2.24, 0.01);
  });

  it("withinSampling: on 20 starts, 0 % and 5 % agree while 0 % and 60 % do not", () => {
    expect(withinSampling(0, 20, 0.05)).to.equal(true);
    expect(withinSampling(0, 20, 0.6)).to.equal(false);
  });

  it("compareRate blames our network when the article's network matches the measurement", () => {
    const { agrees, note } = compareRate(0.888, 200, 0.38, 200, 0.39, 200);
    expect(agrees).to.equal(false);
    expect(note).to.contain("39.0 %").and.to.contain("the difference is our network's");
  });

  it("lists every value a notebook did not record as missing, and shows it so in the table", () => {
    const report = buildReport({ "01-predict": { testAccuracy: 0.949, prediction8384: 8 } }, [], null);
    expect(report.missing).to.include("03-sneaky.sneakySuccessRate").and.to.include("05-adversarial-training.retrainedAdvAccuracy");
    expect(report.missing).to.not.include("01-predict.testAccuracy");
    const sneaky = report.rows.find((r) => r.quantity.startsWith("goal wins, ? seeded"))!;
    expect(sneaky.ours).to.equal("missing");
    expect(sneaky.agrees).to.equal(null);
  });

  it("puts ours beside the article's and the measured number, with agreement", () => {
    const report = buildReport({ "05-adversarial-training": { originalAdvAccuracy: 0.393, retrainedAdvAccuracy: 0.6, advTestCount: 1000 } }, [], null);
    const original = report.rows.find((r) => r.quantity.startsWith("original network on"))!;
    expect([original.article, original.measured, original.ours, original.agrees]).to.deep.equal(["near 0 % (asserted, not measured)", "41 %", "39.3 %", true]);
    const retrained = report.rows.find((r) => r.quantity.startsWith("retrained network on that"))!;
    expect(retrained.agrees).to.equal(false);
    expect(retrained.note).to.match(/standard errors apart/);
  });

  it("the Markdown has the comparison table and each notebook's result and wall time", () => {
    const report = buildReport({}, [run("01-predict", true, 14.93), run("02-nontargeted", false, 3)], null);
    const md = reportMarkdown(report, { date: "2026-01-01 00:00 UTC", versions: { node: "v20" } });
    expect(md).to.contain("| section | quantity | article | measured (§8) | ours |");
    expect(md).to.contain("| 01-predict | ran | 14.9 s |").and.to.contain("| 02-nontargeted | FAILED | 3.0 s |");
    expect(md.split("\n").filter((l) => l.startsWith("| network |"))).to.have.length(2);
  });

  it("reads the sample sizes the notebooks record: a rate without its size is shown but not compared", () => {
    const without = buildReport({ "05-adversarial-training": { originalAdvAccuracy: 0.393 } }, [], null);
    const row = without.rows.find((r) => r.quantity.startsWith("original network on"))!;
    expect([row.ours, row.agrees]).to.deep.equal(["39.3 %", null]);
    expect(row.note).to.contain("sample size not recorded");
    expect(without.missing).to.include("05-adversarial-training.advTestCount");
    // Against §8's 38 % (its sample size unstated, so taken as ours): 40 % of 5 agrees, 15 % of 200 does not.
    const few = buildReport({ "03-sneaky": { sneaky2to8Rate: 0.4, sneaky2to8Count: 5 } }, [], null);
    expect(few.rows.find((r) => r.quantity.includes("towards 8"))!.agrees).to.equal(true);
    expect(few.rows.find((r) => r.quantity.includes("towards 8"))!.quantity).to.contain("(5 images)");
    const many = buildReport({ "03-sneaky": { sneaky2to8Rate: 0.15, sneaky2to8Count: 200 } }, [], null);
    expect(many.rows.find((r) => r.quantity.includes("towards 8"))!.agrees).to.equal(false);
  });

  it("compares the sneaky success rate with §8's 53.1 % of 32,000 attacks (the library's 51.0 % of 1,000 agrees)", () => {
    const report = buildReport({ "03-sneaky": { sneakySuccessRate: 0.51, sneakyPairs: 1000 } }, [], null);
    const row = report.rows.find((r) => r.quantity.startsWith("goal wins, 1000 seeded"))!;
    expect(row.measured).to.contain("53.1 %").and.to.contain("32,000");
    expect(row.agrees).to.equal(true);
  });

  it("takes the article's, the measured and the published numbers from data/published-results.json, each with a source", () => {
    const data = readPublished();
    expect(data.measured.sneakySuccessRate).to.include({ value: 0.531, n: 32000 });
    for (const [key, m] of Object.entries(data.measured)) expect(m.source, `measured.${key}`).to.be.a("string").and.not.equal("");
    for (const p of data.published) {
      expect(p.paper, p.id).to.not.equal("");
      expect(p.ours.length, p.id).to.be.above(0);
    }
    expect(data.published.filter((p) => p.comparable.startsWith("different model: not comparable")).map((p) => p.id))
      .to.include.members(["carlini-wagner-l2", "madry-pgd", "papernot-substitute"]);
  });

  it("puts published results beside ours, and says 'not recorded' for a notebook that did not record them", () => {
    const report = buildReport({ "09-adversarial-training-compared": { pgdPgd40: [0.87, 0.75, 0.25], naturalClean: 0.973, naturalPgd40: [0.6, 0.07, 0] } }, [], null);
    const madry = report.published.find((p) => p.id === "madry-pgd")!;
    expect(madry.theirs).to.equal("89-93 % accuracy");
    expect(madry.ours).to.contain("75.0 %").and.to.contain("25.0 %");
    expect(madry.comparable).to.contain("different model: not comparable");
    const natural = report.published.find((p) => p.id === "numpy-natural")!;
    expect(natural.ours).to.equal("clean: 97.3 %; PGD-40 at 0.1: 7.0 %");
    const cw = report.published.find((p) => p.id === "carlini-wagner-l2")!;
    expect(cw.ours).to.contain("not recorded");
    expect(report.missing).to.include("09-adversarial-training-compared.fgsmRsClean");
    expect(report.missing.some((m) => m.startsWith("07-attacks-and-curves."))).to.equal(false);
  });

  it("lists every recorded value of every notebook, nested values under dotted keys", () => {
    const results = {
      "09-adversarial-training-compared": { evalImages: 1000, naturalPgd40: [0.61234, 0.07, 0] },
      "08-thresholding-adaptive": { oursLinf: { eps: [0, 0.1], perAttack: { BPDA: [0.9, 0.5] } } },
    };
    expect(recordedValues(results)).to.deep.equal([
      { notebook: "08-thresholding-adaptive", key: "oursLinf.eps", value: "[0,0.1]" },
      { notebook: "08-thresholding-adaptive", key: "oursLinf.perAttack.BPDA", value: "[0.9,0.5]" },
      { notebook: "09-adversarial-training-compared", key: "evalImages", value: "1000" },
      { notebook: "09-adversarial-training-compared", key: "naturalPgd40", value: "[0.6123,0.07,0]" },
    ]);
    const md = reportMarkdown(buildReport(results, [], null), { date: "2026-01-01 00:00 UTC", versions: {} });
    expect(md).to.contain("## Published results beside ours").and.to.contain("## All recorded values");
    expect(md).to.contain("### 09-adversarial-training-compared").and.to.contain("| naturalPgd40 | [0.6123,0.07,0] |");
    expect(md).to.contain("| oursLinf.perAttack.BPDA | [0.9,0.5] |");
  });
});
