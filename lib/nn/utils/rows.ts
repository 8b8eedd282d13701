// The two differentiable primitives the packing utilities are made of: a row
// gather by host-computed indices, and a split of rows into pieces that
// backpropagates as one node. Packing, padding and unpacking are all
// permutations of rows (plus padding rows), so each is one gather: no data
// goes through the host, and the index is never read back from the device.
import { tidy } from '../../memory';
import { native } from '../../native';
import { narrow, reshapeRaw, viewOf } from '../../ops/shape';
import { emptyLike, needsGrad, outputLike, record } from '../../ops/util';
import { shapeNumel, Tensor } from '../../tensor';
import { indexTensor } from './indices';

/** `x` as a 2-D (rows, everything else) view when possible, else a copy. */
function asRows(x: Tensor): Tensor {
  return reshapeRaw(x, [x.shape[0], shapeNumel(x.shape.slice(1))]);
}

/**
 * out[i] = x[rows[i]] along dim 0. The indices are trusted (the callers
 * compute them in range); backward scatters the gradient rows back with
 * an index-add, so repeated rows accumulate. `name` is the backward node's
 * (PyTorch's name for the op the gather stands for).
 */
export function gatherRows(x: Tensor, rows: Int32Array, name = 'IndexSelectBackward0'): Tensor {
  const rest = x.shape.slice(1);
  const out = tidy(() => {
    const table = asRows(x);
    const picked = outputLike(x, [rows.length, table.shape[1]]);
    const idx = indexTensor(rows, x.deviceObj);
    native.indexSelectRows(...table._view(), ...idx._view(), ...picked._view());
    return reshapeRaw(picked, [rows.length, ...rest]);
  });
  if (needsGrad(x)) {
    const shape = x.shape;
    // The rows are kept on the host, so backward needs no saved tensor.
    record(out, name, [x], ([g]) => tidy(() => {
      const gRows = asRows(g as Tensor);
      const table = emptyLike(g as Tensor, [shape[0], gRows.shape[1]]);
      const idx = indexTensor(rows, (g as Tensor).deviceObj);
      native.indexAddRows(...gRows._view(), ...idx._view(), ...table._view());
      return [reshapeRaw(table, shape)];
    }));
  }
  return out;
}

/**
 * Consecutive pieces of `x` along dim 0 with the given sizes (views), whose
 * gradients are put back together in one node: one buffer of x's size for the
 * whole split, where a narrow per piece would zero-fill one per piece.
 */
export function splitRows(x: Tensor, sizes: readonly number[]): Tensor[] {
  const starts: number[] = [];
  let at = 0;
  for (const s of sizes) {
    starts.push(at);
    at += s;
  }
  const pieces = sizes.map((s, i) => {
    const shape = [s, ...x.shape.slice(1)];
    return viewOf(x, shape, x.strides, x.offset + starts[i] * x.strides[0]);
  });
  if (needsGrad(x) && pieces.length > 0) {
    const shape = x.shape;
    record(pieces, 'SplitWithSizesBackward0', [x], (grads) => tidy(() => {
      const first = grads.find((g) => g !== null) as Tensor;
      const whole = emptyLike(first, shape);
      grads.forEach((g, i) => {
        if (g === null || sizes[i] === 0) return;
        const region = narrow(whole, 0, starts[i], sizes[i]);
        native.copy(...g._view(), ...region._view());
      });
      return [whole];
    }));
  }
  return pieces;
}
