// The optim namespace: optimizers and learning-rate schedulers with PyTorch's names and maths.
export { Optimizer } from './optimizer';
export type {
  LrOptions, OptimizerStateDict, ParamGroup, ParamGroupInput, ParamsInput, ParamState, StateValue,
} from './optimizer';
export { SGD } from './sgd';
export type { SGDOptions } from './sgd';
export { Adam } from './adam';
export type { AdamOptions } from './adam';
export { AdamW } from './adamw';
export type { AdamWOptions } from './adamw';
export * as lrScheduler from './lr-scheduler';
