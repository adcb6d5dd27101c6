import { kernelEngine } from "./pool";
import type { Pending } from "../util/work";

/**
 * What a kernel generator yields after starting a job (see util/work.ts): the driver collects
 * the running job through it, blocking or awaiting.
 */
export const WAIT: Pending = {
  finish: () => kernelEngine().finish(),
  finishAsync: () => kernelEngine().finishAsync(),
};

export { runSync, runAsync } from "../util/work";
export type { Work } from "../util/work";
