// Elementwise ops with PyTorch broadcasting, type promotion and autograd.
import { DType, isFloatDType, promoteWithScalar, resultType } from '../dtype';
import { CodedError, typeError } from '../errors';
import { tidy } from '../memory';
import { native } from '../native';
import { Tensor } from '../tensor';
import {
  broadcastShapes, broadcastView, castIfNeeded, checkSameDevice, liveTensor, outputLike, needsGrad, record, sumToShape,
} from './util';

// Codes of src/cpu/kernels.h.
export const UnaryOp = {
  Neg: 0, Exp: 1, Log: 2, Tanh: 3, Sigmoid: 4, Relu: 5, Abs: 6, Sqrt: 7, Sign: 8, Square: 9, Reciprocal: 10,
  Sin: 11, Cos: 12, Log1p: 13, Expm1: 14, Floor: 15, Ceil: 16, Round: 17,
} as const;
export const BinaryOp = {
  Add: 0, Sub: 1, Mul: 2, Div: 3, Pow: 4, Maximum: 5, Minimum: 6, Eq: 7, Ne: 8, Lt: 9, Le: 10, Gt: 11, Ge: 12,
  TanhBackward: 13, SigmoidBackward: 14, ReluBackward: 15,
} as const;

// ---------- raw kernels (no autograd) ----------

/** out = op(a) in `dtype` (a is cast first when it differs). */
export function rawUnary(op: number, a: Tensor, dtype: DType = a.dtype): Tensor {
  const src = castIfNeeded(a, dtype);
  const out = outputLike(a, a.shape, dtype);
  try {
    native.unary(op, ...src._view(), ...out._view());
  } catch (err) {
    out.dispose();
    throw err;
  } finally {
    if (src !== a) src.dispose();
  }
  return out;
}

/** out = op(a, b) with broadcasting, computed in `dtype`; comparisons may write `outDtype`. */
export function rawBinary(where: string, op: number, a: Tensor, b: Tensor, dtype: DType, outDtype: DType = dtype): Tensor {
  const shape = broadcastShapes(where, a.shape, b.shape);
  const ca = castIfNeeded(a, dtype);
  const cb = castIfNeeded(b, dtype);
  const out = outputLike(a, shape, outDtype);
  try {
    native.binary(op, ...broadcastView(ca, shape), ...broadcastView(cb, shape), ...out._view());
  } catch (err) {
    out.dispose();
    throw err;
  } finally {
    if (ca !== a) ca.dispose();
    if (cb !== b) cb.dispose();
  }
  return out;
}

export function rawBinaryScalar(op: number, a: Tensor, s: number, scalarFirst: boolean, dtype: DType = a.dtype): Tensor {
  const src = castIfNeeded(a, dtype);
  const out = outputLike(a, a.shape, dtype);
  try {
    native.binaryScalar(op, ...src._view(), s, scalarFirst, ...out._view());
  } catch (err) {
    out.dispose();
    throw err;
  } finally {
    if (src !== a) src.dispose();
  }
  return out;
}

// ---------- argument handling ----------

function checkOperand(where: string, arg: string, value: unknown): Tensor | number {
  if (typeof value === 'number') return value;
  if (value instanceof Tensor) return liveTensor(where, arg, value);
  throw typeError(where, arg, 'a Tensor or a number', value);
}

function checkAlpha(where: string, options: { alpha?: number } | undefined): number {
  if (options === undefined) return 1;
  if (typeof options !== 'object' || options === null) throw typeError(where, 'options', 'an object', options);
  const alpha = options.alpha ?? 1;
  if (typeof alpha !== 'number') throw typeError(where, 'options.alpha', 'a number', alpha);
  return alpha;
}

function scaled(g: Tensor, k: number): Tensor {
  return k === 1 ? g : rawBinaryScalar(BinaryOp.Mul, g, k, false);
}

// ---------- add / sub ----------

function addLike(where: string, name: string, a: Tensor, other: Tensor | number, alpha: number): Tensor {
  if (typeof other === 'number') {
    const s = alpha * other;
    const out = rawBinaryScalar(BinaryOp.Add, a, s, false, promoteWithScalar(a.dtype, s));
    if (needsGrad(a)) record(out, name, [a], ([g]) => [g]);
    return out;
  }
  checkSameDevice(where, a, other);
  const dtype = resultType(a.dtype, a.ndim, other.dtype, other.ndim);
  let out: Tensor;
  if (alpha === 1) {
    out = rawBinary(where, BinaryOp.Add, a, other, dtype);
  } else {
    const sb = rawBinaryScalar(BinaryOp.Mul, other, alpha, false, promoteWithScalar(other.dtype, alpha));
    try {
      out = rawBinary(where, BinaryOp.Add, a, sb, dtype);
    } finally {
      sb.dispose();
    }
  }
  if (needsGrad(a, other)) {
    const aShape = a.shape, bShape = other.shape;
    record(out, name, [a, other], ([g]) => {
      const gg = g as Tensor;
      const gb = scaled(gg, alpha);
      const ra = sumToShape(gg, aShape);
      const rb = sumToShape(gb, bShape);
      if (gb !== gg && rb !== gb) gb.dispose();
      return [ra, rb];
    });
  }
  return out;
}

export function add(a: Tensor, other: Tensor | number, options?: { alpha?: number }): Tensor {
  const x = liveTensor('add', 'input', a);
  return addLike('add', 'AddBackward0', x, checkOperand('add', 'other', other), checkAlpha('add', options));
}

export function sub(a: Tensor, other: Tensor | number, options?: { alpha?: number }): Tensor {
  const x = liveTensor('sub', 'input', a);
  return addLike('sub', 'SubBackward0', x, checkOperand('sub', 'other', other), -checkAlpha('sub', options));
}

// ---------- mul / div ----------

export function mul(a: Tensor, other: Tensor | number): Tensor {
  const x = liveTensor('mul', 'input', a);
  const y = checkOperand('mul', 'other', other);
  if (typeof y === 'number') {
    const out = rawBinaryScalar(BinaryOp.Mul, x, y, false, promoteWithScalar(x.dtype, y));
    if (needsGrad(x)) record(out, 'MulBackward0', [x], ([g]) => [scaledCopy(g as Tensor, y)]);
    return out;
  }
  checkSameDevice('mul', x, y);
  const out = rawBinary('mul', BinaryOp.Mul, x, y, resultType(x.dtype, x.ndim, y.dtype, y.ndim));
  if (needsGrad(x, y)) {
    record(out, 'MulBackward0', [x, y], ([g]) => tidy(() => {
      const gg = g as Tensor;
      const ga = x.requiresGrad ? sumToShape(rawBinary('mul', BinaryOp.Mul, gg, y, gg.dtype), x.shape) : null;
      const gb = y.requiresGrad ? sumToShape(rawBinary('mul', BinaryOp.Mul, gg, x, gg.dtype), y.shape) : null;
      return [ga, gb];
    }), { saved: [x, y] });
  }
  return out;
}

/** g * k as a new tensor (never aliases g: the engine disposes g). */
function scaledCopy(g: Tensor, k: number): Tensor {
  return rawBinaryScalar(BinaryOp.Mul, g, k, false);
}

export function div(a: Tensor, other: Tensor | number): Tensor {
  const x = liveTensor('div', 'input', a);
  const y = checkOperand('div', 'other', other);
  // True division: integer inputs give float32, like torch.div.
  if (typeof y === 'number') {
    const dtype = x.dtype === 'int32' ? 'float32' : x.dtype;
    const out = rawBinaryScalar(BinaryOp.Div, x, y, false, dtype);
    if (needsGrad(x)) record(out, 'DivBackward0', [x], ([g]) => [rawBinaryScalar(BinaryOp.Div, g as Tensor, y, false)]);
    return out;
  }
  checkSameDevice('div', x, y);
  let dtype = resultType(x.dtype, x.ndim, y.dtype, y.ndim);
  if (dtype === 'int32') dtype = 'float32';
  const out = rawBinary('div', BinaryOp.Div, x, y, dtype);
  if (needsGrad(x, y)) {
    record(out, 'DivBackward0', [x, y], ([g]) => tidy(() => {
      const gg = g as Tensor;
      const ga = x.requiresGrad ? sumToShape(rawBinary('div', BinaryOp.Div, gg, y, gg.dtype), x.shape) : null;
      let gb: Tensor | null = null;
      if (y.requiresGrad) {
        // d(a/b)/db = -a/b^2 = -(a/b)/b
        const q = rawBinary('div', BinaryOp.Div, x, y, gg.dtype);
        const t = rawBinary('div', BinaryOp.Div, rawBinary('mul', BinaryOp.Mul, gg, q, gg.dtype), y, gg.dtype);
        gb = sumToShape(rawUnary(UnaryOp.Neg, t), y.shape);
      }
      return [ga, gb];
    }), { saved: [x, y] });
  }
  return out;
}

// ---------- pow ----------

export function pow(a: Tensor, exponent: Tensor | number): Tensor {
  const x = liveTensor('pow', 'input', a);
  const e = checkOperand('pow', 'exponent', exponent);
  if (typeof e === 'number') {
    const dtype = promoteWithScalar(x.dtype, e);
    if (dtype === 'int32' && e < 0) {
      throw new CodedError('pow: Integers to negative integer powers are not allowed.', 'ERR_CUDNN_RNN_INVALID_ARGUMENT');
    }
    const out = dtype === 'int32' ? intPow(x, e) : rawBinaryScalar(BinaryOp.Pow, x, e, false, dtype);
    if (needsGrad(x)) {
      record(out, 'PowBackward0', [x], ([g]) => tidy(() => {
        if (e === 0) return [rawBinaryScalar(BinaryOp.Mul, g as Tensor, 0, false)];
        const d = rawBinaryScalar(BinaryOp.Mul, rawBinaryScalar(BinaryOp.Pow, x, e - 1, false, (g as Tensor).dtype), e, false);
        return [rawBinary('pow', BinaryOp.Mul, g as Tensor, d, (g as Tensor).dtype)];
      }), { saved: [x] });
    }
    return out;
  }
  checkSameDevice('pow', x, e);
  const powType = resultType(x.dtype, x.ndim, e.dtype, e.ndim);
  if (powType === 'int32') {
    const neg = tidy(() => rawBinaryScalar(BinaryOp.Lt, e, 0, false).dataSync().some((v) => v !== 0));
    if (neg) throw new CodedError('pow: Integers to negative integer powers are not allowed.', 'ERR_CUDNN_RNN_INVALID_ARGUMENT');
  }
  const out = powType === 'int32' ? intPow(x, e) : rawBinary('pow', BinaryOp.Pow, x, e, powType);
  if (needsGrad(x, e)) {
    record(out, 'PowBackward1', [x, e], ([g]) => tidy(() => {
      const gg = g as Tensor;
      let ga: Tensor | null = null, gb: Tensor | null = null;
      if (x.requiresGrad) {
        // e * x^(e-1), and exactly 0 where e == 0 (x^(e-1) may be inf there):
        // use exponent e-1+1 = 0 at those places, so the power is 1 and e*1 = 0.
        const em1 = rawBinary('pow', BinaryOp.Add, rawBinaryScalar(BinaryOp.Sub, e, 1, false, gg.dtype),
          rawBinaryScalar(BinaryOp.Eq, e, 0, false, gg.dtype), gg.dtype);
        const d = rawBinary('pow', BinaryOp.Mul, e, rawBinary('pow', BinaryOp.Pow, x, em1, gg.dtype), gg.dtype);
        ga = sumToShape(rawBinary('pow', BinaryOp.Mul, gg, d, gg.dtype), x.shape);
      }
      if (e.requiresGrad) {
        // x^e * log(x), taken as 0 where x == 0 and e >= 0 (PyTorch's pow_backward_exponent):
        // there log(x) is -inf, so evaluate log at 1 instead, which is exactly 0.
        const masked = rawBinary('pow', BinaryOp.Mul, rawBinaryScalar(BinaryOp.Eq, x, 0, false, gg.dtype),
          rawBinaryScalar(BinaryOp.Ge, e, 0, false, gg.dtype), gg.dtype);
        const safeBase = rawBinary('pow', BinaryOp.Add, x, masked, gg.dtype);
        const d = rawBinary('pow', BinaryOp.Mul, out, rawUnary(UnaryOp.Log, safeBase, gg.dtype), gg.dtype);
        gb = sumToShape(rawBinary('pow', BinaryOp.Mul, gg, d, gg.dtype), e.shape);
      }
      return [ga, gb];
    }), { saved: [x, e, out] });
  }
  return out;
}

/** Integer power, computed exactly in float64 and truncated back to int32. */
function intPow(x: Tensor, e: Tensor | number): Tensor {
  return tidy(() => {
    const r = typeof e === 'number' ? rawBinaryScalar(BinaryOp.Pow, x, e, false, 'float64') : rawBinary('pow', BinaryOp.Pow, x, e, 'float64');
    return castIfNeeded(r, 'int32');
  });
}

// ---------- maximum / minimum ----------

function extremum(where: string, name: string, op: number, a: Tensor, b: Tensor): Tensor {
  const x = liveTensor(where, 'input', a);
  const y = liveTensor(where, 'other', b);
  checkSameDevice(where, x, y);
  const out = rawBinary(where, op, x, y, resultType(x.dtype, x.ndim, y.dtype, y.ndim));
  if (needsGrad(x, y)) {
    const wins = op === BinaryOp.Maximum ? BinaryOp.Gt : BinaryOp.Lt;
    record(out, name, [x, y], ([g]) => tidy(() => {
      // Ties split the gradient evenly, like PyTorch.
      const gg = g as Tensor;
      const tie = rawBinaryScalar(BinaryOp.Mul, rawBinary(where, BinaryOp.Eq, x, y, gg.dtype), 0.5, false);
      const aw = rawBinary(where, BinaryOp.Add, rawBinary(where, wins, x, y, gg.dtype), tie, gg.dtype);
      const bw = rawBinary(where, BinaryOp.Add, rawBinary(where, wins, y, x, gg.dtype), tie, gg.dtype);
      return [sumToShape(rawBinary(where, BinaryOp.Mul, gg, aw, gg.dtype), x.shape),
        sumToShape(rawBinary(where, BinaryOp.Mul, gg, bw, gg.dtype), y.shape)];
    }), { saved: [x, y] });
  }
  return out;
}

export function maximum(a: Tensor, b: Tensor): Tensor {
  return extremum('maximum', 'MaximumBackward0', BinaryOp.Maximum, a, b);
}
export function minimum(a: Tensor, b: Tensor): Tensor {
  return extremum('minimum', 'MinimumBackward0', BinaryOp.Minimum, a, b);
}

// ---------- comparisons (no gradient; 1/0 in the promoted dtype) ----------

function compare(where: string, op: number, a: Tensor, other: Tensor | number): Tensor {
  const x = liveTensor(where, 'input', a);
  const y = checkOperand(where, 'other', other);
  if (typeof y === 'number') return rawBinaryScalar(op, x, y, false, promoteWithScalar(x.dtype, y));
  checkSameDevice(where, x, y);
  return rawBinary(where, op, x, y, resultType(x.dtype, x.ndim, y.dtype, y.ndim));
}
export const eq = (a: Tensor, b: Tensor | number): Tensor => compare('eq', BinaryOp.Eq, a, b);
export const ne = (a: Tensor, b: Tensor | number): Tensor => compare('ne', BinaryOp.Ne, a, b);
export const lt = (a: Tensor, b: Tensor | number): Tensor => compare('lt', BinaryOp.Lt, a, b);
export const le = (a: Tensor, b: Tensor | number): Tensor => compare('le', BinaryOp.Le, a, b);
export const gt = (a: Tensor, b: Tensor | number): Tensor => compare('gt', BinaryOp.Gt, a, b);
export const ge = (a: Tensor, b: Tensor | number): Tensor => compare('ge', BinaryOp.Ge, a, b);

// ---------- unary ----------

function floatOnly(t: Tensor): DType {
  // Like PyTorch, exp/log/tanh/... of an integer tensor compute in float32.
  return isFloatDType(t.dtype) ? t.dtype : 'float32';
}

export function neg<D extends DType>(a: Tensor<D>): Tensor<D> {
  const x = liveTensor('neg', 'input', a);
  const out = rawUnary(UnaryOp.Neg, x);
  if (needsGrad(x)) record(out, 'NegBackward0', [x], ([g]) => [rawUnary(UnaryOp.Neg, g as Tensor)]);
  return out as Tensor<D>;
}

/**
 * A unary op whose gradient needs only its output y: g -> gradOp(g, y)
 * (exp: g*y, tanh: g*(1-y^2), sigmoid: g*y*(1-y), relu: g*(y>0)).
 */
function unarySavingOutput(where: string, name: string, op: number, gradOp: number, a: Tensor, dtype: (x: Tensor) => DType): Tensor {
  const x = liveTensor(where, 'input', a);
  const out = rawUnary(op, x, dtype(x));
  if (needsGrad(x)) record(out, name, [x], ([g]) => [rawBinary(where, gradOp, g as Tensor, out, out.dtype)], { saved: [out] });
  return out;
}

const sameDType = (x: Tensor): DType => x.dtype;

export function exp(a: Tensor): Tensor {
  return unarySavingOutput('exp', 'ExpBackward0', UnaryOp.Exp, BinaryOp.Mul, a, floatOnly);
}

export function log(a: Tensor): Tensor {
  const x = liveTensor('log', 'input', a);
  const out = rawUnary(UnaryOp.Log, x, floatOnly(x));
  if (needsGrad(x)) record(out, 'LogBackward0', [x], ([g]) => [rawBinary('log', BinaryOp.Div, g as Tensor, x, out.dtype)], { saved: [x] });
  return out;
}

export function tanh(a: Tensor): Tensor {
  return unarySavingOutput('tanh', 'TanhBackward0', UnaryOp.Tanh, BinaryOp.TanhBackward, a, floatOnly);
}

export function sigmoid(a: Tensor): Tensor {
  return unarySavingOutput('sigmoid', 'SigmoidBackward0', UnaryOp.Sigmoid, BinaryOp.SigmoidBackward, a, floatOnly);
}

export function relu<D extends DType>(a: Tensor<D>): Tensor<D> {
  return unarySavingOutput('relu', 'ReluBackward0', UnaryOp.Relu, BinaryOp.ReluBackward, a, sameDType) as Tensor<D>;
}

export function abs<D extends DType>(a: Tensor<D>): Tensor<D> {
  const x = liveTensor('abs', 'input', a);
  const out = rawUnary(UnaryOp.Abs, x);
  if (needsGrad(x)) {
    record(out, 'AbsBackward0', [x], ([g]) => tidy(() => [rawBinary('abs', BinaryOp.Mul, g as Tensor, rawUnary(UnaryOp.Sign, x), x.dtype)]), { saved: [x] });
  }
  return out as Tensor<D>;
}

export function sqrt(a: Tensor): Tensor {
  const x = liveTensor('sqrt', 'input', a);
  const out = rawUnary(UnaryOp.Sqrt, x, floatOnly(x));
  if (needsGrad(x)) {
    record(out, 'SqrtBackward0', [x], ([g]) => tidy(() => [rawBinary('sqrt', BinaryOp.Div, g as Tensor, rawBinaryScalar(BinaryOp.Mul, out, 2, false), out.dtype)]), { saved: [out] });
  }
  return out;
}

export function square<D extends DType>(a: Tensor<D>): Tensor<D> {
  const x = liveTensor('square', 'input', a);
  const out = rawUnary(UnaryOp.Square, x);
  if (needsGrad(x)) {
    record(out, 'PowBackward0', [x], ([g]) => tidy(() => [rawBinary('square', BinaryOp.Mul, g as Tensor, rawBinaryScalar(BinaryOp.Mul, x, 2, false), x.dtype)]), { saved: [x] });
  }
  return out as Tensor<D>;
}

/** Clamps to [min, max]; gradient passes where min <= x <= max, like PyTorch. */
export function clamp<D extends DType>(a: Tensor<D>, min?: number | null, max?: number | null): Tensor<D> {
  const x = liveTensor('clamp', 'input', a);
  if (min !== undefined && min !== null && typeof min !== 'number') throw typeError('clamp', 'min', 'a number or null', min);
  if (max !== undefined && max !== null && typeof max !== 'number') throw typeError('clamp', 'max', 'a number or null', max);
  const lo = min ?? null, hi = max ?? null;
  if (lo === null && hi === null) throw new TypeError("clamp: At least one of 'min' or 'max' must not be None");
  const out = tidy(() => {
    let r: Tensor = x;
    if (lo !== null) r = rawBinaryScalar(BinaryOp.Maximum, r, lo, false, promoteWithScalar(r.dtype, lo));
    if (hi !== null) r = rawBinaryScalar(BinaryOp.Minimum, r, hi, false, promoteWithScalar(r.dtype, hi));
    return r === x ? rawUnary(UnaryOp.Neg, rawUnary(UnaryOp.Neg, x)) : r;
  });
  if (needsGrad(x)) {
    record(out, 'ClampBackward1', [x], ([g]) => tidy(() => {
      let mask: Tensor | null = null;
      if (lo !== null) mask = rawBinaryScalar(BinaryOp.Ge, x, lo, false);
      if (hi !== null) {
        const m = rawBinaryScalar(BinaryOp.Le, x, hi, false);
        mask = mask === null ? m : rawBinary('clamp', BinaryOp.Mul, mask, m, x.dtype);
      }
      return [rawBinary('clamp', BinaryOp.Mul, g as Tensor, mask as Tensor, (g as Tensor).dtype)];
    }), { saved: [x] });
  }
  return out as Tensor<D>;
}
