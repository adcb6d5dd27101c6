import { expect } from "chai";
import { buildReport, compareRate, reportMarkdown, standardErrorsApart, withinSampling } from "../scripts/report";
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
    const sneaky = report.rows.find((r) => r.quantity.startsWith("goal wins, 1000"))!;
    expect(sneaky.ours).to.equal("missing");
    expect(sneaky.agrees).to.equal(null);
  });

  it("puts ours beside the article's and the measured number, with agreement", () => {
    const report = buildReport({ "05-adversarial-training": { originalAdvAccuracy: 0.393, retrainedAdvAccuracy: 0.6 } }, [], null);
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
});
