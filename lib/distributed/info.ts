// What versions() and the doctor say about MPI: found at run time, never needed to install.
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
