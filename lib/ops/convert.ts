// dtype/device conversion, clone and detach.
import { resolveDevice } from '../backend';
import { DeviceLike, deviceName, sameDevice } from '../device';
import { DType, isDType } from '../dtype';
import { CodedError, typeError } from '../errors';
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
  if (!sameDevice(device, x.deviceObj)) {
    throw new CodedError(`to: copies between ${deviceName(x.deviceObj)} and ${deviceName(device)} are not supported by this build`, 'ERR_CUDNN_RNN_DEVICE');
  }
  const out = Tensor.empty(x.shape, dtype, device, false);
  native.copy(...x._view(), ...out._view());
  // Converting to int32 is allowed; like PyTorch the result then has no gradient.
  if (needsGrad(x) && dtype !== 'int32') {
    const from = x.dtype;
    record(out, 'ToCopyBackward0', [x], ([g]) => {
      const gg = g as Tensor;
      const back = Tensor.empty(gg.shape, from, x.deviceObj);
      native.copy(...gg._view(), ...back._view());
      return [back];
    });
  }
  return out;
}
