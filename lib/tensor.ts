// The Tensor class: a typed, strided view of a reference-counted Storage,
// with autograd state. Operations live in ops/; the methods here delegate so
// both `a.add(b)` and `add(a, b)` read naturally.
import { runBackward, checkBackwardRoot } from './autograd/engine';
import type { Node } from './autograd/node';
import { CPU, Device, deviceName, DeviceLike } from './device';
import { DType, DTYPE_CODE, ITEM_SIZE, TypedArrayFor, typedArrayCtor, isFloatDType } from './dtype';
import { CodedError, checkBoolean, describe, formatShape, typeError } from './errors';
import { formatTensor } from './format';
import { registerTensorCheck, trackTensor, untrackTensor } from './memory';
import { native, ViewArgs } from './native';
import { Storage } from './storage';
import * as ops from './ops';

export function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; --i) {
    strides[i] = s;
    s *= Math.max(shape[i], 1);
  }
  return strides;
}

export function shapeNumel(shape: readonly number[]): number {
  let n = 1;
  for (const s of shape) n *= s;
  return n;
}

export class Tensor<D extends DType = DType> {
  /**
   * Set by the constructor only: `instanceof Tensor` (used throughout) checks
   * for it, so an object made with Object.create(Tensor.prototype) or a
   * look-alike is refused with a clear error instead of failing deep inside.
   */
  readonly #made = true;
  static [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && #made in value;
  }
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  /** Element offset of this view into its storage. */
  readonly offset: number;
  readonly dtype: D;
  /** @internal */ _storage: Storage;
  private _grad: Tensor<D> | null = null;
  /** The node that produced this tensor; null for leaves. */
  gradFn: Node | null = null;
  /** @internal which output of gradFn this tensor is. */
  outputIndex = 0;
  /** @internal */ retainsGrad = false;
  private _requiresGrad = false;
  private disposed = false;

  /** @internal Use the creation functions (tensor, zeros, ...) instead. */
  constructor(storage: Storage, shape: readonly number[], strides: readonly number[], offset: number, dtype: D) {
    this._storage = storage;
    this.shape = Object.freeze(shape.slice());
    this.strides = Object.freeze(strides.slice());
    this.offset = offset;
    this.dtype = dtype;
    storage.retain();
    trackTensor(this);
  }

  /**
   * @internal A fresh contiguous tensor, zero-filled unless `zero` is false
   * (only for outputs that a kernel writes completely).
   */
  static empty<D extends DType>(shape: readonly number[], dtype: D, device: Device = CPU, zero = true): Tensor<D> {
    const numel = shapeNumel(shape);
    const storage = Storage.alloc(numel * ITEM_SIZE[dtype], device, zero, `a ${dtype} tensor of shape ${formatShape(shape)} on ${deviceName(device)}`);
    return new Tensor(storage, shape, contiguousStrides(shape), 0, dtype);
  }

  get device(): string {
    return deviceName(this._storage.device);
  }
  /** @internal */
  get deviceObj(): Device {
    return this._storage.device;
  }
  get ndim(): number {
    return this.shape.length;
  }
  get rank(): number {
    return this.shape.length;
  }
  get numel(): number {
    return shapeNumel(this.shape);
  }
  get isDisposed(): boolean {
    return this.disposed;
  }
  get isLeaf(): boolean {
    return this.gradFn === null;
  }
  get isContiguous(): boolean {
    let expected = 1;
    for (let i = this.shape.length - 1; i >= 0; --i) {
      if (this.shape[i] !== 1 && this.strides[i] !== expected) return false;
      expected *= this.shape[i];
    }
    return true;
  }

  size(): number[];
  size(dim: number): number;
  size(dim?: number): number | number[] {
    if (dim === undefined) return this.shape.slice();
    return this.shape[ops.normalizeDim('size', dim, this.ndim)];
  }
  dim(): number {
    return this.ndim;
  }

  /**
   * The accumulated gradient (leaves, or non-leaves after retainGrad()). An
   * assigned gradient must match this tensor's shape, dtype and device
   * (PyTorch's checks and messages), so an optimizer never broadcasts it.
   */
  get grad(): Tensor<D> | null {
    return this._grad;
  }
  set grad(value: Tensor<D> | null) {
    if (value !== null) {
      if (!(value instanceof Tensor)) {
        throw new TypeError(`grad: assigned grad expected to be a Tensor or null but got ${describe(value)}`);
      }
      value._assertAlive('grad', 'the assigned grad');
      if (value.dtype !== this.dtype) {
        throw new TypeError(`grad: assigned grad has data of a different type (expected ${this.dtype}, got ${value.dtype})`);
      }
      if (value.device !== this.device) {
        throw new TypeError(`grad: assigned grad has data located on a different device (expected ${this.device}, got ${value.device})`);
      }
      if (value.shape.length !== this.shape.length || value.shape.some((s, i) => s !== this.shape[i])) {
        throw new RangeError(`grad: assigned grad has data of a different size (expected ${formatShape(this.shape)}, got ${formatShape(value.shape)})`);
      }
    }
    this._grad = value;
  }

  get requiresGrad(): boolean {
    return this._requiresGrad;
  }
  set requiresGrad(value: boolean) {
    checkBoolean('requiresGrad', 'value', value);
    if (this.gradFn !== null && !value) {
      throw new CodedError(
        "you can only change requires_grad flags of leaf variables. If you want to use a computed variable in a subgraph that doesn't require differentiation use detach().",
        'ERR_CUDNN_RNN_NOT_LEAF');
    }
    if (value && !isFloatDType(this.dtype)) {
      throw new CodedError(`only Tensors of floating point dtype can require gradients (got ${this.dtype})`, 'ERR_CUDNN_RNN_INT_GRAD');
    }
    this._requiresGrad = value;
  }
  /** Sets requiresGrad in place and returns this (torch's requires_grad_()). */
  requiresGrad_(value = true): this {
    this.requiresGrad = value;
    return this;
  }
  /** @internal marks an op output as part of the graph. */
  _setGradFn(node: Node, outputIndex: number): void {
    this.gradFn = node;
    this.outputIndex = outputIndex;
    this._requiresGrad = true;
  }
  /** Keeps .grad on a non-leaf after backward (torch's retain_grad()). */
  retainGrad(): this {
    if (!this._requiresGrad) throw new CodedError("can't retain_grad on Tensor that has requires_grad=False", 'ERR_CUDNN_RNN_NO_GRAD');
    if (this.gradFn !== null) this.retainsGrad = true;
    return this;
  }

  /** @internal Throws a clear error if this tensor was disposed. */
  _assertAlive(where: string, arg: string): void {
    if (this.disposed) {
      throw new CodedError(`${where}: ${arg} is a disposed tensor (dispose() or tidy() freed it)`, 'ERR_CUDNN_RNN_DISPOSED');
    }
  }

  /** @internal The five native view arguments. */
  _view(): ViewArgs {
    return [this._storage.handle, DTYPE_CODE[this.dtype], this.offset, this.shape as number[], this.strides as number[]];
  }

  // ---- autograd ----
  backward(gradient?: Tensor, options: { retainGraph?: boolean } = {}): void {
    this._assertAlive('backward', 'this tensor');
    if (gradient !== undefined) {
      if (!(gradient instanceof Tensor)) throw typeError('backward', 'gradient', 'a Tensor', gradient);
      gradient._assertAlive('backward', 'gradient');
      if (gradient.shape.length !== this.shape.length || gradient.shape.some((s, i) => s !== this.shape[i])) {
        throw new RangeError(`backward: Mismatch in shape: grad_output[0] has a shape of torch.Size(${formatShape(gradient.shape)}) and output[0] has a shape of torch.Size(${formatShape(this.shape)}).`);
      }
      if (gradient.device !== this.device) {
        throw new CodedError(`backward: invalid gradient at index 0 - expected device ${this.device} but got ${gradient.device}`, 'ERR_CUDNN_RNN_DEVICE_MISMATCH');
      }
    }
    if (typeof options !== 'object' || options === null) throw typeError('backward', 'options', 'an object', options);
    const retainGraph = options.retainGraph ?? false;
    checkBoolean('backward', 'options.retainGraph', retainGraph);
    checkBackwardRoot(this, gradient);
    let g = gradient;
    if (g !== undefined && g.dtype !== this.dtype) g = g.to(this.dtype);
    try {
      runBackward(this, g, retainGraph);
    } finally {
      if (g !== gradient && g !== undefined) g.dispose();
    }
  }

  /**
   * @internal Points this tensor object at other memory: what Module.to()
   * uses so that parameters keep their identity (optimizers hold them) while
   * their data moves or changes dtype, as in PyTorch. Shape is unchanged.
   */
  _rebind(storage: Storage, strides: readonly number[], offset: number, dtype: DType): void {
    storage.retain();
    const old = this._storage;
    this._storage = storage;
    const self = this as unknown as { strides: readonly number[]; offset: number; dtype: DType };
    self.strides = Object.freeze(strides.slice());
    self.offset = offset;
    self.dtype = dtype;
    old.release();
  }

  /** A view sharing storage, cut from the graph. */
  detach(): Tensor<D> {
    this._assertAlive('detach', 'this tensor');
    return new Tensor(this._storage, this.shape, this.strides, this.offset, this.dtype);
  }

  // ---- memory ----
  /** Frees this view (and its .grad); the storage goes when its last view does. Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    untrackTensor(this);
    this._storage.release();
    if (this.grad !== null) {
      this.grad.dispose();
      this.grad = null;
    }
  }

  // ---- reads ----
  /** The elements in logical (row-major) order, as a new typed array of the dtype. */
  dataSync(): TypedArrayFor<D> {
    this._assertAlive('dataSync', 'this tensor');
    const Ctor = typedArrayCtor(this.dtype);
    const src = this.isContiguous ? (this as Tensor) : ops.contiguous(this);
    try {
      const bytes = src.numel * ITEM_SIZE[this.dtype];
      const buffer = native.storageRead(src._storage.handle, src.offset * ITEM_SIZE[this.dtype], bytes);
      return new Ctor(buffer) as TypedArrayFor<D>;
    } finally {
      if (src !== this) src.dispose();
    }
  }
  /**
   * Like dataSync(), as a Promise. On a GPU the wait for the device and the
   * copy happen on a worker thread, so the event loop keeps serving.
   */
  data(): Promise<TypedArrayFor<D>> {
    try {
      if (this._storage.device.type === 'cpu') return Promise.resolve(this.dataSync());
      return this.readDeviceAsync();
    } catch (err) {
      return Promise.reject(err);
    }
  }
  private async readDeviceAsync(): Promise<TypedArrayFor<D>> {
    this._assertAlive('data', 'this tensor');
    const Ctor = typedArrayCtor(this.dtype);
    const src = this.isContiguous ? (this as Tensor) : ops.contiguous(this);
    // Keep the memory alive while the worker reads it, even if the tensor is disposed meanwhile.
    const storage = src._storage;
    storage.retain();
    if (src !== this) src.dispose();
    try {
      const bytes = src.numel * ITEM_SIZE[this.dtype];
      return new Ctor(await native.storageReadAsync(storage.handle, src.offset * ITEM_SIZE[this.dtype], bytes)) as TypedArrayFor<D>;
    } finally {
      storage.release();
    }
  }
  /** Nested arrays of numbers (a number for a 0-d tensor). */
  arraySync(): NestedArray {
    return nest(this.dataSync(), this.shape);
  }
  async array(): Promise<NestedArray> {
    return nest(await this.data(), this.shape);
  }
  /** The single element of a one-element tensor as a number. */
  item(): number {
    this._assertAlive('item', 'this tensor');
    if (this.numel !== 1) {
      throw new RangeError(`item: a Tensor with ${this.numel} elements cannot be converted to Scalar`);
    }
    return this.dataSync()[0];
  }
  toString(): string {
    if (this.disposed) return 'Tensor(disposed)';
    return formatTensor(this.dataSync(), this.shape as number[], this.dtype, {
      requiresGrad: this.requiresGrad && this.gradFn === null,
      gradFn: this.gradFn?.name,
      device: this.device,
    });
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }

  // ---- conversion ----
  to(target: DType | DeviceLike | { dtype?: DType; device?: DeviceLike }): Tensor {
    return ops.to(this, target);
  }
  clone(): Tensor<D> {
    return ops.clone(this);
  }
  contiguous(): Tensor<D> {
    return ops.contiguous(this);
  }
  float(): Tensor<'float32'> {
    return ops.to(this, 'float32') as Tensor<'float32'>;
  }
  double(): Tensor<'float64'> {
    return ops.to(this, 'float64') as Tensor<'float64'>;
  }
  int(): Tensor<'int32'> {
    return ops.to(this, 'int32') as Tensor<'int32'>;
  }
  cpu(): Tensor<D> {
    return ops.to(this, 'cpu') as Tensor<D>;
  }
  /** This tensor on a GPU: 'cuda' (device 0) by default, or an index. */
  cuda(device: number | string = 0): Tensor<D> {
    return ops.to(this, typeof device === 'number' ? `cuda:${device}` : device) as Tensor<D>;
  }

  // ---- elementwise ----
  add(other: Tensor | number, options?: { alpha?: number }): Tensor { return ops.add(this, other, options); }
  sub(other: Tensor | number, options?: { alpha?: number }): Tensor { return ops.sub(this, other, options); }
  mul(other: Tensor | number): Tensor { return ops.mul(this, other); }
  div(other: Tensor | number): Tensor { return ops.div(this, other); }
  pow(exponent: Tensor | number): Tensor { return ops.pow(this, exponent); }
  maximum(other: Tensor): Tensor { return ops.maximum(this, other); }
  minimum(other: Tensor): Tensor { return ops.minimum(this, other); }
  eq(other: Tensor | number): Tensor { return ops.eq(this, other); }
  ne(other: Tensor | number): Tensor { return ops.ne(this, other); }
  lt(other: Tensor | number): Tensor { return ops.lt(this, other); }
  le(other: Tensor | number): Tensor { return ops.le(this, other); }
  gt(other: Tensor | number): Tensor { return ops.gt(this, other); }
  ge(other: Tensor | number): Tensor { return ops.ge(this, other); }
  neg(): Tensor<D> { return ops.neg(this); }
  exp(): Tensor { return ops.exp(this); }
  log(): Tensor { return ops.log(this); }
  tanh(): Tensor { return ops.tanh(this); }
  sigmoid(): Tensor { return ops.sigmoid(this); }
  relu(): Tensor<D> { return ops.relu(this); }
  abs(): Tensor<D> { return ops.abs(this); }
  sqrt(): Tensor { return ops.sqrt(this); }
  square(): Tensor<D> { return ops.square(this); }
  clamp(min?: number | null, max?: number | null): Tensor<D> { return ops.clamp(this, min, max); }

  // ---- reductions ----
  sum(dim?: number | number[] | null, keepdim = false): Tensor { return ops.sum(this, dim, keepdim); }
  mean(dim?: number | number[] | null, keepdim = false): Tensor { return ops.mean(this, dim, keepdim); }
  amax(dim?: number | number[] | null, keepdim = false): Tensor<D> { return ops.amax(this, dim, keepdim); }
  argmax(dim?: number | null, keepdim = false): Tensor<'int32'> { return ops.argmax(this, dim, keepdim); }
  softmax(dim: number): Tensor { return ops.softmax(this, dim); }
  logSoftmax(dim: number): Tensor { return ops.logSoftmax(this, dim); }

  // ---- linear algebra ----
  matmul(other: Tensor): Tensor { return ops.matmul(this, other); }

  // ---- shape ----
  reshape(...shape: Array<number | number[]>): Tensor<D> { return ops.reshape(this, flattenShapeArgs(shape)); }
  view(...shape: Array<number | number[]>): Tensor<D> { return ops.view(this, flattenShapeArgs(shape)); }
  flatten(startDim = 0, endDim = -1): Tensor<D> { return ops.flatten(this, startDim, endDim); }
  permute(...dims: Array<number | number[]>): Tensor<D> { return ops.permute(this, flattenShapeArgs(dims)); }
  transpose(dim0: number, dim1: number): Tensor<D> { return ops.transpose(this, dim0, dim1); }
  t(): Tensor<D> { return ops.t(this); }
  select(dim: number, index: number): Tensor<D> { return ops.select(this, dim, index); }
  narrow(dim: number, start: number, length: number): Tensor<D> { return ops.narrow(this, dim, start, length); }
  squeeze(dim?: number): Tensor<D> { return ops.squeeze(this, dim); }
  unsqueeze(dim: number): Tensor<D> { return ops.unsqueeze(this, dim); }
  expand(...shape: Array<number | number[]>): Tensor<D> { return ops.expand(this, flattenShapeArgs(shape)); }
  expandAs(other: Tensor): Tensor<D> { return ops.expand(this, other.shape as number[]); }
  chunk(chunks: number, dim = 0): Tensor<D>[] { return ops.chunk(this, chunks, dim); }
  split(splitSize: number | number[], dim = 0): Tensor<D>[] { return ops.split(this, splitSize, dim); }
  unbind(dim = 0): Tensor<D>[] { return ops.unbind(this, dim); }
  indexSelect(dim: number, index: Tensor<'int32'>): Tensor<D> { return ops.indexSelect(this, dim, index); }

  // ---- in place (optimizers; refused where autograd would be wrong) ----
  copy_(src: Tensor): this { ops.copyInPlace(this, src); return this; }
  zero_(): this { ops.fillInPlace(this, 0); return this; }
  fill_(value: number): this { ops.fillInPlace(this, value); return this; }
  add_(other: Tensor | number, options?: { alpha?: number }): this { ops.addInPlace('add_', this, other, options, 1); return this; }
  sub_(other: Tensor | number, options?: { alpha?: number }): this { ops.addInPlace('sub_', this, other, options, -1); return this; }
  mul_(other: Tensor | number): this { ops.mulInPlace(this, other); return this; }
  div_(other: Tensor | number): this { ops.divInPlace(this, other); return this; }
  uniform_(from = 0, to = 1): this { ops.uniformInPlace(this, from, to); return this; }
  normal_(mean = 0, std = 1): this { ops.normalInPlace(this, mean, std); return this; }
}

export type NestedArray = number | NestedArray[];

/** Row-major flat values as nested arrays of `shape` (a number for 0-d). */
function nest(flat: ArrayLike<number>, shape: readonly number[]): NestedArray {
  if (shape.length === 0) return flat[0];
  const build = (dim: number, offset: number): NestedArray => {
    const n = shape[dim];
    const out: NestedArray[] = new Array(n);
    if (dim === shape.length - 1) {
      for (let i = 0; i < n; ++i) out[i] = flat[offset + i];
      return out;
    }
    const step = shapeNumel(shape.slice(dim + 1));
    for (let i = 0; i < n; ++i) out[i] = build(dim + 1, offset + i * step);
    return out;
  };
  return build(0, 0);
}

function flattenShapeArgs(args: Array<number | number[]>): number[] {
  if (args.length === 1 && Array.isArray(args[0])) return args[0];
  for (const a of args) {
    if (Array.isArray(a)) throw typeError('shape', 'shape', 'integers or one array of integers', args);
  }
  return args as number[];
}

export function isTensor(value: unknown): value is Tensor {
  return value instanceof Tensor;
}
registerTensorCheck(isTensor);

/** Validates that `value` is a live Tensor; returns it typed. */
export function checkTensor(where: string, arg: string, value: unknown): Tensor {
  if (!(value instanceof Tensor)) throw typeError(where, arg, 'a Tensor', value);
  value._assertAlive(where, arg);
  return value;
}

export { describe };
