// Reductions (sum, mean, amax, argmax) and softmax, with autograd.
import { DType, DTYPE_CODE, isFloatDType } from '../dtype';
import { CodedError, normalizeDim, typeError, checkBoolean } from '../errors';
import { tidy } from '../memory';
import { native } from '../native';
import { contiguousStrides, Tensor } from '../tensor';
import { BinaryOp, rawBinary, rawBinaryScalar } from './pointwise';
import { contiguous, reshapeRaw } from './shape';
import { broadcastView, emptyLike, liveTensor, needsGrad, record } from './util';

/** Normalised, de-duplicated reduction dims (all dims when dim is null/undefined). */
export function reductionDims(where: string, dim: number | number[] | null | undefined, ndim: number): number[] {
  if (dim === null || dim === undefined) return Array.from({ length: ndim }, (_, i) => i);
  const list = Array.isArray(dim) ? dim : [dim];
  if (!Array.isArray(dim) && typeof dim !== 'number') throw typeError(where, 'dim', 'an integer, an array of integers or null', dim);
  const out: number[] = [];
  for (const d of list) {
    const n = normalizeDim(where, d, ndim);
    if (out.includes(n)) throw new RangeError(`${where}: dim ${n} appears multiple times in the list of dims`);
    out.push(n);
  }
  return out.sort((a, b) => a - b);
}

function keptShape(shape: readonly number[], dims: number[]): number[] {
  return shape.map((s, i) => (dims.includes(i) ? 1 : s));
}

function outShape(shape: readonly number[], dims: number[], keepdim: boolean): number[] {
  return keepdim ? keptShape(shape, dims) : shape.filter((_, i) => !dims.includes(i));
}

/** Sum of x over dims into a new tensor of the kept shape (size 1 on dims). */
function rawSumKept(x: Tensor, dims: number[], dtype: DType): Tensor {
  const kept = keptShape(x.shape, dims);
  const out = emptyLike(x, kept, dtype);
  const base = contiguousStrides(kept);
  const strides = x.shape.map((_, i) => (dims.includes(i) ? 0 : base[i]));
  native.sum(...x._view(), out._storage.handle, DTYPE_CODE[dtype], 0, x.shape as number[], strides);
  return out;
}

/** Gradient of a reduction: g (reduced shape) broadcast back to `shape`, materialised. */
function expandBack(g: Tensor, inputShape: readonly number[], dims: number[], scale: number): Tensor {
  const kept = reshapeRaw(g, keptShape(inputShape, dims));
  const out = emptyLike(g, inputShape);
  try {
    native.binaryScalar(BinaryOp.Mul, ...broadcastView(kept, inputShape), scale, false, ...out._view());
  } finally {
    if (kept !== g) kept.dispose();
  }
  return out;
}

/**
 * PyTorch sums integers in int64, which we do not have: the sum is taken in
 * float64 (exact while partial sums stay below 2^53) and returned as int32
 * when every result is representable, else a RangeError rather than a
 * wrapped-around value.
 */
function sumInt32(x: Tensor, dims: number[], keepdim: boolean): Tensor {
  const kept = rawSumKept(x, dims, 'float64');
  try {
    const values = kept.dataSync();
    for (let i = 0; i < values.length; ++i) {
      const v = values[i];
      if (!(v >= -2147483648 && v <= 2147483647)) {
        throw new RangeError(`sum: the sum of this int32 tensor is ${v}, which does not fit in int32 (PyTorch sums integers in int64, which cudnn-rnn does not have); convert first: input.to('float64').sum()`);
      }
    }
    const asInt = tidy(() => kept.to('int32'));
    const out = keepdim ? asInt : reshapeRaw(asInt, outShape(x.shape, dims, false));
    if (out !== asInt) asInt.dispose();
    return out;
  } finally {
    kept.dispose();
  }
}

export function sum(a: Tensor, dim?: number | number[] | null, keepdim = false): Tensor {
  const x = liveTensor('sum', 'input', a);
  checkBoolean('sum', 'keepdim', keepdim);
  const dims = reductionDims('sum', dim, x.ndim);
  if (x.dtype === 'int32') return sumInt32(x, dims, keepdim);
  const kept = rawSumKept(x, dims, x.dtype);
  const out = keepdim ? kept : reshapeRaw(kept, outShape(x.shape, dims, false));
  if (out !== kept) kept.dispose();
  if (needsGrad(x)) {
    const shape = x.shape;
    record(out, dim === null || dim === undefined ? 'SumBackward0' : 'SumBackward1', [x], ([g]) => [expandBack(g as Tensor, shape, dims, 1)]);
  }
  return out;
}

export function mean(a: Tensor, dim?: number | number[] | null, keepdim = false): Tensor {
  const x = liveTensor('mean', 'input', a);
  checkBoolean('mean', 'keepdim', keepdim);
  if (!isFloatDType(x.dtype)) {
    throw new CodedError('mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. Got: Int', 'ERR_CUDNN_RNN_DTYPE');
  }
  const dims = reductionDims('mean', dim, x.ndim);
  const count = dims.reduce((n, d) => n * (x.shape[d] ?? 1), 1);
  const kept = rawSumKept(x, dims, x.dtype);
  const scaledKept = rawBinaryScalar(BinaryOp.Div, kept, count, false);
  kept.dispose();
  const out = keepdim ? scaledKept : reshapeRaw(scaledKept, outShape(x.shape, dims, false));
  if (out !== scaledKept) scaledKept.dispose();
  if (needsGrad(x)) {
    const shape = x.shape;
    record(out, dim === null || dim === undefined ? 'MeanBackward0' : 'MeanBackward1', [x], ([g]) => [expandBack(g as Tensor, shape, dims, 1 / count)]);
  }
  return out;
}

/** Max over one dim: values (kept shape) and optionally int32 indices. */
function rawMaxDim(x: Tensor, d: number, withIndices: boolean): [Tensor, Tensor | null] {
  const kept = keptShape(x.shape, [d]);
  const values = emptyLike(x, kept);
  const indices = withIndices ? emptyLike(x, kept, 'int32') : null;
  native.maxDim(...x._view(), d, ...values._view(), ...(indices ? indices._view() : [null, 0, 0, [], []]));
  return [values, indices];
}

/** Maximum over dims; the gradient is split evenly between tied maxima (torch.amax). */
export function amax<D extends DType>(a: Tensor<D>, dim?: number | number[] | null, keepdim = false): Tensor<D> {
  const x = liveTensor('amax', 'input', a);
  checkBoolean('amax', 'keepdim', keepdim);
  const dims = reductionDims('amax', dim, x.ndim);
  for (const d of dims) {
    if (x.shape[d] === 0) throw new RangeError(`amax: Expected reduction dim ${d} to have non-zero size.`);
  }
  const kept = tidy(() => {
    let cur: Tensor = x;
    for (const d of dims) cur = rawMaxDim(cur, d, false)[0];
    return cur === x ? rawBinaryScalar(BinaryOp.Add, x, 0, false) : cur;
  });
  const out = keepdim ? kept : reshapeRaw(kept, outShape(x.shape, dims, false));
  if (out !== kept) kept.dispose();
  if (needsGrad(x)) {
    record(out, 'AmaxBackward0', [x], ([g]) => tidy(() => {
      const keptOut = reshapeRaw(out, keptShape(x.shape, dims));
      const mask = rawBinary('amax', BinaryOp.Eq, x, keptOut, x.dtype);
      const count = rawSumKept(mask, dims, x.dtype);
      const share = rawBinary('amax', BinaryOp.Div, reshapeRaw(g as Tensor, keptShape(x.shape, dims)), count, x.dtype);
      return [rawBinary('amax', BinaryOp.Mul, mask, share, x.dtype)];
    }), { saved: [x, out] });
  }
  return out as Tensor<D>;
}

/** Index of the first maximum (int32), over one dim or the flattened tensor. */
export function argmax(a: Tensor, dim?: number | null, keepdim = false): Tensor<'int32'> {
  const x = liveTensor('argmax', 'input', a);
  checkBoolean('argmax', 'keepdim', keepdim);
  if (dim === null || dim === undefined) {
    if (x.numel === 0) throw new RangeError('argmax(): Expected reduction dim to be specified for input.numel() == 0.');
    return tidy(() => {
      const flat = reshapeRaw(contiguous(x), [x.numel]);
      const idx = rawMaxDim(flat, 0, true)[1] as Tensor;
      return reshapeRaw(idx, keepdim ? x.shape.map(() => 1) : []);
    }) as Tensor<'int32'>;
  }
  const d = normalizeDim('argmax', dim, x.ndim);
  if (x.ndim > 0 && x.shape[d] === 0) throw new RangeError(`argmax(): Expected reduction dim ${d} to have non-zero size.`);
  return tidy(() => {
    const idx = rawMaxDim(x, d, true)[1] as Tensor;
    return keepdim ? idx : reshapeRaw(idx, outShape(x.shape, [d], false));
  }) as Tensor<'int32'>;
}

function softmaxImpl(where: string, name: string, a: Tensor, dim: number, log: boolean): Tensor {
  const x0 = liveTensor(where, 'input', a);
  const d = normalizeDim(where, dim, x0.ndim);
  const x = contiguous(x0);
  const dtype = isFloatDType(x.dtype) ? x.dtype : 'float32';
  const xin = x.dtype === dtype ? x : x.to(dtype);
  const out = emptyLike(x, x.shape, dtype);
  try {
    native.softmax(...xin._view(), x.ndim === 0 ? 0 : d, log, ...out._view());
  } finally {
    if (xin !== x) xin.dispose();
    if (x !== x0) x.dispose();
  }
  if (needsGrad(x0)) {
    record(out, name, [x0], ([g]) => {
      const gc = contiguous(g as Tensor);
      const gi = emptyLike(out);
      native.softmaxBackward(...gc._view(), ...out._view(), out.ndim === 0 ? 0 : d, log, ...gi._view());
      if (gc !== g) gc.dispose();
      return [gi];
    }, { saved: [out] });
  }
  return out;
}

export function softmax(a: Tensor, dim: number): Tensor {
  return softmaxImpl('softmax', 'SoftmaxBackward0', a, dim, false);
}
export function logSoftmax(a: Tensor, dim: number): Tensor {
  return softmaxImpl('logSoftmax', 'LogSoftmaxBackward0', a, dim, true);
}
