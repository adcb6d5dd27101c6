/**
 * adversarial-lab: the public surface. Notebooks, scripts and tests import from here
 * (compiled: dist/index.js); nothing else in lib/ is part of the contract.
 */
export { loadMnist, mnistDir } from "./data/mnist";
export type { Mnist } from "./data/mnist";
export { makeDataset, sliceDataset, concatDatasets, oneHot, IMAGE_SIZE } from "./data/dataset";
export type { Dataset } from "./data/dataset";
export { parseIdx, readIdx } from "./data/idx";
export type { IdxArray } from "./data/idx";
export { Network } from "./model/network";
export type { EpochReport, SgdOptions, NetworkOptions } from "./model/network";
export type { Classifier } from "./model/classifier";
export type { ActivationName, LossName, LossSpec, DenseModel, GradientResult, Backend, BackendName } from "./model/backend";
export { ACTIVATIONS } from "./model/activations";
export { LOSSES, lossSpec } from "./model/losses";
export { setBackend, backendName, registerBackend } from "./model/backends";
export { preprocessed } from "./model/preprocessed";
export type { Transform, PreprocessGradient } from "./model/preprocessed";
export { predictRows } from "./model/classifier";
export { gradientAttack, gradientAttackAsync } from "./attacks/loop";
export type { GradientAttackOptions } from "./attacks/loop";
export { fgsm } from "./attacks/fgsm";
export type { FgsmOptions } from "./attacks/fgsm";
export { pgd, pgdAsync } from "./attacks/pgd";
export type { PgdOptions } from "./attacks/pgd";
export { successRate } from "./attacks/result";
export { sweepEpsilons } from "./attacks/sweep";
export type { EpsilonSweep } from "./attacks/sweep";
export type { AttackResult } from "./attacks/result";
export { drawStarts } from "./attacks/start";
export type { StartName } from "./attacks/start";
export { distances, l0Distances, l2Distances, linfDistances, l2Distance } from "./eval/norms";
export { gatherImages, drawPairs } from "./eval/protocol";
export type { Pairs } from "./eval/protocol";
export { robustAccuracy } from "./eval/robust";
export { adversarialTraining, adversarialTrainingAsync } from "./defenses/adversarial-training";
export type { AdversarialTrainingOptions } from "./defenses/adversarial-training";
export type { NamedAttack, RobustAccuracy } from "./eval/robust";
export type { NetworkJson } from "./model/network-json";
export { sigmoid, sigmoidPrime } from "./model/activations";
export { adversarial, sneakyAdversarial, descend, ridgePrior, noiseImage, halfSquaredError, START_MEAN, START_SD } from "./attacks/article";
export type { AttackOptions, Prior } from "./attacks/article";
export { binaryThreshold } from "./defenses/threshold";
export { augmentData, indicesByDigit } from "./defenses/augment";
export type { AugmentOptions, AugmentedDataset } from "./defenses/augment";
export { argmax, targetedSuccess, misclassified, attackOutcome, targeted, confidence, both } from "./attacks/criteria";
export type { Criterion } from "./attacks/criteria";
export { accuracy, accuracyOf, predictions, confusionMatrix, rate, wilsonInterval } from "./eval/metrics";
export { createRng, DEFAULT_SEED } from "./util/random";
export type { Rng } from "./util/random";
export { digitFigure, activationsFigure, predictionFigure, gridFigure, toggleFigure, lineFigure, heatmapFigure, barFigure, animationFigure, bandsFigure, predictionTitle, INK_COLORSCALE, VALUE_COLORSCALE } from "./notebook/plots";
export type { Figure } from "./notebook/plots";
export { show, progress, liveFigure, table, inKernel, showChecks } from "./notebook/notebook";
export type { Progress, LiveFigure } from "./notebook/notebook";
export { recordResults, resultsDir } from "./notebook/results";
export { writeJsonAtomic } from "./util/files";
export { augmentDataAsync, augmentDataReference } from "./defenses/augment";
export { feedforwardBatch, evaluateBatch, predictBatch } from "./model/batch";
export { adversarialBatch, sneakyAdversarialBatch } from "./attacks/article";
export type { BatchAttackOptions } from "./attacks/article";
export { setThreads, getThreads } from "./kernels/pool";
export { kernelVariant } from "./kernels/variant";
export type { KernelVariant } from "./kernels/variant";
export type { NativeIsa } from "./kernels/native";

// The float32 kernels register as the "native" and "wasm" backends; an engine starts on first use.
import { registerBackend as register } from "./model/backends";
import { nativeKernelsOrWhy } from "./kernels/native";
const kernelBackends = () => require("./kernels/backend") as typeof import("./kernels/backend");
register("native", () => kernelBackends().nativeBackend, () => {
  const native = nativeKernelsOrWhy();
  return native.available ? null : native.why;
});
register("wasm", () => kernelBackends().wasmBackend);
export { interruptWork, InterruptedError } from "./util/work";

// Minimal-norm and score-based attacks: DeepFool, Carlini-Wagner L2, JSMA, Square.
export { deepfool } from "./attacks/deepfool";
export type { DeepFoolOptions } from "./attacks/deepfool";
export { carliniWagnerL2 } from "./attacks/carlini-wagner";
export type { CarliniWagnerOptions } from "./attacks/carlini-wagner";
export { jsma } from "./attacks/jsma";
export type { JsmaOptions } from "./attacks/jsma";
export { squareAttack, squareShare } from "./attacks/square";
export type { SquareOptions } from "./attacks/square";
export type { ScoreSpace } from "./attacks/support";

// The sanity checks of a robustness evaluation (Carlini et al. 2019).
export { evaluationChecks } from "./eval/checks";
export type { EvaluationCurves, EvaluationChecks, CheckOutcome, CheckName, EpsPoint, StepsPoint } from "./eval/checks";
