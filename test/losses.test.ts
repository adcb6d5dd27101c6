import { expect } from "chai";
import { centralDifference } from "./support/gradients";
import { ACTIVATIONS, LOSSES, lossSpec, Network, createRng, setBackend, backendName } from "../dist";
import type { ActivationName, LossName } from "../dist";


function expectClose(analytic: number, numeric: number, where: string, tol = 1e-5): void {
  const scale = Math.max(1e-3, Math.abs(analytic), Math.abs(numeric));
  expect(Math.abs(analytic - numeric) / scale, `${where}: analytic ${analytic}, finite difference ${numeric}`).to.be.below(tol);
}

describe("losses and activations", () => {
  it("each activation's derivative (from its output) matches a finite difference of its forward rule", () => {
    for (const name of Object.keys(ACTIVATIONS) as ActivationName[]) {
      const f = ACTIVATIONS[name];
      for (const z of [-3.1, -0.4, 0.7, 2.5]) {
        const numeric = (f.forward(z + 1e-6) - f.forward(z - 1e-6)) / 2e-6;
        expectClose(f.derivative(f.forward(z)), numeric, `${name}'(${z})`);
      }
    }
  });

  const specs: [LossName, { kappa?: number; targeted?: boolean }][] = [
    ["quadratic", {}], ["softmax-cross-entropy", {}],
    ["margin", { targeted: true }], ["margin", { targeted: false }], ["margin", { targeted: true, kappa: 0.2 }],
  ];
  for (const [name, options] of specs) {
    it(`${name}${options.targeted !== undefined ? (options.targeted ? " (targeted" : " (untargeted") + `, kappa ${options.kappa ?? 0})` : ""}: dL/da matches finite differences`, () => {
      const rng = createRng(11);
      const spec = lossSpec(name, options);
      for (let trial = 0; trial < 5; trial++) {
        const a = Float64Array.from({ length: 7 }, () => rng.normal());
        const y = rng.int(7);
        const grad = new Float64Array(7);
        LOSSES[name].valueAndGradient(a, y, spec, grad);
        const scratch = new Float64Array(7);
        for (let j = 0; j < 7; j++) {
          const numeric = centralDifference(() => LOSSES[name].valueAndGradient(a, y, spec, scratch), a, j);
          expectClose(grad[j], numeric, `${name} a[${j}] trial ${trial}`);
        }
      }
    });
  }

  it("the margin is clamped on the attacker's side: flat once the target leads by kappa, or another class leads the true one by kappa", () => {
    const grad = new Float64Array(3);
    const a = Float64Array.of(0.1, 0.9, 0.2);
    expect(LOSSES.margin.valueAndGradient(a, 1, lossSpec("margin", { targeted: true, kappa: 0.5 }), grad)).to.equal(-0.5);
    expect(Array.from(grad)).to.deep.equal([0, 0, 0]);
    expect(LOSSES.margin.valueAndGradient(a, 0, lossSpec("margin", { targeted: false, kappa: 0.5 }), grad)).to.equal(0.5);
    expect(Array.from(grad)).to.deep.equal([0, 0, 0]);
    expect(LOSSES.margin.valueAndGradient(a, 0, lossSpec("margin", { targeted: false, kappa: 1 }), grad)).to.be.closeTo(0.8, 1e-12);
    expect(Array.from(grad)).to.deep.equal([-1, 1, 0]);
  });

  it("softmax cross-entropy stays finite for outputs of 1000 (the largest entry is subtracted first)", () => {
    const grad = new Float64Array(3);
    const value = LOSSES["softmax-cross-entropy"].valueAndGradient(Float64Array.of(1000, 0, -1000), 1, lossSpec("softmax-cross-entropy"), grad);
    expect(value).to.be.closeTo(1000, 1e-9);
    expect(Array.from(grad).every(Number.isFinite)).to.equal(true);
  });

  it("lossSpec refuses unknown names and negative kappa, naming them", () => {
    expect(() => lossSpec("hinge")).to.throw(/loss must be one of "quadratic", "softmax-cross-entropy", "margin", got "hinge"/);
    expect(() => lossSpec("margin", { kappa: -1 })).to.throw(/kappa must be >= 0, got -1/);
    expect(() => lossSpec("margin", { kappa: NaN })).to.throw(/kappa must be a finite number, got NaN/);
  });

  describe("input gradients of every layer x loss against finite differences (float64 reference)", () => {
    let was: ReturnType<typeof backendName>;
    before(() => { was = backendName(); setBackend("reference"); });
    after(() => setBackend(was));
    const layers: [ActivationName, ActivationName][] = [
      ["sigmoid", "sigmoid"], ["relu", "identity"], ["relu", "sigmoid"], ["identity", "identity"], ["sigmoid", "relu"],
    ];
    for (const [hidden, output] of layers) {
      for (const [name, options] of specs) {
        it(`${hidden} hidden, ${output} output, ${name}${options.targeted === undefined ? "" : options.targeted ? " targeted" : " untargeted"}${options.kappa ? `, kappa ${options.kappa}` : ""}`, () => {
          expect(backendName()).to.equal("reference");
          const net = new Network([6, 5, 4, 3], { seed: 5, activation: hidden, output });
          const rng = createRng(2);
          const n = 3;
          const images = Float64Array.from({ length: n * 6 }, () => rng.uniform());
          const labels = Uint8Array.from({ length: n }, () => rng.int(3));
          const spec = lossSpec(name, options);
          const { gradient, loss } = net.lossGradient(images, labels, spec);
          expect(loss.length).to.equal(n);
          for (let q = 0; q < images.length; q++) {
            const i = Math.floor(q / 6);
            const f = () => net.lossGradient(images.subarray(i * 6, (i + 1) * 6), labels.subarray(i, i + 1), spec).loss[0];
            expectClose(gradient[q], centralDifference(f, images, q), `image ${i} pixel ${q % 6}`, 2e-5);
          }
        });
      }
    }
  });

  it("sgdReference's weight gradients of softmax cross-entropy on a ReLU network match finite differences of the mean loss", () => {
    const net = new Network([5, 4, 3], { seed: 8, activation: "relu", output: "identity", loss: "softmax-cross-entropy" });
    const rng = createRng(4);
    const images = Float64Array.from({ length: 2 * 5 }, () => rng.uniform());
    const labels = Uint8Array.of(0, 2);
    const meanLoss = (m: Network) => {
      const was = backendName();
      setBackend("reference");
      const v = m.lossGradient(images, labels, lossSpec("softmax-cross-entropy")).loss;
      setBackend(was);
      return (v[0] + v[1]) / 2;
    };
    const after = net.clone();
    const data = { images, labels, length: 2, image: (i: number) => images.subarray(i * 5, (i + 1) * 5) };
    const eta = 1e-3;
    after.sgdReference(data, 1, 2, eta, { seed: 0 });
    net.weights.forEach((w, l) => {
      for (let q = 0; q < w.length; q++) {
        const numeric = centralDifference(() => meanLoss(net), w, q);
        expectClose((net.weights[l][q] - after.weights[l][q]) / eta, numeric, `weights[${l}][${q}]`, 1e-4);
      }
    });
  });
});
