// The nn namespace: modules with PyTorch's names and behaviour.
export { Module, pyFloat } from './module';
export type { StateDict, LoadResult } from './module';
export { RNNBase, RNN, GRU, LSTM } from './rnn';
export type { RNNOptions, GRUOptions, LSTMOptions, RNNParameterName } from './rnn';
export * as utils from './utils';
export { clipGradNorm_, clipGradValue_ } from './clip-grad';
export type { ParametersInput } from './clip-grad';
export { Linear } from './linear';
export type { LinearOptions } from './linear';
export { Embedding } from './embedding';
export type { EmbeddingOptions, FromPretrainedOptions } from './embedding';
export { Dropout } from './dropout';
export { Sequential } from './sequential';
export { RNNCellBase, RNNCell, GRUCell, LSTMCell, type CellOptions, type RNNCellOptions } from './cells';
export * as functional from './functional';
export type { Reduction, MSELossOptions, NLLLossOptions, CrossEntropyOptions } from './functional';
export * as parallel from './parallel';
