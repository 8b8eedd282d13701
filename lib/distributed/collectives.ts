// allReduce / broadcast / barrier, in place, with torch.distributed's names.
// The sync forms block the event loop for the whole collective (with NCCL
// they only queue it on the GPU's stream, like PyTorch); the async forms run
// it on libuv's thread pool and settle when it is done. barrier() is MPI's
// in both backends. Collectives must be issued in the same
// order on every rank, so the async ones go through one queue: a second call
// starts only when the one before it has settled.
import { CodedError } from '../errors';
import { Tensor } from '../tensor';
import { currentGroup } from './process-group';
import { dist, NCCL_OP_CODE, REDUCE_OP_CODE } from './native-dist';

export type ReduceOp = 'sum' | 'avg' | 'max';

export interface AllReduceOptions {
  op?: ReduceOp;
}

export interface BroadcastOptions {
  src: number;
}

let queue: Promise<unknown> = Promise.resolve();
let pending = 0;
function enqueue<T>(run: () => Promise<T>): Promise<T> {
  pending += 1;
  const next = queue.then(run, run).finally(() => {
    pending -= 1;
  });
  queue = next.catch(() => undefined);
  return next;
}

// A sync collective issued while async ones wait could reach MPI first on one
// rank and last on another: the ranks would then wait for each other forever.
function checkNoPending(where: string): void {
  if (pending > 0) {
    throw new CodedError(`${where}: ${pending} async collective(s) still pending; await them before a blocking collective (every rank must issue collectives in the same order)`, 'ERR_CUDNN_RNN_DIST_PENDING');
  }
}

function checkTensor(where: string, tensor: unknown): Tensor {
  if (!(tensor instanceof Tensor)) throw new TypeError(`${where}: tensor must be a Tensor, got ${tensor === null ? 'null' : typeof tensor}`);
  tensor._assertAlive(where, 'tensor');
  if (!tensor.isContiguous) throw new CodedError(`${where}: Tensors must be contiguous`, 'ERR_CUDNN_RNN_INVALID_ARGUMENT');
  const g = currentGroup(where);
  if (g.backend === 'mpi' && tensor.deviceObj.type !== 'cpu') {
    throw new CodedError(`${where}: the 'mpi' backend needs CPU tensors, got a tensor on ${tensor.device}`, 'ERR_CUDNN_RNN_DEVICE_MISMATCH');
  }
  if (g.backend === 'nccl' && (tensor.deviceObj.type !== 'cuda' || tensor.deviceObj.index !== g.device)) {
    throw new CodedError(`${where}: the 'nccl' backend needs tensors on this rank's GPU cuda:${g.device}, got a tensor on ${tensor.device}`, 'ERR_CUDNN_RNN_DEVICE_MISMATCH');
  }
  return tensor;
}

function readOp(where: string, tensor: Tensor, options: AllReduceOptions | undefined): ReduceOp {
  if (options !== undefined && (typeof options !== 'object' || options === null)) throw new TypeError(`${where}: options must be an object, got ${String(options)}`);
  const op = options?.op ?? 'sum';
  if (op !== 'sum' && op !== 'avg' && op !== 'max') throw new TypeError(`${where}: options.op must be 'sum', 'avg' or 'max', got ${JSON.stringify(op)}`);
  if (op === 'avg' && tensor.dtype === 'int32') throw new TypeError(`${where}: op 'avg' needs a floating-point tensor, got int32`);
  return op;
}

function readSrc(where: string, options: BroadcastOptions | undefined, worldSize: number): number {
  if (typeof options !== 'object' || options === null) throw new TypeError(`${where}: options must be an object like { src: 0 }, got ${String(options)}`);
  const { src } = options;
  if (!Number.isInteger(src) || src < 0 || src >= worldSize) throw new RangeError(`${where}: options.src must be an integer rank in [0, ${worldSize - 1}], got ${String(src)}`);
  return src;
}

/** Reduces `tensor` across every rank, in place; 'avg' divides the sum by the world size. */
export function allReduce(tensor: Tensor, options?: AllReduceOptions): Tensor {
  const g = currentGroup('allReduce');
  const t = checkTensor('allReduce', tensor);
  const op = readOp('allReduce', t, options);
  checkNoPending('allReduce');
  if (g.backend === 'nccl') {
    dist.distNcclAllReduce(...t._view(), NCCL_OP_CODE[op], g.device);
    return t;
  }
  dist.distAllReduce(...t._view(), REDUCE_OP_CODE[op === 'max' ? 'max' : 'sum']);
  if (op === 'avg') t.div_(g.worldSize);
  return t;
}

export function allReduceAsync(tensor: Tensor, options?: AllReduceOptions): Promise<Tensor> {
  const g = currentGroup('allReduceAsync');
  const t = checkTensor('allReduceAsync', tensor);
  const op = readOp('allReduceAsync', t, options);
  return enqueue(async () => {
    const storage = t._storage;
    storage.retain();
    try {
      if (g.backend === 'nccl') await dist.distNcclAllReduceAsync(...t._view(), NCCL_OP_CODE[op], g.device);
      else await dist.distAllReduceAsync(...t._view(), REDUCE_OP_CODE[op === 'max' ? 'max' : 'sum']);
    } finally {
      storage.release();
    }
    if (op === 'avg' && g.backend === 'mpi') t.div_(g.worldSize);
    return t;
  });
}

/** Copies rank `src`'s tensor into every other rank's, in place. */
export function broadcast(tensor: Tensor, options: BroadcastOptions): Tensor {
  const g = currentGroup('broadcast');
  const t = checkTensor('broadcast', tensor);
  checkNoPending('broadcast');
  const src = readSrc('broadcast', options, g.worldSize);
  if (g.backend === 'nccl') dist.distNcclBroadcast(...t._view(), src, g.device);
  else dist.distBroadcast(...t._view(), src);
  return t;
}

export function broadcastAsync(tensor: Tensor, options: BroadcastOptions): Promise<Tensor> {
  const g = currentGroup('broadcastAsync');
  const t = checkTensor('broadcastAsync', tensor);
  const src = readSrc('broadcastAsync', options, g.worldSize);
  return enqueue(async () => {
    const storage = t._storage;
    storage.retain();
    try {
      if (g.backend === 'nccl') await dist.distNcclBroadcastAsync(...t._view(), src, g.device);
      else await dist.distBroadcastAsync(...t._view(), src);
    } finally {
      storage.release();
    }
    return t;
  });
}

/** Returns when every rank has called it. */
export function barrier(): void {
  currentGroup('barrier');
  checkNoPending('barrier');
  dist.distBarrier();
}

export function barrierAsync(): Promise<void> {
  currentGroup('barrierAsync');
  return enqueue(() => dist.distBarrierAsync());
}
