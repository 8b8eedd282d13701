// pad_sequence and unpad_sequence: between a list of sequences (L_i, *) and
// one padded batch, each way as one row gather.
import { tidy } from '../../memory';
import { to } from '../../ops/convert';
import { cat, reshape } from '../../ops/shape';
import { checkTensor, Tensor } from '../../tensor';
import { Lengths, optionalBoolean, optionalNumber, readLengths, readOptions, stepOffsets } from './lengths';
import { mergeFirstTwo, withPaddingRow } from './padding';
import { gatherRows, splitRows } from './rows';
import { checkSequenceList } from './sequences';

export interface PadSequenceOptions {
  /** Return (B, T, *) instead of (T, B, *). Default false. */
  batchFirst?: boolean;
  /** The value of the padded positions. Default 0. */
  paddingValue?: number;
  /** 'right' (default) pads after each sequence; 'left' puts each sequence at the end. */
  paddingSide?: 'right' | 'left';
}

export interface UnpadSequenceOptions {
  /** padded is (B, T, *) instead of (T, B, *). Default false. */
  batchFirst?: boolean;
}

/**
 * Stacks sequences (L_i, *) into one batch (T, B, *) — (B, T, *) with
 * batchFirst — padded to the longest, T (torch.nn.utils.rnn.pad_sequence,
 * with the paddingSide of newer PyTorch). The batch has the first sequence's dtype.
 */
export function padSequence(sequences: Tensor[] | Tensor, options: PadSequenceOptions = {}): Tensor {
  const where = 'padSequence';
  const o = readOptions(where, options, ['batchFirst', 'paddingValue', 'paddingSide']);
  const batchFirst = optionalBoolean(where, o, 'batchFirst', false);
  const paddingValue = optionalNumber(where, o, 'paddingValue', 0);
  const side = o.paddingSide ?? 'right';
  return tidy(() => {
    const seqs = checkSequenceList(where, sequences);
    if (side !== 'left' && side !== 'right') {
      throw new RangeError(`${where}: Expected padding_side to be one of left or right, but got ${String(side)}.`);
    }
    const lens = seqs.map((s) => s.shape[0]);
    const batch = seqs.length;
    const steps = lens.reduce((a, b) => Math.max(a, b), 0);
    const starts = stepOffsets(lens);
    const padRow = starts[batch - 1] + lens[batch - 1];
    const rows = new Int32Array(steps * batch);
    for (let b = 0; b < batch; ++b) {
      // Where sequence b begins in the padded steps.
      const begin = side === 'left' ? steps - lens[b] : 0;
      for (let t = 0; t < steps; ++t) {
        const inside = t >= begin && t < begin + lens[b];
        rows[batchFirst ? b * steps + t : t * batch + b] = inside ? starts[b] + t - begin : padRow;
      }
    }
    const dtype = seqs[0].dtype;
    const table = withPaddingRow(where, cat(seqs.map((s) => (s.dtype === dtype ? s : to(s, dtype))), 0), paddingValue, padRow < steps * batch);
    const trailing = seqs[0].shape.slice(1);
    return reshape(gatherRows(table, rows), batchFirst ? [batch, steps, ...trailing] : [steps, batch, ...trailing]);
  });
}

/**
 * The sequences of a padded batch (T, B, *) — (B, T, *) with batchFirst —
 * cut to their lengths (torch.nn.utils.rnn.unpad_sequence). Unlike PyTorch's,
 * it leaves `padded` as it is, and refuses lengths that do not fit the batch.
 */
export function unpadSequence(padded: Tensor, lengths: Lengths, options: UnpadSequenceOptions = {}): Tensor[] {
  const where = 'unpadSequence';
  const x = checkTensor(where, 'padded', padded);
  const o = readOptions(where, options, ['batchFirst']);
  const batchFirst = optionalBoolean(where, o, 'batchFirst', false);
  if (x.ndim < 2) {
    throw new RangeError(`${where}: expected padded to have at least 2 dimensions (${batchFirst ? 'B x T' : 'T x B'} x *), but got ${x.ndim}`);
  }
  const lens = readLengths(where, lengths);
  const [steps, batch] = batchFirst ? [x.shape[1], x.shape[0]] : [x.shape[0], x.shape[1]];
  if (lens.length !== batch) {
    throw new RangeError(`${where}: expected one length per sequence of the batch (${batch}), but got ${lens.length} lengths`);
  }
  lens.forEach((l, b) => {
    if (l < 0 || l > steps) throw new RangeError(`${where}: expected lengths[${b}] to be in [0, ${steps}] (the padded length), but got ${l}`);
  });
  const rows = new Int32Array(lens.reduce((a, b) => a + b, 0));
  let r = 0;
  lens.forEach((l, b) => {
    for (let t = 0; t < l; ++t) rows[r++] = batchFirst ? b * steps + t : t * batch + b;
  });
  return tidy(() => splitRows(gatherRows(mergeFirstTwo(x), rows), lens));
}
