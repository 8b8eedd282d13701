// torch.matmul semantics: dot, mv, mm and batched mm with broadcast batch dims.
import { promoteTypes } from '../dtype';
import { formatShape } from '../errors';
import { tidy } from '../memory';
import { native } from '../native';
import { Tensor } from '../tensor';
import { broadcastShapes, castIfNeeded, checkSameDevice, liveTensor, needsGrad, outputLike, record, sumToShape } from './util';
import { contiguousRaw, reshapeRaw, viewOf } from './shape';

/** (..., M, K) x (..., K, N) -> (..., M, N), both at least 2-D, no autograd. */
function rawBatchedMatmul(a: Tensor, b: Tensor): Tensor {
  const m = a.shape[a.ndim - 2], k = a.shape[a.ndim - 1], n = b.shape[b.ndim - 1];
  const batch = broadcastShapes('matmul', a.shape.slice(0, -2), b.shape.slice(0, -2));
  const batchNumel = batch.reduce((p, q) => p * q, 1);
  // Broadcast batch dims by stride 0, then fold them into one dim when the
  // strides allow; otherwise materialise the operand.
  const fold = (t: Tensor, rows: number, cols: number): Tensor => {
    const lead = batch.length - (t.ndim - 2);
    const strides = batch.map((s, i) => {
      const j = i - lead;
      return j < 0 || t.shape[j] === 1 ? 0 : t.strides[j];
    });
    let foldable = true;
    for (let i = 0; i + 1 < batch.length; ++i) {
      if (strides[i] !== strides[i + 1] * batch[i + 1] && batch[i] !== 1) foldable = false;
    }
    const inner = [t.strides[t.ndim - 2], t.strides[t.ndim - 1]];
    const batchStride = strides.length === 0 ? 0 : strides[strides.length - 1];
    const allZero = strides.every((s) => s === 0);
    if (allZero || foldable) {
      return viewOf(t, [batchNumel, rows, cols], [allZero ? 0 : batchStride, inner[0], inner[1]]);
    }
    const expanded = viewOf(t, [...batch, rows, cols], [...strides, ...inner]);
    const c = contiguousRaw(expanded);
    if (c !== expanded) expanded.dispose();
    const v = reshapeRaw(c, [batchNumel, rows, cols]);
    if (v !== c) c.dispose();
    return v;
  };
  const a3 = fold(a, m, k);
  const b3 = fold(b, k, n);
  const out3 = outputLike(a, [batchNumel, m, n]);  // the kernel writes all of it
  try {
    native.matmul(...a3._view(), ...b3._view(), ...out3._view());
  } finally {
    a3.dispose();
    b3.dispose();
  }
  const out = reshapeRaw(out3, [...batch, m, n]);
  if (out !== out3) out3.dispose();
  return out;
}

export function matmul(a: Tensor, b: Tensor): Tensor {
  const x0 = liveTensor('matmul', 'input', a);
  const y0 = liveTensor('matmul', 'other', b);
  checkSameDevice('matmul', x0, y0);
  if (x0.ndim === 0 || y0.ndim === 0) {
    throw new RangeError(`matmul: both arguments to matmul need to be at least 1D, but they are ${x0.ndim}D and ${y0.ndim}D`);
  }
  const kx = x0.shape[x0.ndim - 1];
  const ky = y0.ndim === 1 ? y0.shape[0] : y0.shape[y0.ndim - 2];
  if (kx !== ky) {
    const what = x0.ndim === 1 && y0.ndim === 1 ? 'inconsistent tensor size, expected tensor [' + kx + '] and src [' + ky + '] to have the same number of elements, but got ' + kx + ' and ' + ky + ' elements respectively'
      : `mat1 and mat2 shapes cannot be multiplied (${x0.ndim === 1 ? `1x${kx}` : `${x0.shape.slice(0, -1).reduce((p, q) => p * q, 1)}x${kx}`} and ${ky}x${y0.ndim === 1 ? 1 : y0.shape[y0.ndim - 1]})`;
    throw new RangeError(`matmul: ${what}; shapes ${formatShape(x0.shape)} and ${formatShape(y0.shape)}`);
  }
  if (x0.ndim > 2 || y0.ndim > 2) {
    try {
      broadcastShapes('matmul', x0.shape.slice(0, -2), y0.ndim >= 2 ? y0.shape.slice(0, -2) : []);
    } catch {
      throw new RangeError(`matmul: the batch dimensions of ${formatShape(x0.shape)} and ${formatShape(y0.shape)} cannot be broadcast together`);
    }
  }
  const dtype = promoteTypes(x0.dtype, y0.dtype);
  let fullShape: number[] = [];
  const out = tidy(() => {
    const x = castIfNeeded(x0, dtype);
    const y = castIfNeeded(y0, dtype);
    const x2 = x.ndim === 1 ? reshapeRaw(x, [1, kx]) : x;
    const y2 = y.ndim === 1 ? reshapeRaw(y, [ky, 1]) : y;
    const r = rawBatchedMatmul(x2, y2);
    fullShape = r.shape.slice();
    let shape = r.shape.slice();
    if (x0.ndim === 1) shape.splice(shape.length - 2, 1);
    if (y0.ndim === 1) shape = shape.slice(0, -1);
    return reshapeRaw(r, shape);
  });
  if (needsGrad(x0, y0)) {
    const name = x0.ndim === 2 && y0.ndim === 2 ? 'MmBackward0' : x0.ndim === 1 && y0.ndim === 1 ? 'DotBackward0' : x0.ndim <= 2 && y0.ndim <= 2 ? 'MvBackward0' : 'BmmBackward0';
    record(out, name, [x0, y0], ([g]) => tidy(() => {
      const gg = g as Tensor;
      // Work in >= 2-D: restore the dims matmul removed for 1-D operands.
      const x = x0.ndim === 1 ? reshapeRaw(x0, [1, kx]) : x0;
      const y = y0.ndim === 1 ? reshapeRaw(y0, [ky, 1]) : y0;
      const g2 = reshapeRaw(gg, fullShape);
      const tr = (t: Tensor): Tensor => {
        const s = t.shape.slice(), st = t.strides.slice();
        [s[s.length - 1], s[s.length - 2]] = [s[s.length - 2], s[s.length - 1]];
        [st[st.length - 1], st[st.length - 2]] = [st[st.length - 2], st[st.length - 1]];
        return viewOf(t, s, st);
      };
      const gx = x0.requiresGrad ? reshapeRaw(sumToShape(rawBatchedMatmul(g2, tr(castIfNeeded(y, gg.dtype))), x.shape), x0.shape) : null;
      const gy = y0.requiresGrad ? reshapeRaw(sumToShape(rawBatchedMatmul(tr(castIfNeeded(x, gg.dtype)), g2), y.shape), y0.shape) : null;
      return [gx, gy];
    }), { saved: [x0, y0] });
  }
  return out;
}
