// The GPU runtime controls of the `cuda` namespace, PyTorch's torch.cuda
// memory functions: what the caching allocator holds, emptyCache(),
// synchronize(), and the TF32 switch. Kept apart from lib/cuda.ts (discovery)
// because these resolve devices through lib/backend.ts, which needs discovery.
import { resolveDevice } from './backend';
import * as discovery from './cuda';
import { typeError } from './errors';
import { native } from './native';

export interface CudaMemoryStats {
  /** Bytes in tensors and buffers now in use (torch.cuda.memory_allocated). */
  allocated: number;
  /** Bytes held from the driver: in use plus cached for reuse (memory_reserved). */
  reserved: number;
  /** The high-water mark of `allocated` since start or resetPeakMemoryStats(). */
  peakAllocated: number;
  /** cudaMalloc calls so far: a training loop's steady state adds none. */
  driverAllocs: number;
}

/** 'cuda:N', 'cuda', N or undefined (device 0) to a device index, checked. */
function deviceIndex(where: string, device: unknown): number {
  if (device === undefined) return resolveDevice(where, 'cuda').index;
  if (typeof device === 'number') {
    if (!Number.isInteger(device) || device < 0) throw typeError(where, 'device', 'a device index, \'cuda\' or \'cuda:N\'', device);
    return resolveDevice(where, `cuda:${device}`).index;
  }
  const d = resolveDevice(where, device);
  if (d.type !== 'cuda') throw typeError(where, 'device', "a CUDA device ('cuda', 'cuda:N' or an index)", device);
  return d.index;
}

/** The caching allocator's figures for a device; zeros where CUDA is unusable. */
export function memoryStats(device?: number | string): CudaMemoryStats {
  if (!discovery.isAvailable()) return { allocated: 0, reserved: 0, peakAllocated: 0, driverAllocs: 0 };
  return native.cudaMemoryStats(deviceIndex('cuda.memoryStats', device));
}

export function memoryAllocated(device?: number | string): number {
  return memoryStats(device).allocated;
}

export function memoryReserved(device?: number | string): number {
  return memoryStats(device).reserved;
}

export function maxMemoryAllocated(device?: number | string): number {
  return memoryStats(device).peakAllocated;
}

export function resetPeakMemoryStats(device?: number | string): void {
  if (discovery.isAvailable()) native.cudaResetPeak(deviceIndex('cuda.resetPeakMemoryStats', device));
}

/** Returns the cached, unused blocks of every device to the driver (torch.cuda.empty_cache). */
export function emptyCache(): void {
  if (!discovery.isAvailable()) return;
  for (let i = 0; i < discovery.deviceCount(); ++i) native.cudaEmptyCache(i);
}

/**
 * Waits for every operation queued on the device; a GPU fault from earlier
 * asynchronous work is thrown here. Throws where CUDA is unusable, as PyTorch.
 */
export function synchronize(device?: number | string): void {
  native.cudaSynchronize(deviceIndex('cuda.synchronize', device));
}

/**
 * TF32 tensor cores for float32 RNNs and matmuls (Ampere and newer): faster,
 * with about 1e-3 relative error. Off by default so the GPU agrees with the
 * CPU to ~1e-5 (PyTorch's torch.backends.cudnn.allow_tf32 is on by default;
 * we follow its allow_tf32=False numerics, DESIGN.md decision 5).
 */
export function setAllowTF32(allow: boolean): void {
  if (typeof allow !== 'boolean') throw typeError('cuda.setAllowTF32', 'allow', 'a boolean', allow);
  native.cudaSetAllowTf32(allow);
}

export function getAllowTF32(): boolean {
  return native.cudaGetAllowTf32();
}

/** The public `cuda` namespace: discovery (lib/cuda.ts) and runtime controls. */
export const cuda = Object.freeze({
  isAvailable: discovery.isAvailable,
  deviceCount: discovery.deviceCount,
  devices: discovery.devices,
  discover: discovery.discover,
  backendHasKernels: discovery.backendHasKernels,
  cudnnStatusName: discovery.cudnnStatusName,
  memoryStats, memoryAllocated, memoryReserved, maxMemoryAllocated, resetPeakMemoryStats, emptyCache, synchronize,
  setAllowTF32, getAllowTF32,
});
