// dtype/device conversion, clone and detach.
import { resolveDevice } from '../backend';
import { Device, DeviceLike, sameDevice } from '../device';
import { DType, isDType, ITEM_SIZE } from '../dtype';
import { typeError } from '../errors';
import { native } from '../native';
import { Tensor } from '../tensor';
import { liveTensor, needsGrad, outputLike, record } from './util';

export function clone<T extends Tensor>(a: T): T {
  const x = liveTensor('clone', 'input', a) as T;
  const out = outputLike(x) as T;
  native.copy(...x._view(), ...out._view());
  if (needsGrad(x)) record(out, 'CloneBackward0', [x], ([g]) => [g]);
  return out;
}

/**
 * Converts dtype and/or device. Returns the tensor itself when nothing
 * changes, like PyTorch.
 */
export function to(a: Tensor, target: DType | DeviceLike | { dtype?: DType; device?: DeviceLike }): Tensor {
  const x = liveTensor('to', 'input', a);
  let dtype: DType = x.dtype;
  let deviceArg: unknown;
  if (typeof target === 'string' && isDType(target)) {
    dtype = target;
  } else if (typeof target === 'string') {
    deviceArg = target;
  } else if (typeof target === 'object' && target !== null && !('type' in target)) {
    const opts = target as { dtype?: unknown; device?: unknown };
    if (opts.dtype !== undefined) {
      if (!isDType(opts.dtype)) throw typeError('to', 'dtype', "'float32', 'float64' or 'int32'", opts.dtype);
      dtype = opts.dtype;
    }
    deviceArg = opts.device;
  } else if (typeof target === 'object' && target !== null) {
    deviceArg = target;
  } else {
    throw typeError('to', 'target', "a dtype ('float32', 'float64', 'int32'), a device ('cpu', 'cuda') or { dtype, device }", target);
  }
  const device = deviceArg === undefined ? x.deviceObj : resolveDevice('to', deviceArg);
  if (dtype === x.dtype && sameDevice(device, x.deviceObj)) return x;
  const out = convert(x, dtype, device);
  // Converting to int32 is allowed; like PyTorch the result then has no gradient.
  if (needsGrad(x) && dtype !== 'int32') {
    const from = x.dtype;
    const home = x.deviceObj;
    record(out, 'ToCopyBackward0', [x], ([g]) => [convert(g as Tensor, from, home)]);
  }
  return out;
}

/** A contiguous copy of `x` as `dtype` on `device` (no autograd). */
function convert(x: Tensor, dtype: DType, device: Device): Tensor {
  const out = Tensor.empty(x.shape, dtype, device, false);
  if (sameDevice(device, x.deviceObj)) {
    native.copy(...x._view(), ...out._view());
    return out;
  }
  // Between devices: convert and compact on the source device, then move
  // the bytes as one block (a strided view cannot cross in one copy).
  const compact = dtype === x.dtype && x.isContiguous ? x : Tensor.empty(x.shape, dtype, x.deviceObj, false);
  try {
    if (compact !== x) native.copy(...x._view(), ...compact._view());
    const item = ITEM_SIZE[dtype];
    native.storageCopy(compact._storage.handle, compact.offset * item, out._storage.handle, 0, out.numel * item);
  } catch (err) {
    out.dispose();
    throw err;
  } finally {
    if (compact !== x) compact.dispose();
  }
  return out;
}
