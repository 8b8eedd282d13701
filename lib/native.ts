// The compiled addon, loaded once (native-load.ts: build/Release first, then
// prebuilds/<platform>-<arch>/). Everything native goes through here.
import * as fs from 'fs';
import * as path from 'path';

import type { CudaDiscovery } from './cuda';
import { loadAddon } from './native-load';

/** A storage handle: an opaque native External. */
export type StorageHandle = object & { readonly __storage: unique symbol };

/** A view as five positional arguments: handle, dtype code, offset, shape, strides. */
export type ViewArgs = [StorageHandle | null, number, number, number[], number[]];

export interface BlasInfoNative {
  vendor: string;
  version: string;
  path: string;
  core: string;
  config: string;
  threads: number;
  reason: string;
  tried: string;
}

/** binding/cuda_policy_binding.cc: src/cuda/rnn_policy.h's decisions. */
export interface CudaPolicyNative {
  rnnAlgo(query: Record<string, number | boolean>): number;
  algoName(algo: number): string;
  isNotSupported(cudnnMajor: number, status: number): boolean;
  passDevSeqLengths(cudnnMajor: number): boolean;
  libraryAllocFailure(lib: 'cudnn' | 'cublas', cudnnMajor: number, status: number): boolean;
  retryScript(lib: 'cudnn' | 'cublas', cudnnMajor: number, statuses: number[], releaseOk: boolean): { status: number; calls: number; releases: number; retried: boolean };
  weightCover(slots: Array<[number, number, number]>, total: number): { error: string; gaps: number };
}

/** What lib/cuda.ts asks src/cuda/discovery for (binding/cuda_binding.cc). */
export interface CudaDiscoverOptionsNative {
  cudnnPath: string;
  cublasPath: string;
  pythonSites: string[];
  /** false: the driver and devices only. */
  libraries: boolean;
  force: boolean;
}

/** [mode, dtype, inputSize, hiddenSize, numLayers, bidirectional, bias, allowTf32 (GPU), projSize (LSTM, 0 = none)] */
export type RnnConfigArray = [number, number, number, number, number, boolean, boolean, boolean, number];

export interface NativeBinding {
  storageAlloc(nbytes: number, deviceType: number, deviceIndex: number, zero: boolean): StorageHandle;
  storageFree(handle: StorageHandle): void;
  storageWrite(handle: StorageHandle, byteOffset: number, data: ArrayBufferView): void;
  storageRead(handle: StorageHandle, byteOffset: number, nbytes: number): ArrayBuffer;
  /** The same read on libuv's pool (a GPU read waits for the device there, not on the event loop). */
  storageReadAsync(handle: StorageHandle, byteOffset: number, nbytes: number): Promise<ArrayBuffer>;
  /** Bytes between two storages on any devices. */
  storageCopy(src: StorageHandle, srcByteOffset: number, dst: StorageHandle, dstByteOffset: number, nbytes: number): void;
  hostBytesLive(): number;
  hostBytesCached(): number;
  hostCacheRelease(): void;

  unary(op: number, ...views: unknown[]): void;
  binary(op: number, ...views: unknown[]): void;
  binaryScalar(op: number, ...args: unknown[]): void;
  axpy(...args: unknown[]): void;
  copy(...views: unknown[]): void;
  fill(...args: unknown[]): void;
  arange(...args: unknown[]): void;
  sum(...views: unknown[]): void;
  maxDim(...args: unknown[]): void;
  softmax(...args: unknown[]): void;
  softmaxBackward(...args: unknown[]): void;
  matmul(...views: unknown[]): void;
  indexSelectRows(...views: unknown[]): void;
  indexAddRows(...views: unknown[]): void;

  /** One cell step (lib/ops/cell.ts; binding/cell_binding.cc has the argument order). */
  cellForward(...args: unknown[]): void;
  cellBackward(...args: unknown[]): void;

  manualSeed(seed: bigint): void;
  initialSeed(): bigint;
  uniformFill(...args: unknown[]): void;
  normalFill(...args: unknown[]): void;
  bernoulliScaledFill(...args: unknown[]): void;

  /** [numel of the flat buffer, [offset, rows, cols] per parameter] for the backend of that device. */
  rnnWeightLayout(cfg: RnnConfigArray, deviceType: number, deviceIndex: number): [number, Array<[number, number, number]>];
  /** `dropout` as the training forward gets it: cuDNN keeps its masks in the reserve. */
  rnnReserveNumel(cfg: RnnConfigArray, seqLen: number | number[], batch: number, deviceType: number, deviceIndex: number, dropout: number): number;
  rnnForward(...args: unknown[]): void;
  rnnForwardAsync(...args: unknown[]): Promise<void>;
  rnnBackward(...args: unknown[]): void;
  /** Forward arguments then iterations: ms per cudnnRNNForward call alone (cuda tensors only). */
  rnnTimeRawForward(...args: unknown[]): number;

  blasInfo(): BlasInfoNative;
  cudaDiscover(options: CudaDiscoverOptionsNative): CudaDiscovery;
  cudnnStatusName(major: number, code: number): string;
  /** The one-time GPU self-test of device N (src/cuda/self_test.h); cached natively. */
  cudaSelfTest(device: number): { ok: boolean; step: string; reason: string };
  /** The cuDNN backend's GPU-free decisions (src/cuda/rnn_policy.h), for tests. */
  cudaPolicy: CudaPolicyNative;
  /** This addon was compiled with nvcc and carries the GPU backend. */
  cudaBuiltWithKernels: boolean;
  cudaMemoryStats(device: number): { allocated: number; reserved: number; peakAllocated: number; driverAllocs: number };
  cudaResetPeak(device: number): void;
  cudaEmptyCache(device: number): void;
  cudaSynchronize(device: number): void;
  cudaSetAllowTf32(allow: boolean): void;
  cudaGetAllowTf32(): boolean;
  gemmBench(dtype: number, n: number, repeats: number, builtin: boolean): number;
  napiVersion: number;
  /** The statically linked CUDA runtime (e.g. 13000), 0 in a CPU-only build. */
  cudaRuntimeVersion?: number;
}

/** The folder holding our package.json (lib/ in development, dist/cjs/ when built). */
export function packageRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`cudnn-rnn: cannot find the package root above ${__dirname}`);
    dir = parent;
  }
  return dir;
}

// node-gyp-build resolves the package root's build/ or prebuilds/ folder;
// native-load.ts words the error when nothing there loads.
export const native: NativeBinding = loadAddon<NativeBinding>(packageRoot());

/** Absent optional view: keeps argument positions fixed. */
export const NO_VIEW: ViewArgs = [null, 0, 0, [], []];
