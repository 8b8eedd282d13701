// Native memory shared by tensor views. Views retain their Storage; the last
// release frees it at once (dispose/tidy are the main path). A
// FinalizationRegistry frees storages whose views were dropped without
// dispose(): a safety net only (DESIGN.md decision 6).
import { Device, deviceTypeCode } from './device';
import { native, StorageHandle } from './native';

interface Held {
  handle: StorageHandle;
  nbytes: number;
}

const counters = { storages: 0, bytes: 0, reclaimedByGc: 0 };

const registry = new FinalizationRegistry<Held>((held) => {
  native.storageFree(held.handle);
  counters.storages -= 1;
  counters.bytes -= held.nbytes;
  counters.reclaimedByGc += 1;
});

export class Storage {
  readonly handle: StorageHandle;
  readonly nbytes: number;
  readonly device: Device;
  /** Bumped by every in-place write so autograd can detect stale saved values. */
  version = 0;
  private refs = 0;
  private freed = false;

  private constructor(handle: StorageHandle, nbytes: number, device: Device) {
    this.handle = handle;
    this.nbytes = nbytes;
    this.device = device;
  }

  /** Memory on `device`, zero-filled unless `zero` is false (for outputs a kernel overwrites). */
  static alloc(nbytes: number, device: Device, zero = true): Storage {
    const handle = native.storageAlloc(nbytes, deviceTypeCode(device), device.index, zero);
    const storage = new Storage(handle, nbytes, device);
    counters.storages += 1;
    counters.bytes += nbytes;
    registry.register(storage, { handle, nbytes }, storage);
    return storage;
  }

  get isFreed(): boolean {
    return this.freed;
  }

  retain(): void {
    this.refs += 1;
  }

  release(): void {
    this.refs -= 1;
    if (this.refs <= 0) this.free();
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

export function storageCounters(): { storages: number; bytes: number; reclaimedByGc: number } {
  return { ...counters };
}
