// Devices. 'cpu' always works; 'cuda'/'cuda:N' need the cuDNN backend, which
// reports why it is unusable instead of failing to load (DESIGN.md decision 1).
import { typeError } from './errors';

export type DeviceType = 'cpu' | 'cuda';

export interface Device {
  readonly type: DeviceType;
  readonly index: number;
}

/** What users pass: 'cpu', 'cuda', 'cuda:1', or 'auto' for the default device. */
export type DeviceLike = string | Device;

export const CPU: Device = Object.freeze({ type: 'cpu', index: 0 });

export function deviceName(device: Device): string {
  return device.type === 'cpu' ? 'cpu' : `cuda:${device.index}`;
}

export function sameDevice(a: Device, b: Device): boolean {
  return a.type === b.type && a.index === b.index;
}

/** The numeric device type of src/core/storage.h. */
export function deviceTypeCode(device: Device): number {
  return device.type === 'cpu' ? 0 : 1;
}

/** Parses a device string; availability is checked by the backend that serves it. */
export function parseDevice(where: string, value: unknown): Device {
  if (typeof value === 'object' && value !== null && 'type' in value && 'index' in value) {
    const d = value as Device;
    if ((d.type === 'cpu' || d.type === 'cuda') && Number.isInteger(d.index) && d.index >= 0) return d;
  }
  if (typeof value !== 'string') throw typeError(where, 'device', "'cpu', 'cuda' or 'cuda:N'", value);
  if (value === 'cpu') return CPU;
  const m = /^cuda(?::(\d+))?$/.exec(value);
  if (m) return Object.freeze({ type: 'cuda' as const, index: m[1] === undefined ? 0 : Number(m[1]) });
  throw typeError(where, 'device', "'cpu', 'cuda' or 'cuda:N'", value);
}
