// pack_padded_sequence, pad_packed_sequence, pack_sequence and
// unpack_sequence: PyTorch's results, each computed as one row gather.
//
// Packing order (aten's _pack_padded_sequence): step t holds the sequences
// still running at t, in sorted order, so packed row offsets[t] + j is step t
// of the j-th longest sequence. With enforceSorted false the batch is first
// ordered by torch.sort(lengths, descending=True), ties included (see
// sort-descending.ts), and that order is the PackedSequence's sortedIndices.
import { CPU } from '../../device';
import { checkInteger } from '../../errors';
import { tidy } from '../../memory';
import { to } from '../../ops/convert';
import { cat, reshape } from '../../ops/shape';
import { checkTensor, shapeNumel, Tensor } from '../../tensor';
import { indexTensor } from './indices';
import { batchSizesOf, checkPackable, Lengths, lengthsOf, optionalBoolean, optionalNumber, readLengths, readOptions, stepOffsets } from './lengths';
import { checkPackedSequence, PackedSequence } from './packed-sequence';
import { makePacked, mergeFirstTwo, withPaddingRow } from './padding';
import { gatherRows, splitRows } from './rows';
import { checkSequenceList } from './sequences';
import { sortDescending } from './sort-descending';

export interface PackPaddedSequenceOptions {
  /** input is (B, T, *) instead of (T, B, *). Default false. */
  batchFirst?: boolean;
  /** The lengths must already be in decreasing order (torch's default, needed for ONNX there). Default true. */
  enforceSorted?: boolean;
}

export interface PadPackedSequenceOptions {
  /** Return (B, T, *) instead of (T, B, *). Default false. */
  batchFirst?: boolean;
  /** The value of the padded positions. Default 0. */
  paddingValue?: number;
  /** Pad to this many steps (at least the longest sequence) instead of the longest sequence. */
  totalLength?: number | null;
}

export interface PackSequenceOptions {
  enforceSorted?: boolean;
}

/** PyTorch's name for the backward of packed data. */
const PACK_BACKWARD = 'PackPaddedSequenceBackward0';

/** The lengths in packing order, and that order (null: as given). */
function packingOrder(lengths: number[], enforceSorted: boolean): { sorted: number[]; order: number[] | null } {
  if (enforceSorted) return { sorted: lengths, order: null };
  const r = sortDescending(lengths);
  return { sorted: r.sorted, order: r.indices };
}

/** Packed row -> source row, given where (step t, batch element b) lives in the source. */
function packRows(sizes: readonly number[], order: readonly number[] | null, source: (t: number, b: number) => number): Int32Array {
  const rows = new Int32Array(sizes.reduce((a, b) => a + b, 0));
  let r = 0;
  sizes.forEach((n, t) => {
    for (let j = 0; j < n; ++j) rows[r++] = source(t, order === null ? j : order[j]);
  });
  return rows;
}

/**
 * Packs a padded batch (T, B, *) — or (B, T, *) with batchFirst — of sequences
 * of the given lengths (torch.nn.utils.rnn.pack_padded_sequence).
 */
export function packPaddedSequence(input: Tensor, lengths: Lengths, options: PackPaddedSequenceOptions = {}): PackedSequence {
  const where = 'packPaddedSequence';
  const x = checkTensor(where, 'input', input);
  const o = readOptions(where, options, ['batchFirst', 'enforceSorted']);
  const batchFirst = optionalBoolean(where, o, 'batchFirst', false);
  const enforceSorted = optionalBoolean(where, o, 'enforceSorted', true);
  if (x.ndim < 2) {
    throw new RangeError(`${where}: expected input to have at least 2 dimensions (${batchFirst ? 'B x T' : 'T x B'} x *), but got ${x.ndim}`);
  }
  const lens = readLengths(where, lengths);
  const [steps, batch] = batchFirst ? [x.shape[1], x.shape[0]] : [x.shape[0], x.shape[1]];
  const { sorted, order } = packingOrder(lens, enforceSorted);
  checkPackable(where, sorted, batch, x.numel, steps);
  const sizes = batchSizesOf(sorted);
  const rows = packRows(sizes, order, batchFirst ? (t, b) => b * steps + t : (t, b) => t * batch + b);
  return tidy(() => makePacked(gatherRows(mergeFirstTwo(x), rows, PACK_BACKWARD), sizes, order));
}

/**
 * The padded batch (T, B, *) — (B, T, *) with batchFirst — of a
 * PackedSequence, in the original batch order, and the lengths (int32, CPU)
 * (torch.nn.utils.rnn.pad_packed_sequence).
 */
export function padPackedSequence(sequence: PackedSequence, options: PadPackedSequenceOptions = {}): [Tensor, Tensor<'int32'>] {
  const where = 'padPackedSequence';
  const p = checkPackedSequence(where, 'sequence', sequence);
  const o = readOptions(where, options, ['batchFirst', 'paddingValue', 'totalLength']);
  const batchFirst = optionalBoolean(where, o, 'batchFirst', false);
  const paddingValue = optionalNumber(where, o, 'paddingValue', 0);
  const sizes = Array.from(p.batchSizes.dataSync());
  const longest = sizes.length;
  let steps = longest;
  if (o.totalLength !== undefined && o.totalLength !== null) {
    const total = checkInteger(where, 'options.totalLength', o.totalLength);
    if (total < longest) {
      throw new RangeError(`${where}: Expected total_length to be at least the length of the longest sequence in input, but got total_length=${total} and max sequence length being ${longest}`);
    }
    steps = total;
  }
  const batch = sizes[0];
  const offsets = stepOffsets(sizes);
  const sortedLengths = lengthsOf(sizes);
  // Original batch element b sits at sorted position unsorted[b].
  const unsorted = p.unsortedIndices === null ? null : Array.from(p.unsortedIndices.dataSync());
  const position = (b: number): number => (unsorted === null ? b : unsorted[b]);
  const padRow = p.data.shape[0];
  const rows = new Int32Array(steps * batch);
  let padded = false;
  for (let t = 0; t < steps; ++t) {
    for (let b = 0; b < batch; ++b) {
      const j = position(b);
      const inside = t < longest && j < sizes[t];
      padded ||= !inside;
      rows[batchFirst ? b * steps + t : t * batch + b] = inside ? offsets[t] + j : padRow;
    }
  }
  const lengthsOut = indexTensor(Array.from({ length: batch }, (_, b) => sortedLengths[position(b)]), CPU);
  const out = tidy(() => {
    const table = withPaddingRow(where, p.data, paddingValue, padded);
    const flat = gatherRows(table, rows);
    return reshape(flat, [batchFirst ? batch : steps, batchFirst ? steps : batch, ...p.data.shape.slice(1)]);
  });
  return [out, lengthsOut];
}

/**
 * Packs a list of sequences (L_i, *) (torch.nn.utils.rnn.pack_sequence): the
 * same as packPaddedSequence(padSequence(sequences), their lengths), without
 * building the padded batch.
 */
export function packSequence(sequences: Tensor[] | Tensor, options: PackSequenceOptions = {}): PackedSequence {
  const where = 'packSequence';
  const o = readOptions(where, options, ['enforceSorted']);
  const enforceSorted = optionalBoolean(where, o, 'enforceSorted', true);
  return tidy(() => {
    const seqs = checkSequenceList(where, sequences);
    const lens = seqs.map((s) => s.shape[0]);
    const longest = lens.reduce((a, b) => Math.max(a, b), 0);
    const { sorted, order } = packingOrder(lens, enforceSorted);
    checkPackable(where, sorted, seqs.length, longest * seqs.length * shapeNumel(seqs[0].shape.slice(1)), longest);
    const sizes = batchSizesOf(sorted);
    const starts = stepOffsets(lens);
    const rows = packRows(sizes, order, (t, b) => starts[b] + t);
    // pad_sequence gives the first sequence's dtype to the whole batch.
    const dtype = seqs[0].dtype;
    const table = cat(seqs.map((s) => (s.dtype === dtype ? s : to(s, dtype))), 0);
    return makePacked(gatherRows(table, rows, PACK_BACKWARD), sizes, order);
  });
}

/** The sequences of a PackedSequence, in the original order (torch.nn.utils.rnn.unpack_sequence). */
export function unpackSequence(packed: PackedSequence): Tensor[] {
  const where = 'unpackSequence';
  const p = checkPackedSequence(where, 'packed', packed);
  const sizes = Array.from(p.batchSizes.dataSync());
  const offsets = stepOffsets(sizes);
  const sortedLengths = lengthsOf(sizes);
  const unsorted = p.unsortedIndices === null ? null : Array.from(p.unsortedIndices.dataSync());
  const positions = Array.from({ length: sizes[0] }, (_, b) => (unsorted === null ? b : unsorted[b]));
  const rows = new Int32Array(p.data.shape[0]);
  let r = 0;
  for (const j of positions) {
    for (let t = 0; t < sortedLengths[j]; ++t) rows[r++] = offsets[t] + j;
  }
  return tidy(() => splitRows(gatherRows(p.data, rows), positions.map((j) => sortedLengths[j])));
}
