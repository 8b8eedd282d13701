// Seeding the one process-wide generator (PyTorch's CPU mt19937 stream).
import { native } from './native';
import { typeError } from './errors';

/** Seeds like torch.manual_seed: the same seed gives the same rand/init values. */
export function manualSeed(seed: number | bigint): void {
  let s: bigint;
  if (typeof seed === 'bigint') {
    s = seed;
  } else if (typeof seed === 'number' && Number.isSafeInteger(seed)) {
    s = BigInt(seed);
  } else {
    throw typeError('manualSeed', 'seed', 'a safe integer or a bigint', seed);
  }
  // torch.manual_seed accepts [-2^63, 2^64) and wraps negatives to uint64.
  if (s < -(1n << 63n) || s >= 1n << 64n) {
    throw new RangeError(`manualSeed: Overflow when unpacking long: seed must be in [-2^63, 2^64), got ${s}`);
  }
  native.manualSeed(BigInt.asUintN(64, s));
}

/** The seed last set (or the default one), as a bigint. */
export function initialSeed(): bigint {
  return native.initialSeed();
}
