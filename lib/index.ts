/**
 * adversarial-lab: the public surface. Notebooks, scripts and tests import from here
 * (compiled: dist/index.js); nothing else in lib/ is part of the contract.
 */
export { loadMnist, mnistDir } from "./mnist";
export type { Mnist } from "./mnist";
export { makeDataset, sliceDataset, concatDatasets, oneHot, IMAGE_SIZE } from "./dataset";
export type { Dataset } from "./dataset";
export { parseIdx, readIdx } from "./idx";
export type { IdxArray } from "./idx";
export { Network } from "./network";
export type { EpochReport, SgdOptions } from "./network";
export type { NetworkJson } from "./network-json";
export { sigmoid, sigmoidPrime } from "./layer";
export { adversarial, sneakyAdversarial, descend, ridgePrior, noiseImage, halfSquaredError, START_MEAN, START_SD } from "./attacks";
export type { AttackOptions, Prior } from "./attacks";
export { binaryThreshold, augmentData, indicesByDigit } from "./defenses";
export type { AugmentOptions, AugmentedDataset } from "./defenses";
export { argmax, targetedSuccess, misclassified, attackOutcome } from "./criteria";
export { accuracy, predictions, confusionMatrix, rate, wilsonInterval } from "./metrics";
export { createRng, DEFAULT_SEED } from "./random";
export type { Rng } from "./random";
export { writeFileAtomic, readJsonFile } from "./files";
export { digitFigure, activationsFigure, predictionFigure, gridFigure, toggleFigure, lineFigure, heatmapFigure, barFigure, predictionTitle, INK_COLORSCALE, VALUE_COLORSCALE } from "./plots";
export type { Figure } from "./plots";
export { show, progress, liveFigure, table, inKernel } from "./notebook";
export type { Progress, LiveFigure } from "./notebook";
export { recordResults, resultsDir } from "./results";
export { augmentDataAsync, augmentDataReference } from "./defenses";
export { feedforwardBatch, evaluateBatch, predictBatch, adversarialBatch, sneakyAdversarialBatch } from "./batch";
export type { BatchAttackOptions } from "./batch";
export { setThreads, getThreads } from "./kernels/pool";
export { kernelVariant } from "./kernels/wasm";
export type { KernelVariant } from "./kernels/wasm";
export { figurePng, closeFigurePng, pngOffReason } from "./static-png";
