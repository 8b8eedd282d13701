// Lists of variable-length sequences (L_i, *), as pad_sequence and
// pack_sequence take them.
import { CodedError, formatShape, typeError } from '../../errors';
import { unbind } from '../../ops/shape';
import { sameDevice } from '../../device';
import { checkTensor, Tensor } from '../../tensor';

/**
 * The sequences, checked: a non-empty array of tensors (a tensor counts as
 * the list of its rows, as iterating one does in Python), each at least 1-D,
 * with the first one's trailing dims and device.
 */
export function checkSequenceList(where: string, sequences: unknown): Tensor[] {
  let list: Tensor[];
  if (sequences instanceof Tensor) {
    checkTensor(where, 'sequences', sequences);
    if (sequences.ndim === 0) throw new TypeError(`${where}: iteration over a 0-d tensor`);
    list = unbind(sequences, 0);
  } else if (Array.isArray(sequences)) {
    list = sequences.map((s, i) => checkTensor(where, `sequences[${i}]`, s));
  } else {
    throw typeError(where, 'sequences', 'an array of Tensors', sequences);
  }
  if (list.length === 0) throw new RangeError(`${where}: received an empty list of sequences`);
  const first = list[0];
  list.forEach((s, i) => {
    if (s.ndim === 0) throw new RangeError(`${where}: expected sequences[${i}] to have at least 1 dimension (L x *), but got a 0-d tensor`);
    const trailing = s.shape.slice(1);
    const want = first.shape.slice(1);
    if (trailing.length !== want.length || trailing.some((d, k) => d !== want[k])) {
      throw new RangeError(`${where}: expected every sequence to have the trailing dimensions of sequences[0] ${formatShape(want)}, but sequences[${i}] has shape ${formatShape(s.shape)}`);
    }
    if (!sameDevice(s.deviceObj, first.deviceObj)) {
      throw new CodedError(`${where}: Expected all tensors to be on the same device, but found at least two devices, ${first.device} and ${s.device}!`, 'ERR_CUDNN_RNN_DEVICE_MISMATCH');
    }
  });
  return list;
}
