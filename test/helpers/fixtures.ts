// Loading test/fixtures/ops.json (written by test/fixtures/gen_ops.py from PyTorch) and
// comparing our tensors with PyTorch's values.
import * as fs from 'fs';
import * as path from 'path';
import * as cr from '../../lib';
import type { DType, Tensor } from '../../lib';

export type FixtureValue = number | 'nan' | 'inf' | '-inf';

export interface Encoded {
  values: FixtureValue[];
  shape: number[];
  dtype: DType;
}

export type PreOp = [string, ...unknown[]];

export interface FixtureInput extends Encoded {
  pre: PreOp[];
}

export interface OpCase {
  name: string;
  op: string;
  inputs: FixtureInput[];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  args: Record<string, any>;
  outs: Encoded[];
  upstream?: Encoded[];
  grads?: Array<Encoded | null>;
  note?: string;
}

export interface RandomCase {
  fn: 'rand' | 'randn' | 'rand_then';
  seed: number;
  shape?: number[];
  dtype?: DType;
  out?: Encoded;
  first?: Encoded;
  second?: Encoded;
}

export interface ArangeCase {
  args: number[];
  dtype: DType;
  out: Encoded;
}

export interface OpsFixture {
  torch: string;
  cases: OpCase[];
  arange: ArangeCase[];
  random: RandomCase[];
}

let cached: OpsFixture | null = null;
export function loadOpsFixture(): OpsFixture {
  if (cached === null) {
    const file = path.join(__dirname, '..', 'fixtures', 'ops.json');
    cached = JSON.parse(fs.readFileSync(file, 'utf8')) as OpsFixture;
  }
  return cached;
}

export function decodeValue(v: FixtureValue): number {
  if (v === 'nan') return NaN;
  if (v === 'inf') return Infinity;
  if (v === '-inf') return -Infinity;
  return v;
}

export function decodeValues(e: Encoded): number[] {
  return e.values.map(decodeValue);
}

export function typedFor(dtype: DType, values: number[]): Float32Array | Float64Array | Int32Array {
  if (dtype === 'float32') return Float32Array.from(values);
  if (dtype === 'float64') return Float64Array.from(values);
  return Int32Array.from(values);
}

/** Our tensor with exactly the fixture's values, shape and dtype. */
export function makeTensor(e: Encoded, requiresGrad = false): Tensor {
  return cr.tensor(typedFor(e.dtype, decodeValues(e)), { shape: e.shape, dtype: e.dtype, requiresGrad });
}

/** The view ops the fixture applies to an input before the op under test. */
export function applyPre(x: Tensor, pre: PreOp[]): Tensor {
  let t = x;
  for (const [name, ...a] of pre) {
    switch (name) {
      case 'permute': t = cr.permute(t, a[0] as number[]); break;
      case 't': t = cr.t(t); break;
      case 'transpose': t = cr.transpose(t, a[0] as number, a[1] as number); break;
      case 'narrow': t = cr.narrow(t, a[0] as number, a[1] as number, a[2] as number); break;
      case 'expand': t = cr.expand(t, a[0] as number[]); break;
      case 'select': t = cr.select(t, a[0] as number, a[1] as number); break;
      default: throw new Error(`unknown pre op ${name}`);
    }
  }
  return t;
}

/** Runs fixture op `op` with our API; always returns a list of outputs. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function runOp(op: string, ins: Tensor[], a: Record<string, any>): Tensor[] {
  const other = (): Tensor | number => (ins.length > 1 ? ins[1] : (a.scalar as number));
  const alpha = a.alpha !== undefined ? { alpha: a.alpha as number } : undefined;
  const x = ins[0];
  switch (op) {
    case 'add': return [cr.add(x, other(), alpha)];
    case 'sub': return [cr.sub(x, other(), alpha)];
    case 'mul': return [cr.mul(x, other())];
    case 'div': return [cr.div(x, other())];
    case 'pow': return [cr.pow(x, other())];
    case 'maximum': return [cr.maximum(x, ins[1])];
    case 'minimum': return [cr.minimum(x, ins[1])];
    case 'eq': return [cr.eq(x, other())];
    case 'ne': return [cr.ne(x, other())];
    case 'lt': return [cr.lt(x, other())];
    case 'le': return [cr.le(x, other())];
    case 'gt': return [cr.gt(x, other())];
    case 'ge': return [cr.ge(x, other())];
    case 'neg': return [cr.neg(x)];
    case 'exp': return [cr.exp(x)];
    case 'log': return [cr.log(x)];
    case 'tanh': return [cr.tanh(x)];
    case 'sigmoid': return [cr.sigmoid(x)];
    case 'relu': return [cr.relu(x)];
    case 'abs': return [cr.abs(x)];
    case 'sqrt': return [cr.sqrt(x)];
    case 'square': return [cr.square(x)];
    case 'clamp': return [cr.clamp(x, a.min, a.max)];
    case 'sum': return [cr.sum(x, a.dim, a.keepdim ?? false)];
    case 'mean': return [cr.mean(x, a.dim, a.keepdim ?? false)];
    case 'amax': return [cr.amax(x, a.dim, a.keepdim ?? false)];
    case 'argmax': return [cr.argmax(x, a.dim, a.keepdim ?? false)];
    case 'softmax': return [cr.softmax(x, a.dim)];
    case 'logSoftmax': return [cr.logSoftmax(x, a.dim)];
    case 'matmul': return [cr.matmul(x, ins[1])];
    case 'reshape': return [cr.reshape(x, a.shape)];
    case 'view': return [cr.view(x, a.shape)];
    case 'flatten': return [cr.flatten(x, a.startDim ?? 0, a.endDim ?? -1)];
    case 'permute': return [cr.permute(x, a.dims)];
    case 'transpose': return [cr.transpose(x, a.dim0, a.dim1)];
    case 't': return [cr.t(x)];
    case 'select': return [cr.select(x, a.dim, a.index)];
    case 'narrow': return [cr.narrow(x, a.dim, a.start, a.length)];
    case 'squeeze': return [cr.squeeze(x, a.dim)];
    case 'unsqueeze': return [cr.unsqueeze(x, a.dim)];
    case 'expand': return [cr.expand(x, a.shape)];
    case 'cat': return [cr.cat(ins, a.dim)];
    case 'stack': return [cr.stack(ins, a.dim)];
    case 'chunk': return cr.chunk(x, a.chunks, a.dim);
    case 'split': return cr.split(x, a.splitSize, a.dim);
    case 'unbind': return cr.unbind(x, a.dim);
    case 'indexSelect': {
      const idx = cr.tensor(Int32Array.from(a.index as number[]), { dtype: 'int32' });
      return [cr.indexSelect(x, a.dim, idx as Tensor<'int32'>)];
    }
    case 'contiguous': return [cr.contiguous(x)];
    case 'clone': return [cr.clone(x)];
    case 'to': return [cr.to(x, a.dtype)];
    default: throw new Error(`unknown op ${op}`);
  }
}

export interface Tolerance {
  /** |actual - expected| <= tol * max(1, |expected|) */
  tol: number;
}

/** Floating point tolerance of the suite (see the task brief): mixed absolute/relative. */
export function toleranceFor(dtype: DType, transcendental: boolean): number {
  if (dtype === 'float64') return 1e-10;
  if (dtype === 'float32') return transcendental ? 2e-6 : 1e-6;
  return 0;
}

function fmt(v: number): string {
  return Object.is(v, -0) ? '-0' : String(v);
}

/**
 * Compares values (NaN matches NaN, infinities must match exactly, int32 exactly);
 * returns a description of the first mismatches or null when all match.
 */
export function compareValues(actual: ArrayLike<number>, expected: number[], tol: number): string | null {
  if (actual.length !== expected.length) return `length ${actual.length}, expected ${expected.length}`;
  const bad: string[] = [];
  for (let i = 0; i < expected.length; ++i) {
    const a = actual[i];
    const b = expected[i];
    let ok: boolean;
    if (Number.isNaN(b)) ok = Number.isNaN(a);
    else if (!Number.isFinite(b)) ok = a === b;
    else ok = Number.isFinite(a) && Math.abs(a - b) <= tol * Math.max(1, Math.abs(b));
    if (!ok) {
      bad.push(`[${i}] got ${fmt(a)}, expected ${fmt(b)}${Number.isFinite(a) && Number.isFinite(b) ? ` (diff ${Math.abs(a - b).toExponential(2)})` : ''}`);
      if (bad.length >= 6) break;
    }
  }
  return bad.length === 0 ? null : bad.join('; ');
}

/** Asserts dtype, shape and values of `actual` against an encoded torch result. */
export function expectMatches(actual: Tensor, expected: Encoded, tol: number, what: string): void {
  const problems: string[] = [];
  if (actual.dtype !== expected.dtype) problems.push(`dtype ${actual.dtype}, expected ${expected.dtype}`);
  if (JSON.stringify(actual.shape) !== JSON.stringify(expected.shape)) {
    problems.push(`shape [${actual.shape.join(', ')}], expected [${expected.shape.join(', ')}]`);
  } else {
    const v = compareValues(actual.dataSync(), decodeValues(expected), expected.dtype === 'int32' ? 0 : tol);
    if (v !== null) problems.push(`values: ${v}`);
  }
  if (problems.length > 0) throw new Error(`${what}: ${problems.join('; ')}`);
}
