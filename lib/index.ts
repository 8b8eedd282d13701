// cudnn-rnn: PyTorch's recurrent layers for Node.js.
import './autograd/wire';

export { Tensor, isTensor } from './tensor';
export type { NestedArray } from './tensor';
export type { DType, FloatDType } from './dtype';
export { tensor, zeros, ones, full, arange, rand, randn, zerosLike, onesLike, fullLike, randLike, randnLike } from './creation';
export type { TensorOptions } from './creation';
export {
  add, sub, mul, div, pow, maximum, minimum, eq, ne, lt, le, gt, ge, neg, exp, log, tanh, sigmoid, relu, abs, sqrt, square,
  clamp, sum, mean, amax, argmax, softmax, logSoftmax, matmul, reshape, view, flatten, permute, transpose, t, select,
  narrow, squeeze, unsqueeze, expand, cat, stack, chunk, split, unbind, indexSelect, contiguous, clone, to,
} from './ops';
export { noGrad, enableGrad, isGradEnabled, setGradEnabled } from './autograd/grad-mode';
export { tidy, keep, memory, releaseCachedMemory } from './memory';
export type { MemoryInfo } from './memory';
export { manualSeed, initialSeed } from './random';
export { getDefaultDevice, setDefaultDevice } from './backend';
export { CodedError } from './errors';
export { versions } from './system';
export type { Versions, BlasInfo, LibraryInfo } from './system';
export { cuda } from './cuda-memory';
export type { CudaMemoryStats } from './cuda-memory';
export type { CudaVersions, CudaDiscovery, CudaDriverInfo, CudaDeviceInfo, CudaLibraryInfo, CudaCause, DiscoverOptions } from './cuda';
export * as nn from './nn';
export * as optim from './optim';
export { save, load, serialize, deserialize, loadMetadata } from './io/safetensors';
export * as safetensors from './io/safetensors';
export type { SaveOptions, LoadOptions } from './io/safetensors';
export * as distributed from './distributed';
