// Which backend serves a device, and the default device. The CPU backend is
// always present; the cuDNN backend is found at run time (DESIGN.md 1).
import { CPU, Device, deviceName, parseDevice } from './device';
import { CodedError } from './errors';

/**
 * Parses a device argument and checks that a backend can serve it. Asking
 * for 'cuda' where it is unusable throws an error that lists why.
 */
export function resolveDevice(where: string, value: unknown): Device {
  const device = parseDevice(where, value);
  if (device.type === 'cpu') return device;
  throw new CodedError(
    `${where}: device ${deviceName(device)} is not available: this build of cudnn-rnn has no CUDA backend yet, so only 'cpu' can be used.`,
    'ERR_CUDNN_RNN_CUDA_UNAVAILABLE');
}

let defaultDevice: Device = CPU;

/** The device new tensors and modules go to when none is given. */
export function getDefaultDevice(): Device {
  return defaultDevice;
}

/** Sets the default device ('cpu', 'cuda', 'cuda:N'). */
export function setDefaultDevice(device: string): void {
  defaultDevice = resolveDevice('setDefaultDevice', device);
}
