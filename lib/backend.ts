// Which backend serves a device, and the default device. The CPU backend is
// always present; the cuDNN backend is found at run time (DESIGN.md 1), and
// lib/cuda.ts says whether it can be used and why not.
import * as cuda from './cuda';
import { CPU, Device, deviceName, parseDevice } from './device';
import { CodedError, rangeError } from './errors';

const CUDA_UNAVAILABLE = 'ERR_CUDNN_RNN_CUDA_UNAVAILABLE';

// ---- 'cuda' on request --------------------------------------------------------

function checkCuda(where: string, device: Device): Device {
  const d = cuda.discover();
  // Discovery first; the self-test only for a device that exists.
  const found = cuda.unavailableCauses(d);
  const causes = found.length > 0 || device.index >= d.devices.length ? found : cuda.usableCauses(d, device.index);
  if (causes.length > 0) {
    throw new CodedError(
      `${where}: device ${deviceName(device)} is not available. Causes and fixes:\n${cuda.formatCauses(causes)}\n` +
        'Run `npx cudnn-rnn doctor` to see every place searched.',
      CUDA_UNAVAILABLE);
  }
  const count = cuda.deviceCount();
  if (device.index >= count) {
    throw rangeError(where, 'device', `cuda:0 to cuda:${count - 1} (${count} CUDA device(s) found)`, deviceName(device));
  }
  return device;
}

// ---- 'auto' --------------------------------------------------------------------

let autoDevice: Device | undefined;
let warned = false;

// CUDA when usable, else the CPU with one warning that says why. Machines
// with no NVIDIA driver (and users who hid every GPU) get no warning: for
// them the CPU is the expected outcome, and log noise is a complaint users
// of other GPU packages have (node-llama-cpp#572).
function resolveAuto(): Device {
  if (autoDevice !== undefined) return autoDevice;
  const probe = cuda.probe();
  if (!probe.driver.found || cuda.devicesHiddenByUser()) {
    autoDevice = CPU;
    return autoDevice;
  }
  // Without a device there is no need to map cuDNN just to report it.
  const d = probe.devices.length === 0 ? probe : cuda.discover();
  // With a device and every library found, the self-test decides (once).
  const causes = probe.devices.length === 0 ? cuda.unavailableCauses(d) : cuda.usableCauses(d, 0);
  autoDevice = causes.length === 0 ? Object.freeze({ type: 'cuda' as const, index: 0 }) : CPU;
  if (causes.length > 0 && !warned) {
    warned = true;
    process.emitWarning(
      `cudnn-rnn: device 'auto' runs on the CPU: ${causes.map((c) => c.reason).join('; ')}. ` +
        "Run `npx cudnn-rnn doctor` for details; setDefaultDevice('cpu') avoids this check.",
      { code: 'CUDNN_RNN_CPU_FALLBACK', detail: `Causes and fixes:\n${cuda.formatCauses(causes)}` });
  }
  return autoDevice;
}

// ---- Public -----------------------------------------------------------------------

/**
 * Parses a device argument and checks that a backend can serve it: 'cpu',
 * 'cuda', 'cuda:N', or 'auto' (CUDA when usable, else the CPU). Asking for
 * 'cuda' where it is unusable throws an error that lists the causes and fixes.
 */
export function resolveDevice(where: string, value: unknown): Device {
  if (value === 'auto') return resolveAuto();
  const device = parseDevice(where, value);
  if (device.type === 'cpu') return device;
  return checkCuda(where, device);
}

let defaultDevice: Device | 'auto' = 'auto';

/** The device new tensors and modules go to when none is given ('auto' resolved). */
export function getDefaultDevice(): Device {
  return defaultDevice === 'auto' ? resolveAuto() : defaultDevice;
}

/** Sets the default device: 'auto' (the default), 'cpu', 'cuda' or 'cuda:N'. */
export function setDefaultDevice(device: string): void {
  defaultDevice = device === 'auto' ? 'auto' : resolveDevice('setDefaultDevice', device);
}
