// What this machine offers: the addon, the CPU BLAS, and why an accelerator
// is or is not usable (lib/cuda.ts). Printed for people by `npx cudnn-rnn doctor`.
import * as fs from 'fs';
import * as path from 'path';

import { report } from './cuda';
import type { CudaVersions } from './cuda';
import { mpiInfo, ncclInfo } from './distributed/info';
import type { MpiInfo, NcclInfo } from './distributed/info';
import { native, packageRoot } from './native';

export interface LibraryInfo {
  /** Found and usable. */
  available: boolean;
  version: string;
  path: string;
  /** Why it is not available, or what to know about it ('' when all is well). */
  reason: string;
}

export interface BlasInfo extends LibraryInfo {
  vendor: string;
  /** The kernel family in use (e.g. OpenBLAS's Haswell/SkylakeX). */
  core: string;
  threads: number;
  /** Every library that was tried and failed, with the loader's message. */
  tried: string[];
}

export interface Versions {
  cudnnRnn: string;
  node: string;
  napi: number;
  blas: BlasInfo;
  /** The NVIDIA side: driver, runtime, cuDNN, cuBLAS, devices, and why 'cuda' is or is not usable. */
  cuda: CudaVersions;
  /** The MPI library distributed training would use (found at run time, not needed otherwise). */
  mpi: MpiInfo;
  /** NCCL, for distributed training between GPUs (found at run time, not needed otherwise). */
  nccl: NcclInfo;
}

export function versions(): Versions {
  const b = native.blasInfo();
  const pkg = JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string };
  return {
    cudnnRnn: pkg.version,
    node: process.versions.node,
    napi: native.napiVersion,
    blas: {
      available: b.vendor !== 'builtin',
      vendor: b.vendor,
      version: b.version,
      path: b.path,
      core: b.core,
      threads: b.threads,
      reason: b.reason,
      tried: b.tried.split('\n').filter((l) => l.length > 0),
    },
    cuda: report(),
    mpi: mpiInfo(),
    nccl: ncclInfo(),
  };
}
