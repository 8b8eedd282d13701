// nn.parallel.DistributedDataParallel: one replica of the model per process.
// At construction every replica takes rank 0's parameters; after each
// backward() the gradients are averaged across ranks in buckets of about
// 25 MB (PyTorch's bucket_cap_mb), so that every replica's optimizer step is
// the step one process would take on the concatenated batch.
import { addBackwardListener } from '../../autograd/engine';
import { noGrad } from '../../autograd/grad-mode';
import { allReduce, broadcast } from '../../distributed/collectives';
import { currentGroup } from '../../distributed/process-group';
import { keep, tidy } from '../../memory';
import { zerosLike } from '../../creation';
import { cat, narrow, reshape } from '../../ops';
import type { Tensor } from '../../tensor';
import { Module } from '../module';

export interface DistributedDataParallelOptions {
  /** Bucket size in MiB (PyTorch's bucket_cap_mb, 25 by default). */
  bucketCapMb?: number;
}

type ForwardOf<M> = M extends { forward(...args: infer A): infer R } ? { args: A; result: R } : { args: unknown[]; result: unknown };

export class DistributedDataParallel<M extends Module = Module> extends Module {
  readonly module: M;
  readonly bucketCapMb: number;
  /** Parameters in reduction order (reverse registration, as PyTorch's buckets), grouped by dtype and size. */
  private readonly buckets: Tensor[][];
  private readonly stopListening: () => void;

  constructor(module: M, options: DistributedDataParallelOptions = {}) {
    super();
    if (!(module instanceof Module)) throw new TypeError(`DistributedDataParallel: module must be an nn.Module, got ${module === null ? 'null' : typeof module}`);
    const group = currentGroup('DistributedDataParallel');
    const cap = options.bucketCapMb ?? 25;
    if (typeof cap !== 'number' || !(cap > 0)) throw new RangeError(`DistributedDataParallel: options.bucketCapMb must be a positive number, got ${String(cap)}`);
    this.bucketCapMb = cap;
    this.module = this.registerModule('module', module);
    const params = module.parameters();
    for (const p of params) {
      if (group.backend === 'mpi' && p.deviceObj.type !== 'cpu') throw new TypeError(`DistributedDataParallel: the 'mpi' backend needs the module on the CPU, got a parameter on ${p.device}`);
      if (group.backend === 'nccl' && (p.deviceObj.type !== 'cuda' || p.deviceObj.index !== group.device)) {
        throw new TypeError(`DistributedDataParallel: the 'nccl' backend needs the module on this rank's GPU cuda:${group.device}, got a parameter on ${p.device}`);
      }
    }
    // Every replica starts from rank 0's weights.
    if (group.worldSize > 1) noGrad(() => params.forEach((p) => broadcast(p, { src: 0 })));
    this.buckets = makeBuckets(params.filter((p) => p.requiresGrad).reverse(), cap * 1024 * 1024);
    const mine = new Set(params);
    this.stopListening = addBackwardListener((leaves) => {
      for (const leaf of leaves) {
        if (mine.has(leaf)) {
          this.syncGradients();
          return;
        }
      }
    });
  }

  forward(...args: ForwardOf<M>['args']): ForwardOf<M>['result'] {
    const m = this.module as unknown as { forward(...a: unknown[]): unknown };
    return m.forward(...(args as unknown[])) as ForwardOf<M>['result'];
  }

  /**
   * Averages .grad across ranks, bucket by bucket. Runs by itself after each
   * backward() that reached the module; a parameter without a gradient on
   * this rank contributes zeros (and receives the average).
   */
  syncGradients(): void {
    const worldSize = currentGroup('DistributedDataParallel.syncGradients').worldSize;
    if (worldSize === 1) return;
    noGrad(() => {
      for (const bucket of this.buckets) {
        tidy(() => {
          for (const p of bucket) if (p.grad === null) p.grad = keep(zerosLike(p));
          const grads = bucket.map((p) => p.grad as Tensor);
          const flat = cat(grads.map((g) => reshape(g, [-1])), 0);
          allReduce(flat, { op: 'avg' });
          let offset = 0;
          for (const g of grads) {
            g.copy_(reshape(narrow(flat, 0, offset, g.numel), g.shape as number[]));
            offset += g.numel;
          }
        });
      }
    });
  }

  /** Stops averaging gradients (the module itself is left as it is). */
  override dispose(): void {
    this.stopListening();
    super.dispose();
  }

  protected override get typeName(): string {
    return 'DistributedDataParallel';
  }
}

function makeBuckets(params: Tensor[], capBytes: number): Tensor[][] {
  const buckets: Tensor[][] = [];
  const open = new Map<string, { params: Tensor[]; bytes: number }>();
  for (const p of params) {
    const bytes = p.numel * (p.dtype === 'float64' ? 8 : 4);
    let b = open.get(p.dtype);
    if (b === undefined || (b.bytes > 0 && b.bytes + bytes > capBytes)) {
      b = { params: [], bytes: 0 };
      open.set(p.dtype, b);
      buckets.push(b.params);
    }
    b.params.push(p);
    b.bytes += bytes;
  }
  return buckets;
}
