// torch.nn.functional: layers and losses as functions, with PyTorch's
// definitions, reductions and error messages. Everything except embedding is
// composed from the differentiable ops, so autograd comes for free; the
// target log-probabilities are gathered with indexSelect on a flat view
// (index = row * C + target) instead of a dedicated kernel.
import { tensor, zeros } from '../creation';
import { isFloatDType, torchDTypeName } from '../dtype';
import { checkBoolean, checkOptionKeys, describe, formatShape, typeError } from '../errors';
import { tidy } from '../memory';
import { native } from '../native';
import { add, div, mul, neg, square, sub } from '../ops/pointwise';
import { logSoftmax, mean, sum } from '../ops/reduce';
import { matmul } from '../ops/matmul';
import { cat, expand, indexSelect, permute, reshape, reshapeRaw, t as transpose2d, viewOf } from '../ops/shape';
import { checkSameDevice, emptyLike, needsGrad, record } from '../ops/util';
import { checkTensor, shapeNumel, Tensor } from '../tensor';

export { softmax, logSoftmax } from '../ops/reduce';

export type Reduction = 'mean' | 'sum' | 'none';

/**
 * Runs a composite op inside tidy(): its intermediates are freed when it returns,
 * except those passed to `hold` (operands that a recorded backward still reads),
 * which live on in the caller's tidy scope like any op result. Without a graph
 * nothing is held.
 */
function composite(fn: (hold: (...ts: Tensor[]) => void) => Tensor): Tensor {
  const held: Tensor[] = [];
  return tidy(() => {
    const out = fn((...ts) => { held.push(...ts); });
    return { out, held: out.requiresGrad ? held : [] };
  }).out;
}

function floatInput(where: string, arg: string, value: unknown): Tensor {
  const x = checkTensor(where, arg, value);
  if (!isFloatDType(x.dtype)) throw new TypeError(`${where}: expected ${arg} to be a floating point tensor, but got ${x.dtype}`);
  return x;
}

function options<T extends object>(where: string, value: unknown, known: readonly string[]): Partial<T> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw typeError(where, 'options', 'an object', value);
  checkOptionKeys(where, value, known);
  return value as Partial<T>;
}

function checkReduction(value: unknown): Reduction {
  if (value === 'mean' || value === 'sum' || value === 'none') return value;
  // PyTorch: ValueError("{} is not a valid value for reduction")
  throw new RangeError(`${typeof value === 'string' ? value : describe(value)} is not a valid value for reduction`);
}

// ---------------------------------------------------------------- layers

/** y = x W^T + b over the last dim of x (any leading dims), like F.linear. */
export function linear(input: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  const x = floatInput('linear', 'input', input);
  const w = floatInput('linear', 'weight', weight);
  const b = bias === undefined || bias === null ? null : floatInput('linear', 'bias', bias);
  checkSameDevice('linear', x, w);
  if (w.ndim !== 2) throw new RangeError(`linear: expected weight to be 2-D (out_features, in_features), but got shape ${formatShape(w.shape)}`);
  if (x.ndim === 0) throw new RangeError('linear: expected input to have at least 1 dimension, but got a 0-d tensor');
  const k = x.shape[x.ndim - 1];
  if (k !== w.shape[1]) {
    const rows = shapeNumel(x.shape.slice(0, -1));
    throw new RangeError(`mat1 and mat2 shapes cannot be multiplied (${rows}x${k} and ${w.shape[1]}x${w.shape[0]})`);
  }
  if (x.dtype !== w.dtype) {
    throw new TypeError(`linear: input dtype (${torchDTypeName(x.dtype)}) does not match weight dtype (${torchDTypeName(w.dtype)})`);
  }
  if (b !== null) {
    checkSameDevice('linear', x, b);
    if (b.ndim !== 1 || b.shape[0] !== w.shape[0]) {
      throw new RangeError(`linear: expected bias of shape [${w.shape[0]}], but got ${formatShape(b.shape)}`);
    }
    if (b.dtype !== w.dtype) throw new TypeError(`linear: bias dtype (${torchDTypeName(b.dtype)}) does not match weight dtype (${torchDTypeName(w.dtype)})`);
  }
  return composite((hold) => {
    const wt = transpose2d(w);
    hold(wt); // matmul saves its operands for backward
    const y = matmul(x, wt);
    return b === null ? y : add(y, b);
  });
}

function checkDropoutP(p: unknown): number {
  if (typeof p !== 'number' || Number.isNaN(p) || p < 0 || p > 1) {
    throw new RangeError(`dropout probability has to be between 0 and 1, but got ${typeof p === 'number' ? p : describe(p)}`);
  }
  return p;
}

/**
 * Zeroes each element with probability p and scales the rest by 1/(1-p)
 * in training; the identity (the input itself) when p == 0 or not training.
 * The keep decisions come from the global generator like torch's CPU bernoulli_.
 */
export function dropout(input: Tensor, p = 0.5, training = true): Tensor {
  const x = checkTensor('dropout', 'input', input);
  checkDropoutP(p);
  checkBoolean('dropout', 'training', training);
  if (!isFloatDType(x.dtype)) throw new TypeError(`dropout: expected a floating point tensor, but got ${x.dtype}`);
  if (p === 0 || !training || x.numel === 0) return x;
  if (p === 1) return mul(x, 0); // PyTorch: input * zeros({}) (keeps NaN * 0 = NaN)
  return composite((hold) => {
    const mask = emptyLike(x);
    native.bernoulliScaledFill(...mask._view(), 1 - p, 1 / (1 - p));
    hold(mask); // the backward of mul multiplies the gradient by the saved mask
    return mul(x, mask);
  });
}

/**
 * Rows of `weight` picked by the int32 `input` (any shape) -> (..., embeddingDim).
 * The gradient of row `paddingIdx` (negative: counted from the end) stays zero, like
 * torch.nn.functional.embedding.
 */
export function embedding(input: Tensor, weight: Tensor, paddingIdx: number | null = null): Tensor {
  const idx = checkTensor('embedding', 'input', input);
  const w = floatInput('embedding', 'weight', weight);
  if (idx.dtype !== 'int32') throw new TypeError(`embedding: expected input to be an int32 tensor of indices, but got ${idx.dtype}`);
  if (w.ndim !== 2) throw new RangeError(`embedding: expected weight to be 2-D (num_embeddings, embedding_dim), but got shape ${formatShape(w.shape)}`);
  checkSameDevice('embedding', idx, w);
  const [rows, dim] = w.shape;
  const pad = normalizePaddingIdx('embedding', paddingIdx, rows);
  const ids = idx.dataSync();
  for (let i = 0; i < ids.length; ++i) {
    if (ids[i] < 0 || ids[i] >= rows) {
      const at = idx.ndim === 0 ? '' : ` at position [${unravel(i, idx.shape).join(', ')}]`;
      throw new RangeError(`embedding: index ${ids[i]}${at} is out of range for an embedding of ${rows} rows (expected 0 <= index < ${rows})`);
    }
  }
  const outShape = [...idx.shape, dim];
  const out = tidy(() => {
    const flatIdx = tensor(ids, { dtype: 'int32', device: idx.device });
    const picked = indexSelect(w.detach(), 0, flatIdx);
    return reshapeRaw(picked, outShape);
  });
  if (needsGrad(w)) {
    // The ids are captured on the host, so backward needs no saved tensor.
    record(out, 'EmbeddingBackward0', [w], ([g]) => tidy(() => {
      const gRows = reshapeRaw(g as Tensor, [ids.length, dim]).contiguous();
      const table = emptyLike(g as Tensor, [rows, dim]);
      const flatIdx = tensor(ids, { dtype: 'int32', device: idx.device });
      native.indexAddRows(...gRows._view(), ...flatIdx._view(), ...table._view());
      if (pad !== null) {
        const row = viewOf(table, [dim], [1], pad * dim);
        native.fill(...row._view(), 0);
      }
      return [table];
    }));
  }
  return out;
}

/** @internal PyTorch's padding_idx rule: null, or in [-rows, rows) with negatives counted from the end. */
export function normalizePaddingIdx(where: string, value: unknown, rows: number): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw typeError(where, 'paddingIdx', 'an integer or null', value);
  if (value >= rows || value < -rows) {
    throw new RangeError(`Padding_idx must be within num_embeddings (got paddingIdx ${value} for ${rows} embeddings)`);
  }
  return value < 0 ? rows + value : value;
}

function unravel(flat: number, shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; --d) {
    out[d] = flat % shape[d];
    flat = Math.floor(flat / shape[d]);
  }
  return out;
}

// ---------------------------------------------------------------- losses

export interface MSELossOptions {
  reduction?: Reduction;
}

/** Mean squared error (torch.nn.functional.mse_loss); broadcasts like PyTorch, with its warning. */
export function mseLoss(input: Tensor, target: Tensor, opts?: MSELossOptions): Tensor {
  const x = floatInput('mseLoss', 'input', input);
  const y = floatInput('mseLoss', 'target', target);
  checkSameDevice('mseLoss', x, y);
  const reduction = checkReduction(options<MSELossOptions>('mseLoss', opts, ['reduction']).reduction ?? 'mean');
  if (x.shape.length !== y.shape.length || x.shape.some((s, i) => s !== y.shape[i])) {
    process.emitWarning(
      `Using a target size (torch.Size(${formatShape(y.shape)})) that is different to the input size (torch.Size(${formatShape(x.shape)})). This will likely lead to incorrect results due to broadcasting. Please ensure they have the same size.`,
      { type: 'UserWarning', code: 'CUDNN_RNN_MSE_BROADCAST' });
  }
  return composite((hold) => {
    const d = sub(x, y);
    hold(d); // square saves its input
    const sq = square(d);
    return reduction === 'none' ? sq : reduction === 'sum' ? sum(sq) : mean(sq);
  });
}

export interface NLLLossOptions {
  /** A rescaling weight per class, shape (C,). No gradient flows into it. */
  weight?: Tensor | null;
  ignoreIndex?: number;
  reduction?: Reduction;
}

export interface CrossEntropyOptions extends NLLLossOptions {
  labelSmoothing?: number;
}

/** Class-index targets brought to rows: (M, C) scores and M targets. */
interface ClassRows {
  rows: Tensor;
  /** The per-element loss shape (reduction 'none'): [] unbatched, [N] or [N, d1, ...]. */
  outShape: number[];
  classes: number;
  targets: Int32Array;
  /** Indices of the rows whose target is not ignoreIndex, ascending. */
  kept: number[];
  /** weight[target] of each kept row (JS doubles), or null without weight. */
  keptWeights: Float64Array | null;
  /** The weight as a detached (C,) tensor of the input's dtype, or null. */
  weight: Tensor | null;
}

function checkClassWeight(where: string, w: unknown, x: Tensor, classes: number, prefix = ''): Tensor | null {
  if (w === undefined || w === null) return null;
  const weight = floatInput(where, 'options.weight', w);
  checkSameDevice(where, x, weight);
  if (weight.ndim !== 1 || weight.shape[0] !== classes) {
    throw new RangeError(`${prefix}weight tensor should be defined either for all ${classes} classes or no classes but got weight tensor of shape: ${formatShape(weight.shape)}`);
  }
  return weight;
}

/**
 * nll_loss_nd's checks (same order and messages as PyTorch 1.13) and the
 * (N, C, d1, ...) -> (N*d1*..., C) layout. Call inside a composite().
 */
function classRows(where: string, x: Tensor, target: Tensor, weightArg: unknown, ignoreIndex: number): ClassRows {
  if (target.dtype !== 'int32') {
    throw new TypeError(`${where}: expected target to be an int32 tensor of class indices, but got ${target.dtype}`);
  }
  checkSameDevice(where, x, target);
  if (x.ndim < 1) throw new RangeError(`Expected 1 or more dimensions (got ${x.ndim})`);
  if (x.ndim !== 1 && (target.ndim === 0 || target.shape[0] !== x.shape[0])) {
    // PyTorch reports a 0-d target's batch size as 0; we say why as well.
    const zeroD = target.ndim === 0 ? ' (target is 0-d; a batched input needs a target with a batch dimension)' : '';
    throw new RangeError(`Expected input batch_size (${x.shape[0]}) to match target batch_size (${target.ndim === 0 ? 0 : target.shape[0]}).${zeroD}`);
  }
  const classes = x.ndim === 1 ? x.shape[0] : x.shape[1];
  if (x.ndim <= 2 && target.ndim > 1) throw new RangeError('0D or 1D target tensor expected, multi-target not supported');
  if (x.ndim === 1 && target.ndim !== 0) {
    throw new RangeError(`size mismatch (got input: ${formatShape(x.shape)}, target: ${formatShape(target.shape)}): an unbatched (C,) input needs a 0-d target`);
  }
  if (x.ndim === 4) {
    if (target.ndim !== 3) throw new RangeError(`only batches of spatial targets supported (3D tensors) but got targets of dimension: ${target.ndim}`);
    if (target.shape[1] !== x.shape[2] || target.shape[2] !== x.shape[3]) {
      throw new RangeError(`size mismatch (got input: ${formatShape(x.shape)} , target: ${formatShape(target.shape)})`);
    }
  } else if (x.ndim > 2) {
    const expected = [x.shape[0], ...x.shape.slice(2)];
    if (target.ndim !== expected.length || target.shape.some((s, i) => s !== expected[i])) {
      throw new RangeError(`Expected target size ${formatShape(expected)}, got ${formatShape(target.shape)}`);
    }
  }
  const weight = checkClassWeight(where, weightArg, x, classes);
  const targets = (target as Tensor<'int32'>).dataSync();
  const kept: number[] = [];
  for (let i = 0; i < targets.length; ++i) {
    const t = targets[i];
    if (t === ignoreIndex) continue;
    if (t < 0 || t >= classes) throw new RangeError(`Target ${t} is out of bounds.`);
    kept.push(i);
  }
  let rows: Tensor;
  let outShape: number[];
  if (x.ndim === 1) {
    rows = reshape(x, [1, classes]);
    outShape = [];
  } else if (x.ndim === 2) {
    rows = x;
    outShape = [x.shape[0]];
  } else {
    // Classes last, then one row per (n, d1, ..., dk): the reshape copies.
    const order = [0, ...x.shape.map((_, i) => i).slice(2), 1];
    rows = reshape(permute(x, order), [targets.length, classes]);
    outShape = [x.shape[0], ...x.shape.slice(2)];
  }
  let keptWeights: Float64Array | null = null;
  let w: Tensor | null = null;
  if (weight !== null) {
    const wv = weight.dataSync();
    keptWeights = Float64Array.from(kept, (i) => wv[targets[i]]);
    w = weight.detach().to(x.dtype);
  }
  return { rows, outShape, classes, targets, kept, keptWeights, weight: w };
}

function int32On(values: ArrayLike<number>, like: Tensor): Tensor<'int32'> {
  return tensor(Int32Array.from(values), { dtype: 'int32', device: like.device });
}

/** The kept rows' values (K,) spread back over all M rows with 0 at ignored ones, in outShape. */
function spreadToRows(values: Tensor, c: ClassRows, hold: (...ts: Tensor[]) => void): Tensor {
  const m = c.targets.length;
  let all = values;
  if (c.kept.length === 0) {
    // Every row ignored: zeros that still belong to the graph (cat would drop the empty values).
    all = expand(reshape(sum(values), [1]), [m]);
  } else if (c.kept.length !== m) {
    const padded = cat([values, zeros([1], { dtype: values.dtype, device: values.device })]);
    const position = new Int32Array(m).fill(c.kept.length);
    c.kept.forEach((row, k) => { position[row] = k; });
    const map = int32On(position, values);
    hold(map); // indexSelect saves its index
    all = indexSelect(padded, 0, map);
  }
  return reshape(all, c.outShape);
}

/** Sum of weight[target] over the kept rows (the count without weights): the 'mean' divisor. */
function totalWeight(c: ClassRows): number {
  if (c.keptWeights === null) return c.kept.length;
  let s = 0;
  for (const v of c.keptWeights) s += v;
  return s;
}

/** -weight[t_i] * x[i, t_i] per kept row, reduced like nll_loss. */
function nllFromRows(c: ClassRows, reduction: Reduction, hold: (...ts: Tensor[]) => void): Tensor {
  const { rows, classes, targets, kept } = c;
  const flat = reshape(rows, [rows.numel]);
  const index = int32On(kept.map((i) => i * classes + targets[i]), rows);
  hold(index);
  let losses = neg(indexSelect(flat, 0, index));
  if (c.weight !== null) {
    const wk = indexSelect(c.weight, 0, int32On(kept.map((i) => targets[i]), rows));
    hold(losses, wk); // mul saves both operands
    losses = mul(losses, wk);
  }
  if (reduction === 'none') return spreadToRows(losses, c, hold);
  const total = sum(losses);
  // 0/0 = NaN when every target is ignored or weighs 0, as in PyTorch.
  return reduction === 'sum' ? total : div(total, totalWeight(c));
}

/**
 * Negative log likelihood of class-index targets (torch.nn.functional.nll_loss).
 * input: log-probabilities (C), (N, C) or (N, C, d1, ...); target: int32 (), (N)
 * or (N, d1, ...). 'mean' divides by the summed weight of the non-ignored targets.
 */
export function nllLoss(input: Tensor, target: Tensor, opts?: NLLLossOptions): Tensor {
  const x = floatInput('nllLoss', 'input', input);
  const t = checkTensor('nllLoss', 'target', target);
  const o = options<NLLLossOptions>('nllLoss', opts, ['weight', 'ignoreIndex', 'reduction']);
  const reduction = checkReduction(o.reduction ?? 'mean');
  const ignoreIndex = checkIgnoreIndex('nllLoss', o.ignoreIndex);
  return composite((hold) => nllFromRows(classRows('nllLoss', x, t, o.weight, ignoreIndex), reduction, hold));
}

function checkIgnoreIndex(where: string, value: unknown): number {
  if (value === undefined) return -100;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw typeError(where, 'options.ignoreIndex', 'an integer', value);
  return value;
}

/**
 * Cross entropy of logits (torch.nn.functional.cross_entropy, PyTorch 1.13):
 * class-index targets (int32) as nll_loss(log_softmax(input)), optionally with
 * label smoothing, or class-probability targets (a float target of the input's shape).
 */
export function crossEntropy(input: Tensor, target: Tensor, opts?: CrossEntropyOptions): Tensor {
  const x = floatInput('crossEntropy', 'input', input);
  const t = checkTensor('crossEntropy', 'target', target);
  const o = options<CrossEntropyOptions>('crossEntropy', opts, ['weight', 'ignoreIndex', 'reduction', 'labelSmoothing']);
  const reduction = checkReduction(o.reduction ?? 'mean');
  const ignoreIndex = checkIgnoreIndex('crossEntropy', o.ignoreIndex);
  const eps = o.labelSmoothing ?? 0;
  if (typeof eps !== 'number' || Number.isNaN(eps)) throw typeError('crossEntropy', 'options.labelSmoothing', 'a number in [0, 1]', eps);
  // PyTorch silently ignores a negative value; we refuse it with PyTorch's range message.
  if (eps < 0 || eps > 1) throw new RangeError(`label_smoothing must be between 0.0 and 1.0. Got: ${eps}`);
  if (x.ndim < 1) throw new RangeError(`Expected 1 or more dimensions (got ${x.ndim})`);
  const classDim = x.ndim === 1 ? 0 : 1;
  const sameShape = x.ndim === t.ndim && x.shape.every((s, i) => s === t.shape[i]);
  if (sameShape) return probabilityTargets(x, t, o.weight, ignoreIndex, reduction, eps, classDim);
  return composite((hold) => {
    const logp = logSoftmax(x, classDim);
    hold(logp); // log_softmax's backward reads its output
    const c = classRows('crossEntropy', logp, t, o.weight, ignoreIndex);
    const nll = nllFromRows(c, reduction, hold);
    if (eps === 0) return nll;
    // smooth_i = -sum_c w_c logp_ic, zero at ignored rows, reduced like the nll term.
    let terms = c.rows;
    if (c.weight !== null) {
      hold(c.rows, c.weight);
      terms = mul(c.rows, c.weight);
    }
    const perRow = neg(sum(terms, 1));
    let kept = perRow;
    if (c.kept.length !== c.targets.length) {
      const keep = int32On(c.kept, perRow);
      hold(keep);
      kept = indexSelect(perRow, 0, keep);
    }
    const smooth = reduction === 'none' ? spreadToRows(kept, c, hold)
      : reduction === 'sum' ? sum(kept) : div(sum(kept), totalWeight(c));
    // (1 - eps) * nll + smooth * (eps / C), in PyTorch's order of operations.
    return add(mul(nll, 1 - eps), mul(smooth, eps / c.classes));
  });
}

function probabilityTargets(x: Tensor, t: Tensor, weightArg: unknown, ignoreIndex: number, reduction: Reduction, eps: number, classDim: number): Tensor {
  if (!isFloatDType(t.dtype)) {
    throw new TypeError(`Expected floating point type for target with class probabilities, got ${t.dtype}`);
  }
  checkSameDevice('crossEntropy', x, t);
  if (ignoreIndex >= 0) throw new RangeError('ignore_index is not supported for floating point target');
  const classes = x.shape[classDim];
  const weight = checkClassWeight('crossEntropy', weightArg, x, classes, 'cross_entropy: ');
  return composite((hold) => {
    const logp = logSoftmax(x, classDim);
    const smoothed = eps > 0 ? add(mul(t, 1 - eps), eps / classes) : t;
    hold(logp, smoothed);
    let prod = mul(logp, smoothed);
    if (weight !== null) {
      const shape = x.shape.map((_, i) => (i === classDim ? classes : 1));
      const w = reshape(weight.detach().to(x.dtype), shape);
      hold(prod, w);
      prod = mul(prod, w);
    }
    if (reduction === 'none') return neg(sum(prod, classDim));
    const total = neg(sum(prod));
    if (reduction === 'sum') return total;
    // Divided by the number of samples N*d1*...; an empty input gives NaN.
    return div(total, x.numel === 0 ? NaN : x.numel / classes);
  });
}
