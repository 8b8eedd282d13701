// torch.distributed's core: a process group over MPI and in-place collectives.
export { initProcessGroup, isInitialized, getRank, getWorldSize, getBackend, destroyProcessGroup } from './process-group';
export type { Backend, InitProcessGroupOptions } from './process-group';
export { allReduce, allReduceAsync, broadcast, broadcastAsync, barrier, barrierAsync } from './collectives';
export type { ReduceOp, AllReduceOptions, BroadcastOptions } from './collectives';
export { DistributedSampler } from './sampler';
export type { DistributedSamplerOptions } from './sampler';
export { mpiInfo, ncclInfo } from './info';
export type { MpiInfo, NcclInfo } from './info';
