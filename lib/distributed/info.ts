// What versions() and the doctor say about MPI and NCCL: found at run time, never needed to install.
import { dist } from './native-dist';

export interface MpiInfo {
  available: boolean;
  /** 'Open MPI' or 'MPICH' (its ABI: how handles are passed). */
  flavor: string;
  version: string;
  path: string;
  /** Why it is not available, naming the package to install. */
  reason: string;
}

export function mpiInfo(): MpiInfo {
  return { ...dist.distMpiInfo() };
}

export interface NcclInfo {
  available: boolean;
  /** '2.18.3' (ncclGetVersion). */
  version: string;
  path: string;
  reason: string;
}

/** libnccl.so.2 from the system or a pip wheel's nvidia/nccl/lib (needed only for backend 'nccl'). */
export function ncclInfo(): NcclInfo {
  return { ...dist.distNcclInfo() };
}
