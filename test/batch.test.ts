import { expect } from "chai";
import {
  augmentData, augmentDataAsync, augmentDataReference, evaluateBatch, loadMnist, Network, predictBatch, sliceDataset,
  sneakyAdversarial, sneakyAdversarialBatch, EpochReport,
} from "../dist";
import { COMMITTED_PATH } from "./support/reference";

/**
 * The fast paths behind the public names: `Network.sgd`, `sgdAsync`, `augmentData`,
 * `augmentDataAsync`, checked against the float64 references on real MNIST images.
 */
describe("batch (fast training and augmentation)", () => {
  const { training, test } = loadMnist();
  const train5k = sliceDataset(training, 0, 5000);
  const test2k = sliceDataset(test, 0, 2000);

  it("sgd reaches the reference's accuracy (within 2 points) after 3 epochs on 5,000 images", () => {
    const ref = new Network([784, 30, 10], { seed: 1 });
    const fast = new Network([784, 30, 10], { seed: 1 });
    ref.sgdReference(train5k, 3, 10, 3.0, { seed: 2 });
    fast.sgd(train5k, 3, 10, 3.0, { seed: 2 });
    const refAccuracy = ref.evaluate(test2k) / test2k.length;
    const fastAccuracy = fast.evaluate(test2k) / test2k.length;
    expect(refAccuracy).to.be.above(0.6);
    expect(Math.abs(fastAccuracy - refAccuracy)).to.be.below(0.02);
  });

  it("predictBatch gives each image the digit net.predict gives it, and evaluateBatch counts the right ones", () => {
    const net = Network.load(COMMITTED_PATH);
    const predicted = predictBatch(net, test2k.images);
    expect(predicted.length).to.equal(2000);
    let right = 0;
    for (let i = 0; i < 2000; i++) {
      expect(predicted[i], `image ${i}`).to.equal(net.predict(test2k.image(i)));
      if (predicted[i] === test2k.labels[i]) right++;
    }
    expect(evaluateBatch(net, test2k)).to.equal(right);
  });

  it("sgd reports each epoch with the test accuracy that evaluate finds", () => {
    const net = new Network([784, 30, 10], { seed: 1 });
    const reports: EpochReport[] = [];
    net.sgd(sliceDataset(training, 0, 1000), 2, 10, 3.0, { testData: test2k, onEpoch: (r) => reports.push(r) });
    expect(reports.map((r) => r.epoch)).to.deep.equal([1, 2]);
    expect(reports[1].total).to.equal(2000);
    // The report uses the float32 forward pass; evaluate uses float64: a near-tie may differ.
    expect(Math.abs(reports[1].correct! - net.evaluate(test2k))).to.be.at.most(2);
    expect(Math.abs(evaluateBatch(net, test2k) - net.evaluate(test2k))).to.be.at.most(2);
  });

  it("sgdAsync gives the same weights as sgd and lets timers run while it trains", async () => {
    const a = new Network([784, 30, 10], { seed: 4 });
    const b = new Network([784, 30, 10], { seed: 4 });
    a.sgd(train5k, 2, 10, 3.0, { seed: 3 });
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const epochs: number[] = [];
    try {
      await b.sgdAsync(train5k, 2, 10, 3.0, { seed: 3, onEpoch: (r) => epochs.push(r.epoch) });
    } finally {
      clearInterval(timer);
    }
    expect(epochs).to.deep.equal([1, 2]);
    expect(ticks).to.be.above(0);
    a.weights.forEach((w, l) => expect(Array.from(b.weights[l])).to.deep.equal(Array.from(w)));
    a.biases.forEach((w, l) => expect(Array.from(b.biases[l])).to.deep.equal(Array.from(w)));
  });

  it("a synchronous kernel call during a running sgdAsync is refused with a clear error, and queued async calls run one after another", async () => {
    const net = new Network([784, 30, 10], { seed: 4 });
    const other = new Network([784, 30, 10], { seed: 5 });
    const first = net.sgdAsync(train5k, 1, 10, 3.0);
    const second = other.sgdAsync(train5k, 1, 10, 3.0);
    await new Promise((resolve) => setImmediate(resolve));
    expect(() => evaluateBatch(net, test2k)).to.throw(/an asynchronous call \(sgdAsync\) is under way; await it first/);
    await Promise.all([first, second]);
    const again = new Network([784, 30, 10], { seed: 5 });
    again.sgd(train5k, 1, 10, 3.0);
    expect(Array.from(other.weights[1])).to.deep.equal(Array.from(again.weights[1]));
  });

  it("augmentData draws the same digits, images and fake labels as augmentDataReference, images within 1e-4 after 10 steps", () => {
    const net = Network.fromJSON(new Network([784, 30, 10], { seed: 1 }).toJSON());
    net.sgd(train5k, 1, 10, 3.0);
    const ref = augmentDataReference(net, 30, train5k, 10, { seed: 7 });
    const fast = augmentData(net, 30, train5k, 10, { seed: 7 });
    expect(Array.from(fast.labels)).to.deep.equal(Array.from(ref.labels));
    expect(Array.from(fast.goals)).to.deep.equal(Array.from(ref.goals));
    expect(Array.from(fast.sources)).to.deep.equal(Array.from(ref.sources));
    let d = 0;
    for (let i = 0; i < ref.images.length; i++) d = Math.max(d, Math.abs(ref.images[i] - fast.images[i]));
    expect(d).to.be.below(1e-4);
  });

  it("augmentDataAsync gives augmentData's images and reports progress up to n", async () => {
    const net = new Network([784, 30, 10], { seed: 2 });
    const sync = augmentData(net, 700, train5k, 100, { seed: 3 });
    const progress: number[] = [];
    const asyncResult = await augmentDataAsync(net, 700, train5k, 100, { seed: 3, onProgress: (done, total) => { expect(total).to.equal(700); progress.push(done); } });
    expect(Buffer.from(asyncResult.images.buffer).equals(Buffer.from(sync.images.buffer))).to.equal(true);
    expect(progress[progress.length - 1]).to.equal(700);
    expect(progress.length).to.be.above(1);
    for (let k = 1; k < progress.length; k++) expect(progress[k]).to.be.above(progress[k - 1]);
  });

  it("sneakyAdversarialBatch fools the network about as often as sneakyAdversarial over 100 steps (60 pairs, within 15 points)", () => {
    const net = new Network([784, 30, 10], { seed: 1 });
    net.sgd(train5k, 3, 10, 3.0);
    const n = 60;
    const goals = Array.from({ length: n }, (_, i) => (test.labels[i] + 1 + (i % 9)) % 10);
    const fast = sneakyAdversarialBatch(net, goals, test.images.subarray(0, n * 784), 100, 1, 0.05, { seed: 5 });
    let fastHits = 0, refHits = 0;
    for (let i = 0; i < n; i++) {
      if (net.predict(fast.subarray(i * 784, (i + 1) * 784)) === goals[i]) fastHits++;
      if (net.predict(sneakyAdversarial(net, goals[i], test.image(i), 100, 1, 0.05, { seed: 5 + i })) === goals[i]) refHits++;
    }
    expect(refHits).to.be.above(0);
    expect(Math.abs(fastHits - refHits) / n).to.be.below(0.15);
  });
});
