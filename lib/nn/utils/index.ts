// torch.nn.utils: gradient clipping, and the packing utilities under `rnn`.
export { clipGradNorm_, clipGradValue_ } from '../clip-grad';
export type { ParametersInput } from '../clip-grad';
export * as rnn from './rnn';
