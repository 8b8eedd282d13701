// Row tables for the gathers: the rows of a padded or listed batch, with one
// padding row appended when the output needs padding.
import { CPU, deviceName } from '../../device';
import { full } from '../../creation';
import { cat, reshape } from '../../ops/shape';
import { Tensor } from '../../tensor';
import { indexTensor } from './indices';
import { invertPermutation, PackedSequence } from './packed-sequence';

/** One row of `value` shaped like a row of `like` (dims after the first). */
function paddingRow(where: string, like: Tensor, value: number): Tensor {
  let v = value;
  if (like.dtype === 'int32') {
    // PyTorch's full() of an integer tensor truncates the padding value.
    if (!Number.isFinite(value)) throw new RangeError(`${where}: padding value ${value} cannot be converted to int32`);
    v = Math.trunc(value);
  }
  return full([1, ...like.shape.slice(1)], v, { dtype: like.dtype, device: deviceName(like.deviceObj) });
}

/** `rows` with a padding row after them when `needed` (its index is rows.shape[0]). */
export function withPaddingRow(where: string, rows: Tensor, value: number, needed: boolean): Tensor {
  return needed ? cat([rows, paddingRow(where, rows, value)], 0) : rows;
}

/** x (d0, d1, *) as rows (d0 * d1, *), differentiably (a view when x is contiguous). */
export function mergeFirstTwo(x: Tensor): Tensor {
  return reshape(x, [x.shape[0] * x.shape[1], ...x.shape.slice(2)]);
}

/**
 * A PackedSequence owning fresh index tensors: batch sizes on the CPU, the
 * sort order and its inverse on data's device (null when none).
 */
export function makePacked(data: Tensor, batchSizes: readonly number[], sortedIndices: readonly number[] | null): PackedSequence {
  const bs = indexTensor(batchSizes, CPU);
  const sorted = sortedIndices === null ? null : indexTensor(sortedIndices, data.deviceObj);
  const unsorted = sortedIndices === null ? null : indexTensor(invertPermutation('PackedSequence', sortedIndices), data.deviceObj);
  try {
    return new PackedSequence(data, bs, sorted, unsorted);
  } finally {
    // The sequence holds views of its own.
    bs.dispose();
    sorted?.dispose();
    unsorted?.dispose();
  }
}
