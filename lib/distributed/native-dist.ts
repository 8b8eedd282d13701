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
  distBroadcastBytes(bytes: Buffer, root: number): void;
  distNcclInfo(): NcclInfoNative;
  distNcclUniqueId(): Buffer;
  distNcclInit(id: Buffer, nranks: number, rank: number, device: number): void;
  distNcclAllReduce(...args: [...ViewArgs, number, number]): void;
  distNcclAllReduceAsync(...args: [...ViewArgs, number, number]): Promise<void>;
  distNcclBroadcast(...args: [...ViewArgs, number, number]): void;
  distNcclBroadcastAsync(...args: [...ViewArgs, number, number]): Promise<void>;
  distNcclDestroy(): void;
}

export interface NcclInfoNative {
  available: boolean;
  version: string;
  path: string;
  reason: string;
}

/** src/dist/nccl.h NcclOp. */
export const NCCL_OP_CODE = { sum: 0, max: 1, avg: 2 } as const;

export const dist = native as unknown as DistNative;

/** The codes binding/dist_binding.cc's reduce op takes (src/dist/mpi.h ReduceOp). */
export const REDUCE_OP_CODE = { sum: 0, max: 1 } as const;
