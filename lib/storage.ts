// Native memory shared by tensor views. Views retain their Storage; the last
// release frees it at once (dispose/tidy are the main path). A
// FinalizationRegistry frees storages whose views were dropped without
// dispose(): a safety net (DESIGN.md decision 6) that reclaim.ts makes work
// under memory pressure, even inside a loop that never yields.
import { Device, deviceTypeCode } from './device';
import { CodedError } from './errors';
import { native, StorageHandle } from './native';
import { PRESSURE_BYTES, reclaimTools } from './reclaim';

/** What the registry needs after the Storage is gone (no reference back to it). */
interface Held {
  handle: StorageHandle;
  nbytes: number;
  /** Retains (tensor views, pending async reads) not yet released. */
  views: number;
}

const counters = { storages: 0, bytes: 0, reclaimedByGc: 0, tensors: 0 };

const registry = reclaimTools.registry<Held>((held) => {
  native.storageFree(held.handle);
  counters.storages -= 1;
  counters.bytes -= held.nbytes;
  counters.reclaimedByGc += 1;
});

// Tensors are counted on their own: a view dropped without dispose() is
// collected while its storage may live on (a parameter's detach()), and
// memory().numTensors must not count it forever.
const tensorRegistry = reclaimTools.registry<0>(() => {
  counters.tensors -= 1;
});

/** Counts a new tensor (memory.ts) until dispose() or the garbage collector. */
export function noteTensorCreated(t: object): void {
  counters.tensors += 1;
  tensorRegistry.register(t, 0, t);
}

export function noteTensorDisposed(t: object): void {
  counters.tensors -= 1;
  tensorRegistry.unregister(t);
}

let allocatedSinceReclaim = 0;
let survivedLastReclaim = 0;

/** Collects and frees unreachable storages now (see reclaim.ts). */
export function reclaimNow(): void {
  reclaimTools.gc?.();
  registry.cleanupSome?.();
  tensorRegistry.cleanupSome?.();
  allocatedSinceReclaim = 0;
  survivedLastReclaim = counters.bytes;
}

/**
 * What a storage costs besides its bytes: the Tensor and Storage objects,
 * registry cells and the native header. Forgotten tiny tensors must add up
 * to pressure too, or millions of them would never trigger a reclaim.
 */
const BOOKKEEPING_BYTES = 1024;
/** Pending finalizations V8's own collections found are run this often (cheap when there are none). */
const CLEANUP_EVERY = 4096;
let allocationsSinceCleanup = 0;

function notePressure(nbytes: number): void {
  if (PRESSURE_BYTES === 0) return;
  allocatedSinceReclaim += nbytes + BOOKKEEPING_BYTES;
  if (allocatedSinceReclaim > Math.max(PRESSURE_BYTES, survivedLastReclaim)) {
    reclaimNow();
  } else if (++allocationsSinceCleanup >= CLEANUP_EVERY) {
    allocationsSinceCleanup = 0;
    registry.cleanupSome?.();
    tensorRegistry.cleanupSome?.();
  }
}

function isOutOfMemory(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === 'ERR_CUDNN_RNN_OUT_OF_MEMORY';
}

export class Storage {
  readonly handle: StorageHandle;
  readonly nbytes: number;
  readonly device: Device;
  /** Bumped by every in-place write so autograd can detect stale saved values. */
  version = 0;
  private readonly held: Held;
  private freed = false;

  private constructor(handle: StorageHandle, nbytes: number, device: Device) {
    this.handle = handle;
    this.nbytes = nbytes;
    this.device = device;
    this.held = { handle, nbytes, views: 0 };
  }

  /**
   * Memory on `device`, zero-filled unless `zero` is false (for outputs a
   * kernel overwrites). `what` describes the allocation for an out-of-memory
   * error (e.g. "a float32 tensor of shape [2, 3]").
   */
  static alloc(nbytes: number, device: Device, zero = true, what?: string): Storage {
    notePressure(nbytes);
    let handle: StorageHandle;
    try {
      handle = native.storageAlloc(nbytes, deviceTypeCode(device), device.index, zero);
    } catch (err) {
      if (!isOutOfMemory(err)) throw err;
      // Forgotten tensors may be what stands in the way: reclaim and try once more.
      reclaimNow();
      try {
        handle = native.storageAlloc(nbytes, deviceTypeCode(device), device.index, zero);
      } catch (again) {
        if (!isOutOfMemory(again) || what === undefined) throw again;
        throw new CodedError(`cannot allocate ${what}: ${nbytes} bytes (${(again as Error).message})`, 'ERR_CUDNN_RNN_OUT_OF_MEMORY');
      }
    }
    const storage = new Storage(handle, nbytes, device);
    counters.storages += 1;
    counters.bytes += nbytes;
    registry.register(storage, storage.held, storage);
    return storage;
  }

  get isFreed(): boolean {
    return this.freed;
  }

  retain(): void {
    this.held.views += 1;
  }

  release(): void {
    this.held.views -= 1;
    if (this.held.views <= 0) this.free();
  }

  private free(): void {
    if (this.freed) return;
    this.freed = true;
    registry.unregister(this);
    native.storageFree(this.handle);
    counters.storages -= 1;
    counters.bytes -= this.nbytes;
  }
}

export function storageCounters(): { storages: number; bytes: number; reclaimedByGc: number; tensors: number } {
  return { ...counters };
}
