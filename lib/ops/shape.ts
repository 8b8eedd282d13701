// Views and shape ops. Views share storage (reference-counted); ops that
// cannot be views copy. Every op records its backward.
import { CodedError, checkInteger, formatShape, normalizeDim, typeError, MAX_DIMS } from '../errors';
import { tidy } from '../memory';
import { native } from '../native';
import { contiguousStrides, shapeNumel, Tensor } from '../tensor';
import { promoteTypes } from '../dtype';
import { broadcastView, checkSameDevice, emptyLike, liveTensor, needsGrad, outputLike, record, sameShape, sumToShape } from './util';

/** A new view of t's storage (no autograd). */
export function viewOf<T extends Tensor>(t: T, shape: readonly number[], strides: readonly number[], offset = t.offset): T {
  return new Tensor(t._storage, shape, strides, offset, t.dtype) as T;
}

/** PyTorch's computeStride: strides for viewing (shape, strides) as newShape, or null. */
function viewStrides(shape: readonly number[], strides: readonly number[], newShape: readonly number[]): number[] | null {
  if (shape.length === 0) return newShape.map(() => 1);
  const numel = shapeNumel(shape);
  if (numel === 0) return sameShape(shape, newShape) ? strides.slice() : contiguousStrides(newShape);
  const out = new Array<number>(newShape.length);
  let viewD = newShape.length - 1;
  let chunkBase = strides[strides.length - 1];
  let tensorNumel = 1;
  let viewNumel = 1;
  for (let d = shape.length - 1; d >= 0; --d) {
    tensorNumel *= shape[d];
    if (d === 0 || (shape[d - 1] !== 1 && strides[d - 1] !== tensorNumel * chunkBase)) {
      while (viewD >= 0 && (viewNumel < tensorNumel || newShape[viewD] === 1)) {
        out[viewD] = viewNumel * chunkBase;
        viewNumel *= newShape[viewD];
        viewD -= 1;
      }
      if (viewNumel !== tensorNumel) return null;
      if (d > 0) {
        chunkBase = strides[d - 1];
        tensorNumel = 1;
        viewNumel = 1;
      }
    }
  }
  return viewD === -1 ? out : null;
}

/** Resolves one -1 and checks the element count, with PyTorch's messages. */
export function inferShape(where: string, shape: unknown, numel: number): number[] {
  if (!Array.isArray(shape)) throw typeError(where, 'shape', 'an array of integers', shape);
  if (shape.length > MAX_DIMS) throw new RangeError(`${where}: at most ${MAX_DIMS} dimensions are supported, got ${shape.length}`);
  let infer = -1;
  let known = 1;
  shape.forEach((s, i) => {
    if (typeof s !== 'number' || !Number.isInteger(s)) throw typeError(where, `shape[${i}]`, 'an integer', s);
    if (s === -1) {
      if (infer >= 0) throw new RangeError(`${where}: only one dimension can be inferred`);
      infer = i;
    } else if (s < 0) {
      throw new RangeError(`${where}: invalid shape dimension ${s}`);
    } else {
      known *= s;
    }
  });
  const out = shape.slice() as number[];
  if (infer >= 0) {
    if (known === 0 || numel % known !== 0) {
      throw new RangeError(`${where}: shape '${formatShape(shape as number[])}' is invalid for input of size ${numel}`);
    }
    out[infer] = numel / known;
  } else if (known !== numel) {
    throw new RangeError(`${where}: shape '${formatShape(shape as number[])}' is invalid for input of size ${numel}`);
  }
  return out;
}

/** A contiguous copy (no autograd); returns t itself when already contiguous. */
export function contiguousRaw<T extends Tensor>(t: T): T {
  if (t.isContiguous) return t;
  const out = outputLike(t) as T;
  native.copy(...t._view(), ...out._view());
  return out;
}

/** Reshape without autograd: a view when possible, else a copy. May return t. */
export function reshapeRaw<T extends Tensor>(t: T, shape: readonly number[]): T {
  if (sameShape(t.shape, shape)) return t;
  const strides = viewStrides(t.shape, t.strides, shape);
  if (strides !== null) return viewOf(t, shape, strides);
  const c = contiguousRaw(t);
  const v = viewOf(c, shape, contiguousStrides(shape));
  c.dispose();
  return v;
}

function recordReshape(out: Tensor, name: string, x: Tensor): void {
  if (needsGrad(x)) {
    const shape = x.shape;
    record(out, name, [x], ([g]) => [reshapeRaw(g as Tensor, shape)]);
  }
}

export function contiguous<T extends Tensor>(a: T): T {
  const x = liveTensor('contiguous', 'input', a) as T;
  if (x.isContiguous) return x;
  const out = contiguousRaw(x);
  if (needsGrad(x)) record(out, 'CloneBackward0', [x], ([g]) => [g]);
  return out;
}

export function reshape<T extends Tensor>(a: T, shape: number[]): T {
  const x = liveTensor('reshape', 'input', a) as T;
  const target = inferShape('reshape', shape, x.numel);
  const viewable = viewStrides(x.shape, x.strides, target) !== null;
  const out = viewable ? viewOf(x, target, viewStrides(x.shape, x.strides, target) as number[]) : reshapeRaw(x, target);
  recordReshape(out, viewable ? 'ReshapeAliasBackward0' : 'UnsafeViewBackward0', x);
  return out;
}

export function view<T extends Tensor>(a: T, shape: number[]): T {
  const x = liveTensor('view', 'input', a) as T;
  const target = inferShape('view', shape, x.numel);
  const strides = viewStrides(x.shape, x.strides, target);
  if (strides === null) {
    throw new CodedError("view: view size is not compatible with input tensor's size and stride (at least one dimension spans across two contiguous subspaces). Use .reshape(...) instead.", 'ERR_CUDNN_RNN_NOT_VIEWABLE');
  }
  const out = viewOf(x, target, strides);
  recordReshape(out, 'ViewBackward0', x);
  return out;
}

export function flatten<T extends Tensor>(a: T, startDim = 0, endDim = -1): T {
  const x = liveTensor('flatten', 'input', a) as T;
  if (x.ndim === 0) return reshape(x, [1]);
  const s = normalizeDim('flatten', startDim, x.ndim, 'startDim');
  const e = normalizeDim('flatten', endDim, x.ndim, 'endDim');
  if (s > e) throw new RangeError('flatten: flatten() has invalid args: start_dim cannot come after end_dim');
  const merged = x.shape.slice(s, e + 1).reduce((p, q) => p * q, 1);
  return reshape(x, [...x.shape.slice(0, s), merged, ...x.shape.slice(e + 1)]);
}

export function permute<T extends Tensor>(a: T, dims: number[]): T {
  const x = liveTensor('permute', 'input', a) as T;
  if (!Array.isArray(dims)) throw typeError('permute', 'dims', 'an array of integers', dims);
  if (dims.length !== x.ndim) {
    throw new RangeError(`permute: number of dims don't match in permute (input has ${x.ndim} dims, dims has ${dims.length})`);
  }
  const norm = dims.map((d) => normalizeDim('permute', d, x.ndim));
  if (new Set(norm).size !== norm.length) throw new RangeError('permute: repeated dim in permute');
  const out = viewOf(x, norm.map((d) => x.shape[d]), norm.map((d) => x.strides[d]));
  if (needsGrad(x)) {
    const inverse = new Array<number>(norm.length);
    norm.forEach((d, i) => { inverse[d] = i; });
    record(out, 'PermuteBackward0', [x], ([g]) => [permuteRaw(g as Tensor, inverse)]);
  }
  return out;
}

function permuteRaw(t: Tensor, dims: number[]): Tensor {
  return viewOf(t, dims.map((d) => t.shape[d]), dims.map((d) => t.strides[d]));
}

export function transpose<T extends Tensor>(a: T, dim0: number, dim1: number): T {
  const x = liveTensor('transpose', 'input', a) as T;
  if (x.ndim === 0) return reshape(x, []);
  const d0 = normalizeDim('transpose', dim0, x.ndim, 'dim0');
  const d1 = normalizeDim('transpose', dim1, x.ndim, 'dim1');
  const order = x.shape.map((_, i) => i);
  order[d0] = d1;
  order[d1] = d0;
  const out = permuteRaw(x, order) as T;
  if (needsGrad(x)) record(out, 'TransposeBackward0', [x], ([g]) => [permuteRaw(g as Tensor, order)]);
  return out;
}

export function t<T extends Tensor>(a: T): T {
  const x = liveTensor('t', 'input', a) as T;
  if (x.ndim > 2) throw new RangeError(`t: t() expects a tensor with <= 2 dimensions, but self is ${x.ndim}D`);
  if (x.ndim < 2) return reshape(x, x.shape.slice());
  const out = permuteRaw(x, [1, 0]) as T;
  if (needsGrad(x)) record(out, 'TBackward0', [x], ([g]) => [permuteRaw(g as Tensor, [1, 0])]);
  return out;
}

/** Gradient of a view into x: zeros of x's shape with g written through `place`. */
function scatterIntoZeros(g: Tensor, shape: readonly number[], place: (z: Tensor) => Tensor): Tensor {
  const z = emptyLike(g, shape);
  const region = place(z);
  native.copy(...g._view(), ...region._view());
  region.dispose();
  return z;
}

function selectRaw(t: Tensor, d: number, index: number): Tensor {
  return viewOf(t, t.shape.filter((_, i) => i !== d), t.strides.filter((_, i) => i !== d), t.offset + index * t.strides[d]);
}

export function select<T extends Tensor>(a: T, dim: number, index: number): T {
  const x = liveTensor('select', 'input', a) as T;
  if (x.ndim === 0) throw new RangeError('select: select() cannot be applied to a 0-dim tensor.');
  const d = normalizeDim('select', dim, x.ndim);
  checkInteger('select', 'index', index);
  const size = x.shape[d];
  if (index < -size || index >= size) {
    throw new RangeError(`select: index ${index} out of range for tensor of size ${formatShape(x.shape)} at dimension ${d}`);
  }
  const i = index < 0 ? index + size : index;
  const out = selectRaw(x, d, i) as T;
  if (needsGrad(x)) {
    const shape = x.shape;
    record(out, 'SelectBackward0', [x], ([g]) => [scatterIntoZeros(g as Tensor, shape, (z) => selectRaw(z, d, i))]);
  }
  return out;
}

function narrowRaw(t: Tensor, d: number, start: number, length: number): Tensor {
  const shape = t.shape.slice();
  shape[d] = length;
  return viewOf(t, shape, t.strides, t.offset + start * t.strides[d]);
}

export function narrow<T extends Tensor>(a: T, dim: number, start: number, length: number): T {
  const x = liveTensor('narrow', 'input', a) as T;
  if (x.ndim === 0) throw new RangeError('narrow: narrow() cannot be applied to a 0-dim tensor.');
  const d = normalizeDim('narrow', dim, x.ndim);
  checkInteger('narrow', 'start', start);
  checkInteger('narrow', 'length', length);
  const size = x.shape[d];
  if (start < -size || start > size) {
    throw new RangeError(`narrow: start (${start}) out of range (expected to be in range of [${-size}, ${size}])`);
  }
  const s = start < 0 ? start + size : start;
  if (length < 0 || s + length > size) {
    throw new RangeError(`narrow: start (${s}) + length (${length}) exceeds dimension size (${size}).`);
  }
  const out = narrowRaw(x, d, s, length) as T;
  if (needsGrad(x)) {
    const shape = x.shape;
    record(out, 'SliceBackward0', [x], ([g]) => [scatterIntoZeros(g as Tensor, shape, (z) => narrowRaw(z, d, s, length))]);
  }
  return out;
}

export function squeeze<T extends Tensor>(a: T, dim?: number): T {
  const x = liveTensor('squeeze', 'input', a) as T;
  let keep: number[];
  if (dim === undefined) {
    keep = x.shape.map((_, i) => i).filter((i) => x.shape[i] !== 1);
  } else {
    const d = normalizeDim('squeeze', dim, x.ndim);
    keep = x.shape.map((_, i) => i).filter((i) => i !== d || x.ndim === 0 || x.shape[i] !== 1);
  }
  const out = viewOf(x, keep.map((i) => x.shape[i]), keep.map((i) => x.strides[i]));
  if (needsGrad(x)) {
    const shape = x.shape;
    record(out, dim === undefined ? 'SqueezeBackward0' : 'SqueezeBackward1', [x], ([g]) => [reshapeRaw(g as Tensor, shape)]);
  }
  return out;
}

export function unsqueeze<T extends Tensor>(a: T, dim: number): T {
  const x = liveTensor('unsqueeze', 'input', a) as T;
  const d = normalizeDim('unsqueeze', dim, x.ndim + 1);
  const shape = x.shape.slice();
  const strides = x.strides.slice();
  shape.splice(d, 0, 1);
  strides.splice(d, 0, d < x.ndim ? x.strides[d] * x.shape[d] : 1);
  const out = viewOf(x, shape, strides);
  if (needsGrad(x)) {
    const inShape = x.shape;
    record(out, 'UnsqueezeBackward0', [x], ([g]) => [reshapeRaw(g as Tensor, inShape)]);
  }
  return out;
}

export function expand<T extends Tensor>(a: T, shape: number[]): T {
  const x = liveTensor('expand', 'input', a) as T;
  if (!Array.isArray(shape)) throw typeError('expand', 'shape', 'an array of integers', shape);
  if (shape.length < x.ndim) {
    throw new RangeError(`expand: the number of sizes provided (${shape.length}) must be greater or equal to the number of dimensions in the tensor (${x.ndim})`);
  }
  const lead = shape.length - x.ndim;
  const target = shape.map((s, i) => {
    checkInteger('expand', `shape[${i}]`, s, -1);
    const own = i >= lead ? x.shape[i - lead] : 1;
    const want = s === -1 ? own : s;
    if (s === -1 && i < lead) throw new RangeError(`expand: The expanded size of the tensor (-1) isn't allowed in a leading, non-existing dimension ${i}`);
    if (own !== want && own !== 1) {
      throw new RangeError(`expand: The expanded size of the tensor (${want}) must match the existing size (${own}) at non-singleton dimension ${i}.  Target sizes: ${formatShape(shape)}.  Tensor sizes: ${formatShape(x.shape)}`);
    }
    return want;
  });
  const v = broadcastView(x, target);
  const out = viewOf(x, target, v[4]);
  if (needsGrad(x)) {
    const inShape = x.shape;
    record(out, 'ExpandBackward0', [x], ([g]) => [sumToShape(g as Tensor, inShape)]);
  }
  return out;
}

function checkTensorList(where: string, tensors: unknown): Tensor[] {
  if (!Array.isArray(tensors)) throw typeError(where, 'tensors', 'an array of Tensors', tensors);
  if (tensors.length === 0) throw new RangeError(`${where}: expected a non-empty list of Tensors`);
  return tensors.map((t, i) => liveTensor(where, `tensors[${i}]`, t));
}

export function cat(tensors: Tensor[], dim = 0): Tensor {
  const list = checkTensorList('cat', tensors);
  // PyTorch skips 1-D empty tensors in cat (legacy behaviour).
  const parts = list.filter((t) => !(t.ndim === 1 && t.shape[0] === 0));
  const first = parts[0] ?? list[0];
  if (first.ndim === 0) throw new RangeError('cat: zero-dimensional tensor (at position 0) cannot be concatenated');
  const d = normalizeDim('cat', dim, first.ndim);
  let dtype = first.dtype;
  parts.forEach((t, i) => {
    checkSameDevice('cat', first, t);
    if (t.ndim !== first.ndim) {
      throw new RangeError(`cat: Tensors must have same number of dimensions: got ${first.ndim} and ${t.ndim}`);
    }
    for (let k = 0; k < t.ndim; ++k) {
      if (k !== d && t.shape[k] !== first.shape[k]) {
        throw new RangeError(`cat: Sizes of tensors must match except in dimension ${d}. Expected size ${first.shape[k]} but got size ${t.shape[k]} for tensor number ${i} in the list (shapes ${formatShape(first.shape)} and ${formatShape(t.shape)}).`);
      }
    }
    dtype = promoteTypes(dtype, t.dtype);
  });
  const shape = first.shape.slice();
  shape[d] = parts.reduce((n, t) => n + t.shape[d], 0);
  const out = outputLike(first, shape, dtype);  // the parts cover every element
  let at = 0;
  const offsets: number[] = [];
  for (const t of parts) {
    offsets.push(at);
    const region = narrowRaw(out, d, at, t.shape[d]);
    native.copy(...t._view(), ...region._view());
    region.dispose();
    at += t.shape[d];
  }
  if (needsGrad(...list)) {
    record(out, 'CatBackward0', list, ([g]) => list.map((t) => {
      if (!t.requiresGrad) return null;
      const at = parts.indexOf(t);
      // Skipped legacy empty 1-D inputs get an empty gradient, like PyTorch.
      return at < 0 ? emptyLike(g as Tensor, t.shape) : narrowRaw(g as Tensor, d, offsets[at], t.shape[d]);
    }));
  }
  return out;
}

export function stack(tensors: Tensor[], dim = 0): Tensor {
  const list = checkTensorList('stack', tensors);
  const first = list[0];
  let dtype = first.dtype;
  list.forEach((t, i) => {
    checkSameDevice('stack', first, t);
    if (!sameShape(t.shape, first.shape)) {
      throw new RangeError(`stack: stack expects each tensor to be equal size, but got ${formatShape(first.shape)} at entry 0 and ${formatShape(t.shape)} at entry ${i}`);
    }
    dtype = promoteTypes(dtype, t.dtype);
  });
  const d = normalizeDim('stack', dim, first.ndim + 1);
  const shape = first.shape.slice();
  shape.splice(d, 0, list.length);
  const out = outputLike(first, shape, dtype);  // the parts cover every element
  list.forEach((t, i) => {
    const region = selectRaw(out, d, i);
    native.copy(...t._view(), ...region._view());
    region.dispose();
  });
  if (needsGrad(...list)) {
    record(out, 'StackBackward0', list, ([g]) => list.map((t, i) => (t.requiresGrad ? selectRaw(g as Tensor, d, i) : null)));
  }
  return out;
}

export function chunk<T extends Tensor>(a: T, chunks: number, dim = 0): T[] {
  const x = liveTensor('chunk', 'input', a) as T;
  checkInteger('chunk', 'chunks', chunks, 1);
  const d = normalizeDim('chunk', dim, x.ndim);
  const size = Math.ceil(x.shape[d] / chunks);
  return split(x, Math.max(size, 1), d);
}

export function split<T extends Tensor>(a: T, splitSize: number | number[], dim = 0): T[] {
  const x = liveTensor('split', 'input', a) as T;
  const d = normalizeDim('split', dim, x.ndim);
  const total = x.shape[d];
  let sizes: number[];
  if (Array.isArray(splitSize)) {
    splitSize.forEach((s, i) => checkInteger('split', `splitSize[${i}]`, s, 0));
    if (splitSize.reduce((p, q) => p + q, 0) !== total) {
      throw new RangeError(`split: split_with_sizes expects split_sizes to sum exactly to ${total} (input tensor's size at dimension ${d}), but got split_sizes=${formatShape(splitSize)}`);
    }
    sizes = splitSize;
  } else {
    checkInteger('split', 'splitSize', splitSize, 1);
    sizes = [];
    for (let at = 0; at < total; at += splitSize) sizes.push(Math.min(splitSize, total - at));
    if (sizes.length === 0) sizes.push(0);
  }
  let at = 0;
  return sizes.map((s) => {
    const part = narrow(x, d, at, s);
    at += s;
    return part;
  });
}

export function unbind<T extends Tensor>(a: T, dim = 0): T[] {
  const x = liveTensor('unbind', 'input', a) as T;
  const d = normalizeDim('unbind', dim, x.ndim);
  return Array.from({ length: x.shape[d] }, (_, i) => select(x, d, i));
}

/** Rows of `a` along `dim` picked by an int32 index (torch.index_select). */
export function indexSelect<T extends Tensor>(a: T, dim: number, index: Tensor<'int32'>): T {
  const x = liveTensor('indexSelect', 'input', a) as T;
  const idx = liveTensor('indexSelect', 'index', index);
  if (idx.dtype !== 'int32') throw new TypeError(`indexSelect: expected index to have dtype int32, but got ${idx.dtype}`);
  if (idx.ndim > 1) throw new RangeError(`indexSelect: Index is supposed to be a vector, got a ${idx.ndim}-D tensor`);
  checkSameDevice('indexSelect', x, idx);
  const d = normalizeDim('indexSelect', dim, Math.max(x.ndim, 1));
  const xs = x.ndim === 0 ? [1] : x.shape;
  const size = xs[d];
  const ids = idx.dataSync();
  for (let i = 0; i < ids.length; ++i) {
    if (ids[i] < 0 || ids[i] >= size) throw new RangeError(`indexSelect: index out of range in self: index ${ids[i]} is not in [0, ${size})`);
  }
  // Move dim to the front and view as rows: (size, rest).
  const order = [d, ...xs.map((_, i) => i).filter((i) => i !== d)];
  const rest = order.slice(1).map((i) => xs[i]);
  const restNumel = shapeNumel(rest);
  const out = tidy(() => {
    const moved = contiguousRaw(permuteRaw(reshapeRaw(x, xs), order));
    const table = reshapeRaw(moved, [size, restNumel]);
    const idx1 = reshapeRaw(contiguousRaw(idx), [ids.length]);
    const rows = emptyLike(x, [ids.length, restNumel]);
    native.indexSelectRows(...table._view(), ...idx1._view(), ...rows._view());
    const inverse = new Array<number>(order.length);
    order.forEach((o, i) => { inverse[o] = i; });
    const back = permuteRaw(reshapeRaw(rows, [ids.length, ...rest]), inverse);
    return reshapeRaw(contiguousRaw(back), x.ndim === 0 ? [] : back.shape);
  }) as T;
  if (needsGrad(x)) {
    record(out, 'IndexSelectBackward0', [x], ([g]) => tidy(() => {
      const gm = contiguousRaw(permuteRaw(reshapeRaw(g as Tensor, x.ndim === 0 ? [ids.length] : (g as Tensor).shape), order));
      const grows = reshapeRaw(gm, [ids.length, restNumel]);
      const table = emptyLike(g as Tensor, [size, restNumel]);
      const idx1 = reshapeRaw(contiguousRaw(idx), [ids.length]);
      native.indexAddRows(...grows._view(), ...idx1._view(), ...table._view());
      const inverse = new Array<number>(order.length);
      order.forEach((o, i) => { inverse[o] = i; });
      return [reshapeRaw(contiguousRaw(permuteRaw(reshapeRaw(table, [size, ...rest]), inverse)), x.shape)];
    }), { saved: [idx] });
  }
  return out;
}

