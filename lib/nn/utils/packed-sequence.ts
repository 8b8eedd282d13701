// torch.nn.utils.rnn.PackedSequence: the time steps of a batch of sequences of
// different lengths, stored step after step with only the sequences still
// running at each step (see pack-padded.ts for how a batch is packed).
import { sameDevice, DeviceLike } from '../../device';
import { DType } from '../../dtype';
import { CodedError, formatShape, typeError } from '../../errors';
import { HELD_TENSORS, HoldsTensors } from '../../memory';
import { to } from '../../ops/convert';
import { checkTensor, Tensor } from '../../tensor';
import { indexTensor } from './indices';

const WHERE = 'PackedSequence';

/** Validates an int32 permutation of the batch (sorted or unsorted indices). */
function checkIndices(arg: string, value: unknown, data: Tensor, batch: number): Tensor<'int32'> | null {
  if (value === null || value === undefined) return null;
  const t = checkTensor(WHERE, arg, value);
  if (t.dtype !== 'int32' || t.ndim !== 1 || t.shape[0] !== batch) {
    throw new RangeError(`${WHERE}: expected ${arg} to be a 1-D int32 tensor of ${batch} elements (batchSizes[0]), but got a ${t.dtype} tensor of shape ${formatShape(t.shape)}`);
  }
  if (!sameDevice(t.deviceObj, data.deviceObj)) {
    throw new CodedError(`${WHERE}: expected ${arg} to be on data's device ${data.device}, but got ${t.device}`, 'ERR_CUDNN_RNN_DEVICE_MISMATCH');
  }
  return t as Tensor<'int32'>;
}

/** The batch sizes as numbers, checked: a non-increasing run of positive counts covering data's rows. */
function checkBatchSizes(value: unknown, data: Tensor): number[] {
  const t = checkTensor(WHERE, 'batchSizes', value);
  if (t.device !== 'cpu') {
    throw new CodedError(
      'batch_sizes should always be on CPU. Instances of PackedSequence should never be created manually. They should be instantiated by functions like pack_sequence and pack_padded_sequences in nn.utils.rnn. https://pytorch.org/docs/stable/nn.html#torch.nn.utils.rnn.pack_sequence',
      'ERR_CUDNN_RNN_DEVICE_MISMATCH');
  }
  if (t.dtype !== 'int32' || t.ndim !== 1 || t.shape[0] === 0) {
    throw new RangeError(`${WHERE}: expected batchSizes to be a non-empty 1-D int32 tensor, but got a ${t.dtype} tensor of shape ${formatShape(t.shape)}`);
  }
  const sizes = Array.from(t.dataSync());
  let total = 0;
  sizes.forEach((s, i) => {
    if (s < 1 || (i > 0 && s > sizes[i - 1])) {
      throw new RangeError(`${WHERE}: expected batchSizes to be positive and non-increasing, but got [${sizes.join(', ')}]`);
    }
    total += s;
  });
  if (total !== data.shape[0]) {
    throw new RangeError(`${WHERE}: batchSizes sum to ${total} but data has ${data.shape[0]} rows (shape ${formatShape(data.shape)})`);
  }
  return sizes;
}

/** The inverse of a permutation of 0..n-1 (torch.nn.utils.rnn.invert_permutation). */
export function invertPermutation(where: string, perm: readonly number[]): number[] {
  const inverse = new Array<number>(perm.length).fill(-1);
  perm.forEach((p, i) => {
    if (!Number.isInteger(p) || p < 0 || p >= perm.length || inverse[p] !== -1) {
      throw new RangeError(`${where}: expected sortedIndices to be a permutation of 0..${perm.length - 1}, but got [${perm.join(', ')}]`);
    }
    inverse[p] = i;
  });
  return inverse;
}

/**
 * A batch of variable-length sequences, packed step by step (torch's
 * PackedSequence). Made by packPaddedSequence or packSequence; the recurrent
 * layers read it.
 *
 * - `data`: (sum of the lengths, *) — at step t the rows of the batchSizes[t]
 *   sequences still running, in sorted (longest first) order.
 * - `batchSizes`: int32 on the CPU, how many sequences run at each step.
 * - `sortedIndices`: int32 on data's device, the original batch index of each
 *   sorted position (null when the batch came already sorted).
 * - `unsortedIndices`: its inverse, the sorted position of each original batch
 *   element (null likewise).
 *
 * Ownership: `data` is kept as given (it carries the autograd graph);
 * batchSizes and the indices are held as views of their own, so sharing them
 * with another PackedSequence (an RNN's output shares its input's) is safe.
 * dispose() frees all four; tidy() keeps a PackedSequence it returns.
 */
export class PackedSequence implements HoldsTensors {
  readonly data: Tensor;
  readonly batchSizes: Tensor<'int32'>;
  readonly sortedIndices: Tensor<'int32'> | null;
  readonly unsortedIndices: Tensor<'int32'> | null;

  /**
   * Like torch's constructor, meant for the library's own functions: when
   * sortedIndices is given without unsortedIndices the inverse is computed.
   */
  constructor(data: Tensor, batchSizes: Tensor<'int32'>, sortedIndices: Tensor<'int32'> | null = null, unsortedIndices: Tensor<'int32'> | null = null) {
    const d = checkTensor(WHERE, 'data', data);
    if (d.ndim === 0) throw new RangeError(`${WHERE}: expected data to have at least 1 dimension (steps x *), but got a 0-d tensor`);
    const sizes = checkBatchSizes(batchSizes, d);
    const sorted = checkIndices('sortedIndices', sortedIndices, d, sizes[0]);
    let unsorted = checkIndices('unsortedIndices', unsortedIndices, d, sizes[0]);
    if (sorted === null && unsorted !== null) {
      throw new TypeError(`${WHERE}: unsortedIndices was given without sortedIndices`);
    }
    this.data = d;
    this.batchSizes = batchSizes.detach() as Tensor<'int32'>;
    this.sortedIndices = sorted === null ? null : sorted.detach() as Tensor<'int32'>;
    if (sorted !== null && unsorted === null) {
      unsorted = indexTensor(invertPermutation(WHERE, Array.from(sorted.dataSync())), d.deviceObj);
      this.unsortedIndices = unsorted;
    } else {
      this.unsortedIndices = unsorted === null ? null : unsorted.detach() as Tensor<'int32'>;
    }
  }

  /**
   * data converted like Tensor.to; batchSizes stays on the CPU and the
   * indices follow data's device. Returns this when data is unchanged.
   */
  to(target: DType | DeviceLike | { dtype?: DType; device?: DeviceLike }): PackedSequence {
    const data = to(this.data, target);
    if (data === this.data) return this;
    const own = [this.sortedIndices, this.unsortedIndices];
    const moved = own.map((t) => (t === null ? null : to(t, data.device) as Tensor<'int32'>));
    try {
      return new PackedSequence(data, this.batchSizes, moved[0], moved[1]);
    } finally {
      // The new sequence holds its own views of the moved indices.
      moved.forEach((t, i) => { if (t !== null && t !== own[i]) t.dispose(); });
    }
  }

  /** Frees data, batchSizes and the indices (views: storage others share lives on). */
  dispose(): void {
    for (const t of this[HELD_TENSORS]()) t.dispose();
  }

  get isDisposed(): boolean {
    return this.data.isDisposed;
  }

  [HELD_TENSORS](): Tensor[] {
    const held: Tensor[] = [this.data, this.batchSizes];
    if (this.sortedIndices !== null) held.push(this.sortedIndices);
    if (this.unsortedIndices !== null) held.push(this.unsortedIndices);
    return held;
  }

  toString(): string {
    const opt = (t: Tensor | null): string => (t === null ? 'None' : t.toString());
    return `PackedSequence(data=${this.data.toString()}, batch_sizes=${this.batchSizes.toString()}, sorted_indices=${opt(this.sortedIndices)}, unsorted_indices=${opt(this.unsortedIndices)})`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

/** Checks that `value` is a live PackedSequence (for the functions that take one). */
export function checkPackedSequence(where: string, arg: string, value: unknown): PackedSequence {
  if (!(value instanceof PackedSequence)) throw typeError(where, arg, 'a PackedSequence', value);
  value.data._assertAlive(where, `${arg}.data`);
  value.batchSizes._assertAlive(where, `${arg}.batchSizes`);
  value.sortedIndices?._assertAlive(where, `${arg}.sortedIndices`);
  value.unsortedIndices?._assertAlive(where, `${arg}.unsortedIndices`);
  return value;
}
