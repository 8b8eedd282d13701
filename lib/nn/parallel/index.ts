// nn.parallel: data-parallel training across processes.
export { DistributedDataParallel } from './distributed';
export type { DistributedDataParallelOptions } from './distributed';
