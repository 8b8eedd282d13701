// torch.utils.data.distributed.DistributedSampler: each rank's share of a
// dataset's indices, the same shuffle on every rank (seed + epoch), padded by
// repeating indices so that every rank gets the same number of samples.
// The order is torch's exactly (randperm reproduces torch.randperm).
import { randperm } from './mt19937';
import { currentGroup } from './process-group';

export interface DistributedSamplerOptions {
  /** Defaults to the world size of the process group. */
  numReplicas?: number;
  /** Defaults to this process's rank. */
  rank?: number;
  shuffle?: boolean;
  seed?: number;
  dropLast?: boolean;
}

export class DistributedSampler implements Iterable<number> {
  readonly datasetLength: number;
  readonly numReplicas: number;
  readonly rank: number;
  readonly shuffle: boolean;
  readonly seed: number;
  readonly dropLast: boolean;
  /** Samples per rank per epoch. */
  readonly numSamples: number;
  readonly totalSize: number;
  private epoch = 0;

  /** `dataset`: its length, or anything with a numeric `length`. */
  constructor(dataset: number | { length: number }, options: DistributedSamplerOptions = {}) {
    const n = typeof dataset === 'number' ? dataset : dataset?.length;
    if (!Number.isInteger(n) || (n as number) < 0) throw new TypeError(`DistributedSampler: dataset must be a length or have an integer length, got ${String(n)}`);
    this.datasetLength = n as number;
    const numReplicas = options.numReplicas ?? currentGroup('DistributedSampler').worldSize;
    const rank = options.rank ?? currentGroup('DistributedSampler').rank;
    if (!Number.isInteger(numReplicas) || numReplicas < 1) throw new RangeError(`DistributedSampler: numReplicas must be a positive integer, got ${String(numReplicas)}`);
    if (!Number.isInteger(rank) || rank < 0 || rank >= numReplicas) {
      throw new RangeError(`Invalid rank ${String(rank)}, rank should be in the interval [0, ${numReplicas - 1}]`);
    }
    this.numReplicas = numReplicas;
    this.rank = rank;
    this.shuffle = options.shuffle ?? true;
    this.seed = options.seed ?? 0;
    if (!Number.isInteger(this.seed) || this.seed < 0) throw new RangeError(`DistributedSampler: seed must be a non-negative integer, got ${String(this.seed)}`);
    this.dropLast = options.dropLast ?? false;
    const len = this.datasetLength;
    this.numSamples = this.dropLast && len % numReplicas !== 0 ? Math.ceil((len - numReplicas) / numReplicas) : Math.ceil(len / numReplicas);
    this.totalSize = this.numSamples * numReplicas;
  }

  /** Set before each epoch so that every epoch has its own shuffle (torch's set_epoch). */
  setEpoch(epoch: number): void {
    if (!Number.isInteger(epoch) || epoch < 0) throw new RangeError(`DistributedSampler.setEpoch: epoch must be a non-negative integer, got ${String(epoch)}`);
    this.epoch = epoch;
  }

  get length(): number {
    return this.numSamples;
  }

  /** This rank's indices for the current epoch, in torch's order. */
  indices(): number[] {
    const n = this.datasetLength;
    let all = this.shuffle ? randperm(n, this.seed + this.epoch) : Array.from({ length: n }, (_, i) => i);
    if (!this.dropLast) {
      const padding = this.totalSize - all.length;
      if (padding > 0 && all.length > 0) {
        const extra: number[] = [];
        while (extra.length < padding) extra.push(...all.slice(0, padding - extra.length));
        all = all.concat(extra);
      }
    } else {
      all = all.slice(0, this.totalSize);
    }
    const mine: number[] = [];
    for (let i = this.rank; i < this.totalSize; i += this.numReplicas) mine.push(all[i]);
    return mine;
  }

  [Symbol.iterator](): Iterator<number> {
    return this.indices()[Symbol.iterator]();
  }
}
