// Tensor lifetimes: live counts for memory(), and tidy() scopes that dispose
// what a function created except what it returns (TensorFlow.js semantics).
import { native } from './native';
import { noteTensorCreated, noteTensorDisposed, storageCounters } from './storage';
import type { Tensor } from './tensor';

const scopes: Array<Set<Tensor>> = [];

/** Called by the Tensor constructor. */
export function trackTensor(t: Tensor): void {
  noteTensorCreated(t);
  const scope = scopes[scopes.length - 1];
  if (scope !== undefined) scope.add(t);
}

/** Called by Tensor.dispose(). */
export function untrackTensor(t: Tensor): void {
  noteTensorDisposed(t);
  const scope = scopes[scopes.length - 1];
  if (scope !== undefined) scope.delete(t);
}

/** Exempts a tensor from the enclosing tidy() scopes (parameters, optimizer state). */
export function keep<T extends Tensor>(t: T): T {
  for (const scope of scopes) scope.delete(t);
  return t;
}

/**
 * A method under this key makes an object's tensors count as part of a tidy()
 * result (the class instances of the library that hold tensors, such as
 * nn.utils.rnn.PackedSequence); tidy() does not look inside other class instances.
 */
export const HELD_TENSORS: unique symbol = Symbol.for('cudnn-rnn.heldTensors');

export interface HoldsTensors {
  [HELD_TENSORS](): Tensor[];
}

function collectTensors(value: unknown, out: Set<Tensor>, seen: Set<unknown>, isTensor: (v: unknown) => v is Tensor): void {
  if (value === null || typeof value !== 'object' || seen.has(value)) return;
  seen.add(value);
  if (isTensor(value)) {
    out.add(value);
    return;
  }
  const held = (value as Partial<HoldsTensors>)[HELD_TENSORS];
  if (typeof held === 'function') {
    for (const t of held.call(value)) collectTensors(t, out, seen, isTensor);
    return;
  }
  if (Array.isArray(value)) {
    for (const v of value) collectTensors(v, out, seen, isTensor);
  } else if (value instanceof Map) {
    for (const v of value.values()) collectTensors(v, out, seen, isTensor);
  } else if (Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collectTensors(v, out, seen, isTensor);
  }
}

let isTensorFn: ((v: unknown) => v is Tensor) | null = null;
/** tensor.ts registers its instanceof check here to avoid an import cycle. */
export function registerTensorCheck(fn: (v: unknown) => v is Tensor): void {
  isTensorFn = fn;
}

/**
 * Runs `fn` and disposes every tensor it created, except the tensors in its
 * result (found in arrays, Maps, plain objects and objects holding tensors, such as
 * a PackedSequence) and tensors passed to keep().
 * `fn` must be synchronous: tidy cannot follow tensors across an await.
 */
export function tidy<R>(fn: () => R): R;
export function tidy<R>(name: string, fn: () => R): R;
export function tidy<R>(nameOrFn: string | (() => R), maybeFn?: () => R): R {
  const fn = typeof nameOrFn === 'function' ? nameOrFn : maybeFn;
  if (typeof fn !== 'function') {
    throw new TypeError(`tidy: expected fn to be a function, but got ${fn === undefined ? 'undefined' : typeof fn}`);
  }
  const scope = new Set<Tensor>();
  scopes.push(scope);
  let result: R;
  try {
    result = fn();
  } catch (err) {
    scopes.pop();
    for (const t of scope) t.dispose();
    throw err;
  }
  scopes.pop();
  if (result instanceof Promise) {
    // The work already started goes on without its tensors; its outcome is
    // nobody's (the caller gets this TypeError), so it must not surface as an
    // unhandled rejection that would end the process.
    result.catch(() => undefined);
    for (const t of scope) t.dispose();
    throw new TypeError('tidy: fn must not return a Promise; tidy cannot track tensors across await');
  }
  const kept = new Set<Tensor>();
  if (isTensorFn !== null) collectTensors(result, kept, new Set(), isTensorFn);
  const parent = scopes[scopes.length - 1];
  for (const t of scope) {
    if (kept.has(t)) {
      if (parent !== undefined) parent.add(t);
    } else {
      t.dispose();
    }
  }
  return result;
}

export interface MemoryInfo {
  /** Tensors created and neither disposed nor reclaimed by the garbage collector. */
  numTensors: number;
  /** Native storages alive (views share one). */
  numStorages: number;
  /** Bytes held by those storages. */
  numBytes: number;
  /** Host bytes the native allocator holds (equals numBytes for CPU-only use). */
  hostBytes: number;
  /** Storages freed by the garbage collector because nobody disposed them. */
  reclaimedByGc: number;
  /** Freed large host blocks kept for reuse (see releaseCachedMemory()). */
  hostCachedBytes: number;
}

export function memory(): MemoryInfo {
  const s = storageCounters();
  return {
    numTensors: s.tensors, numStorages: s.storages, numBytes: s.bytes, hostBytes: native.hostBytesLive(),
    reclaimedByGc: s.reclaimedByGc, hostCachedBytes: native.hostBytesCached(),
  };
}

/** Returns the cached freed host blocks to the system (CUDNN_RNN_HOST_CACHE_MB bounds the cache). */
export function releaseCachedMemory(): void {
  native.hostCacheRelease();
}
