// Creating tensors: from data, constant fills, ranges and random draws.
import { getDefaultDevice, resolveDevice } from './backend';
import { Device } from './device';
import { DType, isDType, typedArrayCtor } from './dtype';
import { MAX_DIMS, checkBoolean, checkInt32Value, checkOptionKeys, checkShape, typeError } from './errors';
import { native } from './native';
import { checkTensor, shapeNumel, Tensor } from './tensor';

export interface TensorOptions<D extends DType = DType> {
  dtype?: D;
  device?: string;
  requiresGrad?: boolean;
}

const OPTION_KEYS = ['dtype', 'device', 'requiresGrad'];

interface Resolved<D extends DType> {
  dtype: D;
  device: Device;
  requiresGrad: boolean;
}

function resolveOptions<D extends DType>(where: string, options: unknown, defaultDType: DType = 'float32', extraKeys: string[] = []): Resolved<D> {
  if (options === undefined) return { dtype: defaultDType as D, device: getDefaultDevice(), requiresGrad: false };
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw typeError(where, 'options', 'an object', options);
  checkOptionKeys(where, options, [...OPTION_KEYS, ...extraKeys]);
  const o = options as TensorOptions;
  if (o.dtype !== undefined && !isDType(o.dtype)) throw typeError(where, 'options.dtype', "'float32', 'float64' or 'int32'", o.dtype);
  const dtype = (o.dtype ?? defaultDType) as D;
  const device = o.device === undefined ? getDefaultDevice() : resolveDevice(where, o.device);
  const requiresGrad = o.requiresGrad === undefined ? false : checkBoolean(where, 'options.requiresGrad', o.requiresGrad);
  if (requiresGrad && dtype === 'int32') throw new TypeError(`${where}: only Tensors of floating point dtype can require gradients (got int32)`);
  return { dtype, device, requiresGrad };
}

function finish<D extends DType>(t: Tensor<D>, requiresGrad: boolean): Tensor<D> {
  if (requiresGrad) t.requiresGrad = true;
  return t;
}

function fromTypedArray<D extends DType>(values: ArrayLike<number>, shape: number[], r: Resolved<D>): Tensor<D> {
  if (r.dtype === 'int32' && !(values instanceof Int32Array)) {
    for (let i = 0; i < values.length; ++i) {
      const v = values[i];
      if (!(v >= -2147483648 && v < 2147483648)) {
        throw new RangeError(`tensor: value cannot be converted to type int32 without overflow: ${v} (at flat index ${i})`);
      }
    }
  }
  const t = Tensor.empty(shape, r.dtype, r.device);
  const Ctor = typedArrayCtor(r.dtype);
  const buf = values instanceof Ctor ? values : Ctor.from(values);
  if (buf.length > 0) native.storageWrite(t._storage.handle, 0, buf);
  return t;
}

type Nested = number | Nested[];

/** Shape of nested arrays, rejecting ragged data and non-numbers. */
function nestedShape(data: Nested, path: string, depth = 0): number[] {
  if (typeof data === 'number') return [];
  if (!Array.isArray(data)) throw typeError('tensor', `data${path}`, 'a number or an array', data);
  if (depth >= MAX_DIMS) {
    throw new RangeError(`tensor: expected data to be arrays nested at most ${MAX_DIMS} deep (a tensor has at most ${MAX_DIMS} dimensions), but data${path} is nested deeper`);
  }
  if (data.length === 0) return [0];
  const inner = nestedShape(data[0], `${path}[0]`, depth + 1);
  for (let i = 1; i < data.length; ++i) {
    const s = nestedShape(data[i], `${path}[${i}]`, depth + 1);
    if (s.length !== inner.length || s.some((v, k) => v !== inner[k])) {
      throw new RangeError(`tensor: data is ragged: data${path}[0] has shape [${inner.join(', ')}] but data${path}[${i}] has shape [${s.join(', ')}]`);
    }
  }
  return [data.length, ...inner];
}

function flattenNested(data: Nested, out: number[]): void {
  if (typeof data === 'number') out.push(data);
  else for (const d of data) flattenNested(d, out);
}

type TypedInput = Float32Array | Float64Array | Int32Array | Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array;
/** The typed arrays tensor() reads (BigInt arrays and DataViews are not numbers element by element). */
const TYPED_INPUTS = [Float32Array, Float64Array, Int32Array, Uint8Array, Uint8ClampedArray, Int8Array, Uint16Array, Int16Array, Uint32Array];

function defaultDTypeOf(data: unknown): DType {
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof Int32Array) return 'int32';
  return 'float32';
}

/**
 * A tensor from a number, nested arrays, or a typed array (with an optional
 * `shape`). JS numbers default to float32; typed arrays keep their type.
 */
export function tensor<D extends DType = 'float32'>(data: Nested | TypedInput | Tensor, options?: TensorOptions<D> & { shape?: number[] }): Tensor<D> {
  if (data instanceof Tensor) {
    checkTensor('tensor', 'data', data);
    const r = resolveOptions<D>('tensor', options, data.dtype, ['shape']);
    // Always a copy (torch.tensor(t) copies): detach, convert, clone if unchanged.
    const detached = data.detach();
    const converted = detached.to({ dtype: r.dtype, device: r.device.type === 'cpu' ? 'cpu' : `cuda:${r.device.index}` });
    const out = converted === detached ? detached.clone() : converted;
    detached.dispose();
    return finish(out as Tensor<D>, r.requiresGrad);
  }
  const r = resolveOptions<D>('tensor', options, defaultDTypeOf(data), ['shape']);
  const shapeOpt = (options as { shape?: unknown } | undefined)?.shape;
  if (ArrayBuffer.isView(data)) {
    if (!TYPED_INPUTS.some((C) => data instanceof C)) {
      throw typeError('tensor', 'data', `a number, nested arrays of numbers, a Tensor or one of ${TYPED_INPUTS.map((C) => C.name).join(', ')}`, data);
    }
    const values = data as unknown as ArrayLike<number>;
    const shape = shapeOpt === undefined ? [values.length] : checkShape('tensor', 'options.shape', shapeOpt);
    if (shapeNumel(shape) !== values.length) {
      throw new RangeError(`tensor: options.shape [${shape.join(', ')}] has ${shapeNumel(shape)} elements but data has ${values.length}`);
    }
    return finish(fromTypedArray(values, shape, r), r.requiresGrad);
  }
  if (typeof data !== 'number' && !Array.isArray(data)) {
    throw typeError('tensor', 'data', 'a number, nested arrays of numbers, a typed array or a Tensor', data);
  }
  const shape = nestedShape(data, '');
  const flat: number[] = [];
  flattenNested(data, flat);
  for (let i = 0; i < flat.length; ++i) {
    if (typeof flat[i] !== 'number') throw typeError('tensor', 'data', 'numbers only', flat[i]);
  }
  if (shapeOpt !== undefined) {
    const s = checkShape('tensor', 'options.shape', shapeOpt);
    if (shapeNumel(s) !== flat.length) throw new RangeError(`tensor: options.shape [${s.join(', ')}] has ${shapeNumel(s)} elements but data has ${flat.length}`);
    return finish(fromTypedArray(flat, s, r), r.requiresGrad);
  }
  return finish(fromTypedArray(flat, shape, r), r.requiresGrad);
}

function filled<D extends DType>(where: string, shape: unknown, value: number, options: unknown): Tensor<D> {
  const s = checkShape(where, 'shape', shape);
  const r = resolveOptions<D>(where, options);
  if (r.dtype === 'int32') checkInt32Value(where, 'value', value);
  const t = Tensor.empty(s, r.dtype, r.device);
  if (value !== 0) native.fill(...t._view(), value);
  return finish(t, r.requiresGrad);
}

export function zeros<D extends DType = 'float32'>(shape: number[] | number, options?: TensorOptions<D>): Tensor<D> {
  return filled('zeros', shape, 0, options);
}

export function ones<D extends DType = 'float32'>(shape: number[] | number, options?: TensorOptions<D>): Tensor<D> {
  return filled('ones', shape, 1, options);
}

export function full<D extends DType = 'float32'>(shape: number[] | number, value: number, options?: TensorOptions<D>): Tensor<D> {
  if (typeof value !== 'number') throw typeError('full', 'value', 'a number', value);
  return filled('full', shape, value, options);
}

function likeOptions(where: string, like: unknown, options: unknown): TensorOptions {
  const t = checkTensor(where, 'input', like);
  if (options !== undefined && (typeof options !== 'object' || options === null)) throw typeError(where, 'options', 'an object', options);
  return { dtype: t.dtype, device: t.device, ...(options as object | undefined) };
}

export function zerosLike(like: Tensor, options?: TensorOptions): Tensor {
  return zeros(checkTensor('zerosLike', 'input', like).shape as number[], likeOptions('zerosLike', like, options));
}

export function onesLike(like: Tensor, options?: TensorOptions): Tensor {
  return ones(checkTensor('onesLike', 'input', like).shape as number[], likeOptions('onesLike', like, options));
}

export function fullLike(like: Tensor, value: number, options?: TensorOptions): Tensor {
  return full(checkTensor('fullLike', 'input', like).shape as number[], value, likeOptions('fullLike', like, options));
}

/**
 * arange(end), arange(start, end), arange(start, end, step): values
 * start + i*step below end (float32 unless options.dtype says otherwise).
 */
export function arange<D extends DType = 'float32'>(...args: Array<number | TensorOptions<D>>): Tensor<D> {
  const last = args[args.length - 1];
  const options = typeof last === 'object' ? (args.pop() as TensorOptions<D>) : undefined;
  const nums = args as number[];
  if (nums.length < 1 || nums.length > 3) throw new TypeError(`arange: expected 1 to 3 numbers (end | start, end | start, end, step), got ${nums.length}`);
  nums.forEach((n, i) => {
    if (typeof n !== 'number' || !Number.isFinite(n)) throw typeError('arange', ['start', 'end', 'step'][nums.length === 1 ? 1 : i], 'a finite number', n);
  });
  const [start, end, step] = nums.length === 1 ? [0, nums[0], 1] : [nums[0], nums[1], nums[2] ?? 1];
  if (step === 0) throw new RangeError('arange: step must be nonzero');
  if ((step > 0 && end < start) || (step < 0 && end > start)) {
    throw new RangeError('arange: upper bound and larger bound inconsistent with step sign');
  }
  const n = Math.ceil((end - start) / step);
  // PyTorch's message for a length that cannot be a size (also 1e308 - -1e308 = Infinity).
  if (!Number.isFinite(n) || n > Number.MAX_SAFE_INTEGER / 8) {
    throw new RangeError(`arange: invalid size, possible overflow? ((end - start) / step = ${(end - start) / step} elements)`);
  }
  const r = resolveOptions<D>('arange', options);
  if (r.dtype === 'int32' && n > 0) {
    checkInt32Value('arange', 'start', start);
    checkInt32Value('arange', 'the last value', start + (n - 1) * step);
  }
  const t = Tensor.empty([n], r.dtype, r.device);
  native.arange(...t._view(), start, step);
  return finish(t, r.requiresGrad);
}

function random<D extends DType>(where: string, shape: unknown, options: unknown, fill: (t: Tensor) => void): Tensor<D> {
  const s = checkShape(where, 'shape', shape);
  const r = resolveOptions<D>(where, options);
  if (r.dtype === 'int32') throw new TypeError(`${where}: expected a floating point dtype, but got int32`);
  const t = Tensor.empty(s, r.dtype, r.device);
  if (t.numel > 0) fill(t);  // an empty tensor draws nothing, as in PyTorch
  return finish(t, r.requiresGrad);
}

/** Uniform [0, 1): equals torch.rand under the same manualSeed, bit for bit. */
export function rand<D extends DType = 'float32'>(shape: number[] | number, options?: TensorOptions<D>): Tensor<D> {
  return random('rand', shape, options, (t) => native.uniformFill(...t._view(), 0, 1));
}

/** Standard normal draws (torch.randn). */
export function randn<D extends DType = 'float32'>(shape: number[] | number, options?: TensorOptions<D>): Tensor<D> {
  return random('randn', shape, options, (t) => native.normalFill(...t._view(), 0, 1));
}

export function randLike(like: Tensor, options?: TensorOptions): Tensor {
  return rand(checkTensor('randLike', 'input', like).shape as number[], likeOptions('randLike', like, options));
}

export function randnLike(like: Tensor, options?: TensorOptions): Tensor {
  return randn(checkTensor('randnLike', 'input', like).shape as number[], likeOptions('randnLike', like, options));
}

