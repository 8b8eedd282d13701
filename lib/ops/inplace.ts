// In-place updates, for optimizers and initialisation. They bump the storage
// version so autograd notices stale saved values, and refuse where PyTorch does.
import { isGradEnabled, noGrad } from '../autograd/grad-mode';
import { deviceName, sameDevice } from '../device';
import { isFloatDType } from '../dtype';
import { CodedError, typeError, checkInt32Value } from '../errors';
import { native } from '../native';
import { Tensor } from '../tensor';
import { to } from './convert';
import { BinaryOp } from './pointwise';
import { broadcastShapes, broadcastView, castIfNeeded, checkSameDevice, emptyLike, liveTensor, sameShape } from './util';
import { formatShape } from '../errors';

function checkWritable(where: string, t: Tensor): void {
  liveTensor(where, 'self', t);
  if (isGradEnabled() && t.requiresGrad) {
    if (t.isLeaf) {
      throw new CodedError(`${where}: a leaf Variable that requires grad is being used in an in-place operation. Wrap the update in noGrad(() => ...).`, 'ERR_CUDNN_RNN_INPLACE_LEAF');
    }
    throw new CodedError(`${where}: in-place operations on tensors that are part of the autograd graph are not supported; use the out-of-place op.`, 'ERR_CUDNN_RNN_INPLACE_GRAPH');
  }
}

/** `other` broadcast to t's shape (it may not grow t). */
function operandView(where: string, t: Tensor, other: Tensor): Tensor {
  checkSameDevice(where, t, other);
  const shape = broadcastShapes(where, t.shape, other.shape);
  if (!sameShape(shape, t.shape)) {
    throw new RangeError(`${where}: output with shape ${formatShape(t.shape)} doesn't match the broadcast shape ${formatShape(shape)}`);
  }
  return castIfNeeded(other, t.dtype);
}

/** PyTorch refuses to write a float result into an int32 tensor in place. */
function checkIntResult(where: string, t: Tensor, other: Tensor | number, alpha = 1): void {
  if (t.dtype !== 'int32') return;
  const isFloat = typeof other === 'number' ? !Number.isInteger(other) : isFloatDType(other.dtype) || !Number.isInteger(alpha);
  if (isFloat) {
    throw new CodedError(`${where}: result type Float can't be cast to the desired output type Int`, 'ERR_CUDNN_RNN_DTYPE');
  }
}

function bump(t: Tensor): void {
  t._storage.version += 1;
}

export function copyInPlace(t: Tensor, src: Tensor): void {
  checkWritable('copy_', t);
  const s0 = liveTensor('copy_', 'src', src);
  const shape = broadcastShapes('copy_', t.shape, s0.shape);
  if (!sameShape(shape, t.shape)) {
    throw new RangeError(`copy_: output with shape ${formatShape(t.shape)} doesn't match the broadcast shape ${formatShape(shape)}`);
  }
  // Like PyTorch, copy_ crosses devices (loadStateDict of a CPU file into a GPU model).
  const s = sameDevice(s0.deviceObj, t.deviceObj) ? s0 : noGrad(() => to(s0, { device: deviceName(t.deviceObj) }));
  try {
    native.copy(...broadcastView(s, t.shape), ...t._view());
  } finally {
    if (s !== s0) s.dispose();
  }
  bump(t);
}

export function fillInPlace(t: Tensor, value: number): void {
  checkWritable('fill_', t);
  if (typeof value !== 'number') throw typeError('fill_', 'value', 'a number', value);
  if (t.dtype === 'int32') checkInt32Value('fill_', 'value', value);
  native.fill(...t._view(), value);
  bump(t);
}

/** t += sign * alpha * other (add_ with sign 1, sub_ with sign -1). */
export function addInPlace(where: string, t: Tensor, other: Tensor | number, options: { alpha?: number } | undefined, sign: 1 | -1): void {
  checkWritable(where, t);
  if (options !== undefined && (typeof options !== 'object' || options === null)) throw typeError(where, 'options', 'an object', options);
  const alphaArg = options?.alpha ?? 1;
  if (typeof alphaArg !== 'number') throw typeError(where, 'options.alpha', 'a number', alphaArg);
  const alpha = sign * alphaArg;
  if (typeof other === 'number') {
    checkIntResult(where, t, other * alpha);
    native.binaryScalar(BinaryOp.Add, ...t._view(), alpha * other, false, ...t._view());
  } else {
    if (!(other instanceof Tensor)) throw typeError(where, 'other', 'a Tensor or a number', other);
    checkIntResult(where, t, other, alpha);
    const o = operandView(where, t, liveTensor(where, 'other', other));
    try {
      native.axpy(...t._view(), alpha, ...broadcastView(o, t.shape), ...t._view());
    } finally {
      if (o !== other) o.dispose();
    }
  }
  bump(t);
}

function scaleInPlace(where: string, op: number, t: Tensor, other: Tensor | number): void {
  checkWritable(where, t);
  if (op === BinaryOp.Div && !isFloatDType(t.dtype)) {
    throw new CodedError(`${where}: result type Float can't be cast to the desired output type Int`, 'ERR_CUDNN_RNN_DTYPE');
  }
  if (typeof other === 'number') {
    checkIntResult(where, t, other);
    native.binaryScalar(op, ...t._view(), other, false, ...t._view());
  } else if (other instanceof Tensor) {
    checkIntResult(where, t, other);
    const o = operandView(where, t, liveTensor(where, 'other', other));
    try {
      native.binary(op, ...t._view(), ...broadcastView(o, t.shape), ...t._view());
    } finally {
      if (o !== other) o.dispose();
    }
  } else {
    throw typeError(where, 'other', 'a Tensor or a number', other);
  }
  bump(t);
}

export function mulInPlace(t: Tensor, other: Tensor | number): void {
  scaleInPlace('mul_', BinaryOp.Mul, t, other);
}

export function divInPlace(t: Tensor, other: Tensor | number): void {
  scaleInPlace('div_', BinaryOp.Div, t, other);
}

/** Fills t from the generator: a contiguous t is filled directly, like PyTorch. */
function randomInPlace(where: string, t: Tensor, fill: (dst: Tensor) => void): void {
  checkWritable(where, t);
  if (!isFloatDType(t.dtype)) throw new CodedError(`${where}: expected a floating point tensor, got ${t.dtype}`, 'ERR_CUDNN_RNN_DTYPE');
  if (t.numel === 0) return;  // nothing to draw, as in PyTorch
  if (t.isContiguous) {
    fill(t);
  } else {
    const tmp = emptyLike(t);
    try {
      fill(tmp);
      native.copy(...tmp._view(), ...t._view());
    } finally {
      tmp.dispose();
    }
  }
  bump(t);
}

export function uniformInPlace(t: Tensor, from: number, to: number): void {
  if (typeof from !== 'number' || typeof to !== 'number') throw typeError('uniform_', 'from/to', 'numbers', typeof from !== 'number' ? from : to);
  if (from > to) throw new RangeError(`uniform_: uniform_ expects to return a [from, to) range, but found from=${from} > to=${to}`);
  randomInPlace('uniform_', t, (dst) => native.uniformFill(...dst._view(), from, to));
}

export function normalInPlace(t: Tensor, mean: number, std: number): void {
  if (typeof mean !== 'number') throw typeError('normal_', 'mean', 'a number', mean);
  if (typeof std !== 'number' || !(std >= 0)) throw new RangeError(`normal_: normal expects std >= 0.0, but found std ${std}`);
  randomInPlace('normal_', t, (dst) => native.normalFill(...dst._view(), mean, std));
}
