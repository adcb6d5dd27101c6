import { expect } from "chai";
import { evaluationChecks, EvaluationCurves } from "../dist";
import { checksBundle } from "../dist/notebook/notebook-html";

/** A sound evaluation: PGD beats Square everywhere, success grows with eps, 40 -> 80 steps changes nothing, eps 1 fools all. */
const good: EvaluationCurves = {
  whiteBox: [{ eps: 0.05, success: 0.45 }, { eps: 0.1, success: 0.86 }, { eps: 0.2, success: 1 }],
  blackBox: [{ eps: 0.05, success: 0.3 }, { eps: 0.1, success: 0.71 }, { eps: 0.2, success: 0.99 }],
  stepsCurve: [{ steps: 10, success: 0.7 }, { steps: 20, success: 0.85 }, { steps: 40, success: 0.86 }, { steps: 80, success: 0.86 }],
  unbounded: { success: 1, name: "PGD at eps 1" },
  n: 500,
};

const outcome = (curves: EvaluationCurves, check: string) => evaluationChecks(curves).outcomes.find((o) => o.check === check)!;

describe("evaluationChecks", () => {
  it("stays quiet on a sound evaluation: every check runs and none fires", () => {
    const r = evaluationChecks(good);
    expect(r.ok).to.equal(true);
    expect(r.flags).to.deep.equal([]);
    expect(r.outcomes.map((o) => o.check)).to.deep.equal(["black-box-stronger", "success-not-growing", "more-steps-help", "unbounded-below-100"]);
    r.outcomes.forEach((o) => expect(o.checked, o.check).to.equal(true));
  });

  it("flags a black-box attack that fools more than the white-box one, naming the eps and both rates", () => {
    const o = outcome({ ...good, blackBox: [{ eps: 0.05, success: 0.3 }, { eps: 0.1, success: 0.95 }, { eps: 0.2, success: 1 }] }, "black-box-stronger");
    expect(o.fired).to.equal(true);
    expect(o.numbers).to.include({ eps: 0.1, whiteBox: 0.86, blackBox: 0.95 });
    expect(o.message).to.contain("eps 0.1").and.contain("95.0 % (475 of 500)").and.contain("86.0 % (430 of 500)");
  });

  it("ignores a black-box lead within the tolerance", () => {
    expect(outcome({ ...good, blackBox: [{ eps: 0.1, success: 0.865 }] }, "black-box-stronger").fired).to.equal(false);
    expect(outcome({ ...good, blackBox: [{ eps: 0.1, success: 0.865 }], tolerance: 0 }, "black-box-stronger").fired).to.equal(true);
  });

  it("flags success that falls as eps grows, on either curve, whatever order the points come in", () => {
    const o = outcome({ ...good, whiteBox: [{ eps: 0.2, success: 0.6 }, { eps: 0.05, success: 0.45 }, { eps: 0.1, success: 0.86 }] }, "success-not-growing");
    expect(o.fired).to.equal(true);
    expect(o.numbers).to.deep.equal({ epsLow: 0.1, successLow: 0.86, epsHigh: 0.2, successHigh: 0.6 });
    expect(o.message).to.contain("eps 0.1").and.contain("eps 0.2");
    expect(outcome({ ...good, blackBox: [{ eps: 0.05, success: 0.5 }, { eps: 0.1, success: 0.2 }] }, "success-not-growing").fired).to.equal(true);
  });

  it("flags an attack that doubling the steps still improves, comparing the last count with the largest at most half of it", () => {
    const o = outcome({ ...good, stepsCurve: [{ steps: 20, success: 0.6 }, { steps: 40, success: 0.7 }, { steps: 80, success: 0.8 }] }, "more-steps-help");
    expect(o.fired).to.equal(true);
    expect(o.numbers).to.deep.equal({ steps: 40, success: 0.7, moreSteps: 80, successMoreSteps: 0.8 });
    expect(o.message).to.contain("40 steps").and.contain("80");
  });

  it("does not judge convergence from step counts less than a factor two apart", () => {
    const o = outcome({ ...good, stepsCurve: [{ steps: 40, success: 0.5 }, { steps: 60, success: 0.9 }] }, "more-steps-help");
    expect(o.checked).to.equal(false);
    expect(o.fired).to.equal(false);
  });

  it("flags an unbounded attack below 100 %, with the count", () => {
    const o = outcome({ ...good, unbounded: { success: 0.998, name: "PGD at eps 1" } }, "unbounded-below-100");
    expect(o.fired).to.equal(true);
    expect(o.numbers).to.deep.equal({ success: 0.998 });
    expect(o.message).to.contain("PGD at eps 1").and.contain("(499 of 500)");
    expect(outcome({ ...good, unbounded: { success: 0.998 }, unboundedTolerance: 0.005 }, "unbounded-below-100").fired).to.equal(false);
  });

  it("says which checks it could not run when their curves are missing, and fires none of them", () => {
    const r = evaluationChecks({ whiteBox: good.whiteBox });
    expect(r.ok).to.equal(true);
    expect(r.outcomes.filter((o) => o.checked).map((o) => o.check)).to.deep.equal(["success-not-growing"]);
    expect(r.outcomes.find((o) => o.check === "unbounded-below-100")!.message).to.match(/^not checked/);
  });

  it("lists the fired checks in flags and reports ok false", () => {
    const r = evaluationChecks({ ...good, unbounded: { success: 0.9 }, stepsCurve: [{ steps: 40, success: 0.5 }, { steps: 80, success: 0.7 }] });
    expect(r.ok).to.equal(false);
    expect(r.flags.map((f) => f.check)).to.deep.equal(["more-steps-help", "unbounded-below-100"]);
  });

  it("states counts per curve when the curves rest on different numbers of images", () => {
    const r = evaluationChecks({ ...good, blackBox: [{ eps: 0.1, success: 0.96 }], unbounded: { success: 0.99 }, n: { eps: 150, unbounded: 500 } });
    expect(r.flags.find((f) => f.check === "black-box-stronger")!.message).to.contain("(144 of 150)").and.contain("(129 of 150)");
    expect(r.flags.find((f) => f.check === "unbounded-below-100")!.message).to.contain("(495 of 500)");
    expect(() => evaluationChecks({ ...good, n: { steps: 0 } })).to.throw(RangeError, /n\.steps/);
  });

  it("refuses rates outside [0, 1] and missing numbers, naming the entry", () => {
    expect(() => evaluationChecks({ whiteBox: [{ eps: 0.1, success: 86 }] })).to.throw(RangeError, /whiteBox\[0\]\.success/);
    expect(() => evaluationChecks({ stepsCurve: [{ steps: Number.NaN, success: 0.5 }] })).to.throw(RangeError, /stepsCurve\[0\]\.steps/);
    expect(() => evaluationChecks({ unbounded: { success: -0.1 } })).to.throw(RangeError, /unbounded\.success/);
  });

  it("checksBundle shows a warning block per fired check and a table of all four", () => {
    const fired = checksBundle(evaluationChecks({ ...good, unbounded: { success: 0.9 } }));
    expect(String(fired["text/html"])).to.contain("advlab-flag").and.contain("unbounded-below-100");
    expect(String(fired["text/plain"])).to.match(/^FLAG\s+unbounded-below-100/m);
    const quiet = checksBundle(evaluationChecks(good));
    expect(String(quiet["text/html"])).not.to.contain("advlab-flag");
    expect(String(quiet["text/plain"]).match(/^ok /gm)).to.have.length(4);
  });
});
