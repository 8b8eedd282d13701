// The addon's distributed calls (binding/dist_binding.cc), typed here so
// that lib/native.ts stays as it is.
import type { ViewArgs } from '../native';
import { native } from '../native';

export interface MpiInfoNative {
  available: boolean;
  flavor: string;
  version: string;
  path: string;
  reason: string;
}

export interface DistNative {
  distMpiInfo(): MpiInfoNative;
  distMpiInit(): [number, number];
  distMpiInitialized(): boolean;
  distAllReduce(...args: [...ViewArgs, number]): void;
  distAllReduceAsync(...args: [...ViewArgs, number]): Promise<void>;
  distBroadcast(...args: [...ViewArgs, number]): void;
  distBroadcastAsync(...args: [...ViewArgs, number]): Promise<void>;
  distBarrier(): void;
  distBarrierAsync(): Promise<void>;
  distAbort(code: number): void;
  distFinalize(): void;
}

export const dist = native as unknown as DistNative;

/** The codes binding/dist_binding.cc's reduce op takes (src/dist/mpi.h ReduceOp). */
export const REDUCE_OP_CODE = { sum: 0, max: 1 } as const;
