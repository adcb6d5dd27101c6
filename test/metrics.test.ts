import { expect } from "chai";
import { accuracy, confusionMatrix, loadMnist, predictions, rate, sliceDataset, wilsonInterval, argmax, attackOutcome } from "../dist";
import { referenceNetwork } from "./support/reference";

describe("metrics and criteria", () => {
  it("argmax picks the first of equal maxima", () => {
    expect(argmax([0.1, 0.7, 0.7, 0.2])).to.equal(1);
  });

  it("attackOutcome says fooled when the goal wins, with the goal's confidence", () => {
    expect(attackOutcome([0.1, 0.9, 0.2], 1)).to.deep.equal({ fooled: true, confidence: 0.9, top: 0.9 });
    expect(attackOutcome([0.1, 0.05, 0.2], 1)).to.deep.equal({ fooled: false, confidence: 0.05, top: 0.2 });
  });

  it("confusionMatrix counts true label by prediction", () => {
    expect(confusionMatrix([1, 1, 2], [1, 2, 2], 3)).to.deep.equal([[0, 0, 0], [0, 1, 1], [0, 0, 1]]);
    expect(() => confusionMatrix([1], [1, 2])).to.throw(/1 true labels but 2 predictions/);
  });

  it("rate is the share of true flags", () => {
    expect(rate([true, false, true, true])).to.equal(0.75);
    expect(rate([])).to.equal(0);
  });

  it("wilsonInterval brackets the observed proportion and narrows with n", () => {
    const small = wilsonInterval(56, 100);
    const large = wilsonInterval(560, 1000);
    expect(small.low).to.be.closeTo(0.462, 0.001);
    expect(small.high).to.be.closeTo(0.654, 0.001);
    expect(large.high - large.low).to.be.below(small.high - small.low);
    expect(wilsonInterval(0, 10).low).to.equal(0);
  });

  it("accuracy and predictions agree with evaluate on the reference network", function () {
    const net = referenceNetwork(this);
    const data = sliceDataset(loadMnist().test, 0, 2000);
    const p = predictions(net, data);
    let right = 0;
    for (let i = 0; i < data.length; i++) if (p[i] === data.labels[i]) right++;
    expect(accuracy(net, data)).to.equal(right / 2000);
    expect(net.evaluate(data)).to.equal(right);
  });
});
