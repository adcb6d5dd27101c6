import type { Backend, DenseModel } from "../model/backend";
import type { Network } from "../model/network";
import { referenceBackend } from "../model/reference-backend";
import { makeDataset } from "../data/dataset";
import { sgdFast } from "./train-fast";
import { feedforwardBatch } from "./batch";

/**
 * Transitional: the sigmoid/quadratic kernels behind the Backend interface, with everything they
 * do not cover yet computed by the float64 reference.
 */
function articleShaped(model: DenseModel): boolean {
  return model.activations.every((a) => a === "sigmoid") && typeof (model as Network).layerShapes === "function";
}

export const legacyWasmBackend: Backend = {
  name: "wasm",
  forward: (model, images) => (articleShaped(model) ? feedforwardBatch(model as Network, images) : referenceBackend.forward(model, images)),
  lossGradient: referenceBackend.lossGradient,
  vjp: referenceBackend.vjp,
  descend: referenceBackend.descend,
  train(model, program) {
    const net = model as Network;
    if (!articleShaped(model) || program.loss !== "quadratic" || program.adversary) return referenceBackend.train(model, program);
    const size = model.sizes[0];
    const test = program.test ? makeDataset(program.test.images, program.test.labels, size) : undefined;
    return sgdFast(net, makeDataset(program.images, program.labels, size), program.epochs, program.miniBatchSize, program.eta, {
      seed: program.seed, testData: test,
      onEpoch: program.onEpoch ? (r) => program.onEpoch!({ epoch: r.epoch, epochs: r.epochs, seconds: r.seconds, correct: r.correct }) : undefined,
    });
  },
};
