// Argument validation shared by every public function (DESIGN.md decision 7):
// errors name the argument, what was expected and what was given.

/** A short, safe description of any value for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : `${value}`;
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'boolean' || typeof value === 'symbol') return String(value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  const ctor = (value as { constructor?: { name?: string } }).constructor?.name;
  // A Tensor look-alike (Object.create(Tensor.prototype)) has no storage.
  if (ctor === 'Tensor') return '_storage' in (value as object) ? 'a Tensor' : 'an object posing as a Tensor (not made by cudnn-rnn)';
  return ctor ? `an instance of ${ctor}` : 'an object';
}

export function typeError(where: string, arg: string, expected: string, given: unknown): TypeError {
  return new TypeError(`${where}: expected ${arg} to be ${expected}, but got ${describe(given)}`);
}

export function rangeError(where: string, arg: string, expected: string, given: unknown): RangeError {
  return new RangeError(`${where}: expected ${arg} to be ${expected}, but got ${describe(given)}`);
}

/** An Error with a stable machine-readable code, like Node's own errors. */
export class CodedError extends Error {
  readonly code: string;
  constructor(message: string, code: string) {
    super(message);
    this.name = 'Error';
    this.code = code;
  }
}

export function checkInteger(where: string, arg: string, value: unknown, min = -Infinity, max = Infinity): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw typeError(where, arg, 'an integer', value);
  }
  if (value < min || value > max) {
    const bounds = max === Infinity ? `>= ${min}` : min === -Infinity ? `<= ${max}` : `in [${min}, ${max}]`;
    throw rangeError(where, arg, `an integer ${bounds}`, value);
  }
  return value;
}

/**
 * A number stored into an int32 tensor: truncated toward zero like PyTorch,
 * refused (PyTorch's message) when it is NaN, infinite or out of range.
 */
export function checkInt32Value(where: string, arg: string, value: number): number {
  const v = Math.trunc(value);
  if (!(v >= -2147483648 && v <= 2147483647)) {
    throw new RangeError(`${where}: ${arg} cannot be converted to type int32 without overflow: ${describe(value)}`);
  }
  return v;
}

export function checkNumber(where: string, arg: string, value: unknown): number {
  if (typeof value !== 'number') throw typeError(where, arg, 'a number', value);
  return value;
}

export function checkFiniteNumber(where: string, arg: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw typeError(where, arg, 'a finite number', value);
  return value;
}

export function checkBoolean(where: string, arg: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw typeError(where, arg, 'a boolean', value);
  return value;
}

export const MAX_DIMS = 16;

/** A shape: an array of non-negative integers (or a single integer for 1-D). */
export function checkShape(where: string, arg: string, value: unknown): number[] {
  const shape = typeof value === 'number' ? [value] : value;
  if (!Array.isArray(shape)) throw typeError(where, arg, 'an array of non-negative integers', value);
  if (shape.length > MAX_DIMS) throw rangeError(where, arg, `at most ${MAX_DIMS} dimensions`, value);
  for (const s of shape) {
    if (typeof s !== 'number' || !Number.isInteger(s) || s < 0) {
      const Ctor = typeof s === 'number' && Number.isInteger(s) ? RangeError : TypeError;
      throw new Ctor(`${where}: expected ${arg} to be an array of non-negative integers, but got [${shape.map((x) => describe(x)).join(', ')}]`);
    }
  }
  const numel = shape.reduce((a: number, b: number) => a * b, 1);
  if (numel > Number.MAX_SAFE_INTEGER / 8) throw rangeError(where, arg, 'a shape of addressable size', `[${shape.join(', ')}]`);
  return shape.slice();
}

/** Normalises a possibly negative dim like PyTorch, with PyTorch's message. */
export function normalizeDim(where: string, dim: unknown, ndim: number, arg = 'dim'): number {
  if (typeof dim !== 'number' || !Number.isInteger(dim)) throw typeError(where, arg, 'an integer', dim);
  const lo = ndim === 0 ? -1 : -ndim;
  const hi = ndim === 0 ? 0 : ndim - 1;
  if (dim < lo || dim > hi) {
    throw new RangeError(`${where}: Dimension out of range (expected to be in range of [${lo}, ${hi}], but got ${dim})`);
  }
  return dim < 0 ? dim + Math.max(ndim, 1) : dim;
}

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** Rejects option keys the function does not know, catching typos like {batch_first}. */
export function checkOptionKeys(where: string, options: object, known: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      const hint = known.find((k) => k.toLowerCase() === key.replace(/_/g, '').toLowerCase());
      throw new TypeError(`${where}: unknown option ${JSON.stringify(key)}${hint ? ` (did you mean ${JSON.stringify(hint)}?)` : ''}; known options: ${known.join(', ')}`);
    }
  }
}
