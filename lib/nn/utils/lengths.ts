// Sequence lengths: reading them from the user, PyTorch's checks before
// packing (in aten's order, with its messages), and the batch sizes and
// orders that a packing is computed from.
import { checkBoolean, checkNumber, checkOptionKeys, typeError } from '../../errors';
import { Tensor } from '../../tensor';

/** Lengths as users pass them: numbers, or a 1-D integer-valued tensor on the CPU. */
export type Lengths = readonly number[] | Int32Array | Tensor;

/** The lengths as numbers; torch's message when a tensor is not 1-D on the CPU. */
export function readLengths(where: string, value: unknown, arg = 'lengths'): number[] {
  let values: number[];
  if (value instanceof Tensor) {
    value._assertAlive(where, arg);
    if (value.ndim !== 1 || value.device !== 'cpu') {
      throw new RangeError(`${where}: '${arg}' argument should be a 1D CPU int tensor, but got ${value.ndim}D ${value.device} ${value.dtype} tensor`);
    }
    values = Array.from(value.dataSync());
  } else if (Array.isArray(value) || value instanceof Int32Array) {
    values = Array.from(value as ArrayLike<number>);
  } else {
    throw typeError(where, arg, 'an array of integers or a 1-D int32 Tensor on the CPU', value);
  }
  values.forEach((v, i) => {
    if (typeof v !== 'number' || !Number.isInteger(v)) throw typeError(where, `${arg}[${i}]`, 'an integer', v);
  });
  return values;
}

/**
 * aten's checks of _pack_padded_sequence, in its order, for lengths already in
 * packing order (sorted when enforceSorted is false), plus one PyTorch lacks:
 * a length beyond the input's steps (torch would build a PackedSequence whose
 * batch sizes do not match its data).
 */
export function checkPackable(where: string, lengths: readonly number[], batch: number, inputNumel: number, steps: number): void {
  if (inputNumel === 0) throw new RangeError(`${where}: Cannot pack empty tensors.`);
  if (lengths.length !== batch) {
    throw new RangeError(`${where}: Expected \`len(lengths)\` to be equal to batch_size, but got ${lengths.length} (batch_size=${batch})`);
  }
  if (!(lengths[batch - 1] > 0)) {
    throw new RangeError(`${where}: Length of all samples has to be greater than 0, but found an element in 'lengths' that is <= 0`);
  }
  for (let i = 0; i < batch - 1; ++i) {
    if (lengths[batch - 1 - i] > lengths[batch - 2 - i]) {
      throw new RangeError(`${where}: \`lengths\` array must be sorted in decreasing order when \`enforce_sorted\` is True. You can pass \`enforce_sorted=False\` to pack_padded_sequence and/or pack_sequence to sidestep this requirement if you do not need ONNX exportability.`);
    }
  }
  if (lengths[0] > steps) {
    throw new RangeError(`${where}: expected every length to be at most the input's sequence length ${steps}, but got a length of ${lengths[0]}`);
  }
}

/** How many sequences run at each step, for lengths sorted in decreasing order. */
export function batchSizesOf(sortedLengths: readonly number[]): number[] {
  const sizes = new Array<number>(sortedLengths[0]);
  let running = sortedLengths.length;
  for (let t = 0; t < sizes.length; ++t) {
    while (running > 0 && sortedLengths[running - 1] <= t) running -= 1;
    sizes[t] = running;
  }
  return sizes;
}

/** The length of each sorted position, from the batch sizes (aten's _pad_packed_sequence). */
export function lengthsOf(batchSizes: readonly number[]): number[] {
  const lengths = new Array<number>(batchSizes[0]).fill(0);
  for (let t = 0; t < batchSizes.length; ++t) {
    for (let j = 0; j < batchSizes[t]; ++j) lengths[j] = t + 1;
  }
  return lengths;
}

/** Row offset in the packed data of each step. */
export function stepOffsets(batchSizes: readonly number[]): number[] {
  const offsets = new Array<number>(batchSizes.length);
  let at = 0;
  batchSizes.forEach((s, t) => {
    offsets[t] = at;
    at += s;
  });
  return offsets;
}

/** A checked options object with only the given keys. */
export function readOptions(where: string, options: unknown, known: readonly string[]): Record<string, unknown> {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw typeError(where, 'options', 'an object', options);
  checkOptionKeys(where, options, known);
  return options as Record<string, unknown>;
}

export function optionalBoolean(where: string, options: Record<string, unknown>, key: string, fallback: boolean): boolean {
  const v = options[key];
  return v === undefined ? fallback : checkBoolean(where, `options.${key}`, v);
}

export function optionalNumber(where: string, options: Record<string, unknown>, key: string, fallback: number): number {
  const v = options[key];
  return v === undefined ? fallback : checkNumber(where, `options.${key}`, v);
}
