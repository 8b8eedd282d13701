// Shared machinery of the ops: broadcasting, output allocation, graph recording.
import { isGradEnabled } from '../autograd/grad-mode';
import { BackwardFn, Node, SavedTensor } from '../autograd/node';
import { deviceName, sameDevice } from '../device';
import { DType, DTYPE_CODE } from '../dtype';
import { CodedError, formatShape } from '../errors';
import { native, ViewArgs } from '../native';
import { checkTensor, contiguousStrides, Tensor } from '../tensor';

export { normalizeDim } from '../errors';

/** PyTorch's broadcasting of two shapes, with its error message. */
export function broadcastShapes(where: string, a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; ++i) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new RangeError(`${where}: The size of tensor a (${da}) must match the size of tensor b (${db}) at non-singleton dimension ${i}. Shapes: ${formatShape(a)} and ${formatShape(b)}`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Native view arguments of `t` broadcast to `shape` (stride 0 on broadcast dims). */
export function broadcastView(t: Tensor, shape: readonly number[]): ViewArgs {
  const lead = shape.length - t.ndim;
  const strides = new Array<number>(shape.length);
  for (let i = 0; i < shape.length; ++i) {
    const j = i - lead;
    strides[i] = j < 0 || (t.shape[j] === 1 && shape[i] !== 1) ? 0 : t.strides[j];
  }
  return [t._storage.handle, DTYPE_CODE[t.dtype], t.offset, shape as number[], strides];
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((s, i) => s === b[i]);
}

/** A fresh zero-filled contiguous tensor on `like`'s device. */
export function emptyLike(like: Tensor, shape: readonly number[] = like.shape, dtype: DType = like.dtype): Tensor {
  return Tensor.empty(shape, dtype, like.deviceObj);
}

/**
 * Like emptyLike but not zero-filled: only for the output of a kernel that
 * writes every element (pointwise ops, copies, the RNN's outputs).
 */
export function outputLike(like: Tensor, shape: readonly number[] = like.shape, dtype: DType = like.dtype): Tensor {
  return Tensor.empty(shape, dtype, like.deviceObj, false);
}

export function checkSameDevice(where: string, a: Tensor, b: Tensor): void {
  if (!sameDevice(a.deviceObj, b.deviceObj)) {
    throw new CodedError(`${where}: Expected all tensors to be on the same device, but found at least two devices, ${deviceName(a.deviceObj)} and ${deviceName(b.deviceObj)}!`, 'ERR_CUDNN_RNN_DEVICE_MISMATCH');
  }
}

export function liveTensor(where: string, arg: string, value: unknown): Tensor {
  return checkTensor(where, arg, value);
}

/** Reduces a gradient of a broadcast result back to an input's shape. */
export function sumToShape(g: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const out = emptyLike(g, shape);
  const lead = g.ndim - shape.length;
  const base = contiguousStrides(shape);
  const strides = g.shape.map((s, i) => (i < lead || shape[i - lead] === 1 ? 0 : base[i - lead]));
  native.sum(...g._view(), out._storage.handle, DTYPE_CODE[out.dtype], 0, g.shape as number[], strides);
  return out;
}

export function needsGrad(...inputs: Array<Tensor | number | null | undefined>): boolean {
  if (!isGradEnabled()) return false;
  for (const t of inputs) if (t instanceof Tensor && t.requiresGrad) return true;
  return false;
}

/** Records `outputs` as produced by one node with the given backward. */
export function record(
  outputs: Tensor | Tensor[],
  name: string,
  inputs: Array<Tensor | number | null | undefined>,
  backward: BackwardFn,
  options: { saved?: Tensor[]; owned?: Tensor[] } = {},
): void {
  const outs = Array.isArray(outputs) ? outputs : [outputs];
  const edgeInputs = inputs.map((t) => (t instanceof Tensor && t.requiresGrad ? t : null));
  const saved = (options.saved ?? []).map((t) => new SavedTensor(t, name));
  const node = new Node(name, edgeInputs, backward, { saved, numOutputs: outs.length, owned: options.owned });
  outs.forEach((t, i) => t._setGradFn(node, i));
}

/** Casts to `dtype` when needed; the caller disposes the result if it differs. */
export function castIfNeeded(t: Tensor, dtype: DType): Tensor {
  if (t.dtype === dtype) return t;
  const out = outputLike(t, t.shape, dtype);
  native.copy(...t._view(), ...out._view());
  return out;
}

/** Disposes the tensors in `temps` that are not `keepers`. */
export function disposeTemps(temps: Array<Tensor | null | undefined>, ...keepers: Tensor[]): void {
  for (const t of temps) if (t && !keepers.includes(t)) t.dispose();
}
