// Shared by the GPU suites (test/cuda-gpu*.test.ts): the skip guard, the
// parts of the `cuda` namespace the cuDNN backend adds, and tolerance-aware
// comparisons that report the worst element instead of a bare false.
//
// Every GPU suite runs only where `cuda.isAvailable()` is true (an NVIDIA
// GPU, a driver, cuDNN 9, cuBLAS, and a build with GPU kernels); elsewhere it
// is skipped and the reason is printed once per file.
import * as cr from '../../lib';
import type { Tensor } from '../../lib';

/** What `cuda.memoryStats()` returns (bytes; driverAllocs = cudaMalloc calls so far). */
export interface CudaMemoryStats {
  allocated: number;
  reserved: number;
  peakAllocated: number;
  driverAllocs: number;
}

type DeviceArg = string | number;

/**
 * The `cuda` namespace as the cuDNN backend exposes it (PyTorch's torch.cuda
 * names in camelCase). Typed here so the suites compile against lib/ before
 * and after the backend lands.
 */
export interface CudaApi {
  isAvailable(): boolean;
  deviceCount(): number;
  devices(): Array<{ index: number; name: string; totalMemory: number; computeCapability: string }>;
  synchronize(device?: DeviceArg): void;
  memoryAllocated(device?: DeviceArg): number;
  memoryReserved(device?: DeviceArg): number;
  maxMemoryAllocated(device?: DeviceArg): number;
  resetPeakMemoryStats(device?: DeviceArg): void;
  emptyCache(): void;
  memoryStats(device?: DeviceArg): CudaMemoryStats;
  setAllowTF32(flag: boolean): void;
  getAllowTF32(): boolean;
}

export const gpu = cr.cuda as unknown as CudaApi;

/** Tensor methods the backend adds (t.cuda()). */
export type CudaTensor = Tensor & { cuda(): Tensor };

/** Whether device 'cuda' can be used here. */
export const GPU_AVAILABLE: boolean = gpu.isAvailable();

/** Why the GPU suites are skipped ('' when they run). */
export function gpuSkipReason(): string {
  if (GPU_AVAILABLE) return '';
  const v = cr.versions().cuda;
  return v.reason || 'cuda.isAvailable() is false';
}

/**
 * `describe` on a usable GPU, else `describe.skip` after printing why (once
 * per file). `suite` names the file in the message.
 */
export function gpuDescribe(suite: string): jest.Describe {
  if (!GPU_AVAILABLE) {
    console.log(`${suite} skipped: device 'cuda' is not usable here: ${gpuSkipReason()}`);
    return describe.skip;
  }
  return describe;
}

// ---- comparisons ---------------------------------------------------------------

/**
 * A tolerance: an element passes when |actual - expected| <= max(abs,
 * rel * max(1, |expected|)). `rel` alone is the repository's "relative"
 * convention (test/rnn-conformance.test.ts): relative for |expected| >= 1,
 * absolute below that, so values that cancel to ~0 are not held to an
 * impossible bound.
 */
export interface Tol {
  abs?: number;
  rel?: number;
}

export function tolText(t: Tol): string {
  const parts: string[] = [];
  if (t.abs !== undefined) parts.push(`abs ${t.abs}`);
  if (t.rel !== undefined) parts.push(`rel ${t.rel} * max(1, |expected|)`);
  return parts.join(' or ');
}

/** Compares arrays element by element; returns failure lines (empty when all pass). */
export function compareArrays(what: string, a: ArrayLike<number>, e: ArrayLike<number>, tol: Tol): string[] {
  if (a.length !== e.length) return [`${what}: ${a.length} elements, expected ${e.length}`];
  let bad = 0;
  let worst = -1;
  let worstRatio = 0;
  for (let i = 0; i < e.length; ++i) {
    const err = Math.abs(a[i] - e[i]);
    const lim = Math.max(tol.abs ?? 0, (tol.rel ?? 0) * Math.max(1, Math.abs(e[i])));
    // NaN (in either) fails; identical infinities pass.
    if (!(err <= lim) && !(a[i] === e[i])) {
      bad += 1;
      const ratio = Number.isNaN(err) ? Infinity : err / Math.max(lim, Number.MIN_VALUE);
      if (ratio > worstRatio || worst < 0) {
        worstRatio = ratio;
        worst = i;
      }
    }
  }
  if (bad === 0) return [];
  return [`${what}: ${bad}/${e.length} elements off; worst at flat index ${worst}: got ${a[worst]}, expected ${e[worst]} ` +
    `(|diff| = ${Math.abs(a[worst] - e[worst]).toExponential(3)}, tolerance ${tolText(tol)})`];
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((s, i) => s === b[i]);
}

/**
 * Compares a tensor (any device) with a reference tensor (any device) or
 * plain values + shape: shape, dtype and values. Returns failure lines.
 */
export function compareTensors(what: string, actual: Tensor | null | undefined, expected: Tensor | { shape: readonly number[]; data: ArrayLike<number>; dtype?: string } | null | undefined, tol: Tol): string[] {
  if (expected === null || expected === undefined) {
    return actual === null || actual === undefined ? [] : [`${what}: expected none, got a tensor of shape [${actual.shape.join(', ')}]`];
  }
  if (actual === null || actual === undefined) return [`${what}: missing, expected shape [${expected.shape.join(', ')}]`];
  const fails: string[] = [];
  const eData = 'dataSync' in expected ? expected.dataSync() : expected.data;
  const eDtype = expected.dtype;
  if (eDtype !== undefined && actual.dtype !== eDtype) fails.push(`${what}: dtype ${actual.dtype}, expected ${eDtype}`);
  if (!sameShape(actual.shape, expected.shape)) {
    return [...fails, `${what}: shape [${actual.shape.join(', ')}], expected [${expected.shape.join(', ')}]`];
  }
  return [...fails, ...compareArrays(what, actual.dataSync(), eData, tol)];
}

/** Bitwise equality of two typed arrays (NaN payloads and -0 included); -1 when equal. */
export function firstBitDifference(a: ArrayLike<number> & { buffer: ArrayBufferLike; byteOffset: number; byteLength: number }, b: ArrayLike<number> & { buffer: ArrayBufferLike; byteOffset: number; byteLength: number }): number {
  if (a.byteLength !== b.byteLength) return 0;
  const ua = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const ub = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0; i < ua.length; ++i) if (ua[i] !== ub[i]) return i;
  return -1;
}

/** The largest |a - b| (NaN if either has a NaN where the other does not). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; ++i) {
    const d = Math.abs(a[i] - b[i]);
    if (Number.isNaN(d)) return NaN;
    m = Math.max(m, d);
  }
  return m;
}
