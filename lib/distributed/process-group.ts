// The process group: one per process, over MPI_COMM_WORLD, like
// torch.distributed's default group. Rank and world size come from MPI
// (mpirun starts the processes), not from environment variables.
import { cuda } from '../cuda-memory';
import { CodedError } from '../errors';
import { dist } from './native-dist';

export type Backend = 'mpi' | 'nccl';

export interface InitProcessGroupOptions {
  backend: Backend;
}

interface GroupState {
  backend: Backend;
  rank: number;
  worldSize: number;
  /** nccl: the CUDA device this rank's communicator is on (its local rank modulo the devices). */
  device: number;
}

let group: GroupState | null = null;
let handlersInstalled = false;

function notInitialized(where: string): CodedError {
  return new CodedError(`${where}: Default process group has not been initialized, please make sure to call initProcessGroup.`, 'ERR_CUDNN_RNN_DIST_NOT_INITIALIZED');
}

/** @internal The group, or a clear error naming the caller. */
export function currentGroup(where: string): GroupState {
  if (group === null) throw notInitialized(where);
  return group;
}

// A rank that dies while the others wait in a collective would leave them
// blocked forever: an uncaught error ends the whole job through MPI_Abort,
// which mpirun turns into every rank exiting (torch's elastic agent does the
// same by killing the group). MPI_Finalize at a normal exit, which Open MPI's
// mpirun otherwise reports as an abnormal end.
function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  const abort = (err: unknown): void => {
    const rank = group?.rank ?? -1;
    const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
    process.stderr.write(`cudnn-rnn distributed: rank ${rank} failed, aborting every rank (MPI_Abort):\n${text}\n`);
    dist.distAbort(1);
    process.exit(1);
  };
  process.on('uncaughtException', abort);
  process.on('unhandledRejection', abort);
  process.on('exit', () => {
    try {
      dist.distFinalize();
    } catch {
      // Exiting anyway; MPI's own report says what went wrong.
    }
  });
}

// The rank among the processes of this machine, as each MPI's launcher says it.
function localRank(rank: number): number {
  for (const name of ['OMPI_COMM_WORLD_LOCAL_RANK', 'MPI_LOCALRANKID', 'MV2_COMM_WORLD_LOCAL_RANK', 'PMI_LOCAL_RANK', 'SLURM_LOCALID', 'LOCAL_RANK']) {
    const v = process.env[name];
    if (v !== undefined && /^\d+$/.test(v)) return Number(v);
  }
  return rank;
}

// NCCL's bootstrap: rank 0 makes the unique id, MPI broadcasts it, every rank
// makes its communicator on cuda:<local rank % devices>.
function initNccl(rank: number, worldSize: number): number {
  if (!cuda.isAvailable()) {
    throw new CodedError("initProcessGroup: backend 'nccl' needs CUDA GPUs and none is usable here (npx cudnn-rnn doctor says why); use backend 'mpi' for CPU tensors", 'ERR_CUDNN_RNN_BACKEND_UNAVAILABLE');
  }
  const info = dist.distNcclInfo();
  if (!info.available) throw new CodedError(`initProcessGroup: backend 'nccl': ${info.reason}`, 'ERR_CUDNN_RNN_BACKEND_UNAVAILABLE');
  const device = localRank(rank) % cuda.deviceCount();
  const id = rank === 0 ? dist.distNcclUniqueId() : Buffer.alloc(128);
  dist.distBroadcastBytes(id, 0);
  dist.distNcclInit(id, worldSize, rank, device);
  return device;
}

/**
 * Joins the job that mpirun started: every process calls it, and gets its
 * rank and the world size from MPI. backend 'mpi' runs collectives on CPU
 * tensors with MPI; 'nccl' on CUDA tensors with NCCL (one GPU per process:
 * cuda:<local rank % GPUs>), bootstrapped over MPI.
 */
export function initProcessGroup(options: InitProcessGroupOptions): void {
  if (typeof options !== 'object' || options === null) throw new TypeError(`initProcessGroup: options must be an object like { backend: 'mpi' }, got ${String(options)}`);
  const { backend } = options;
  if (backend !== 'mpi' && backend !== 'nccl') {
    throw new TypeError(`initProcessGroup: options.backend must be 'mpi' or 'nccl', got ${JSON.stringify(backend)}`);
  }
  if (group !== null) throw new CodedError('initProcessGroup: trying to initialize the default process group twice!', 'ERR_CUDNN_RNN_DIST_INITIALIZED');
  const [rank, worldSize] = dist.distMpiInit();
  installHandlers();
  const device = backend === 'nccl' ? initNccl(rank, worldSize) : -1;
  group = { backend, rank, worldSize, device };
}

export function isInitialized(): boolean {
  return group !== null;
}

export function getRank(): number {
  return currentGroup('getRank').rank;
}

export function getWorldSize(): number {
  return currentGroup('getWorldSize').worldSize;
}

export function getBackend(): Backend {
  return currentGroup('getBackend').backend;
}

/**
 * Leaves the group. MPI itself stays initialized until the process exits
 * (MPI cannot be initialized twice), so initProcessGroup may be called again.
 */
export function destroyProcessGroup(): void {
  const g = currentGroup('destroyProcessGroup');
  group = null;
  if (g.backend === 'nccl') dist.distNcclDestroy();
}
