// safetensors: round trips of every dtype and shape, byte-identity with the
// Python package's writer, files written by PyTorch (incl. converted dtypes and
// a torch GRU's weights), a GRU state dict through a file, and a table of
// malformed or truncated inputs that must each be refused with
// ERR_CUDNN_RNN_SAFETENSORS and a message saying what is wrong, without
// allocating what a lying header claims. Reference files: the "safetensors"
// section of test/fixtures/layers.json (test/fixtures/gen_layers.py).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as cr from '../lib';
import type { Tensor } from '../lib';
import * as st from '../lib/io/safetensors';
import { compareValues, decodeValues, Encoded, makeTensor } from './helpers/fixtures';

interface FileFixture {
  name: string;
  base64: string;
  metadata: Record<string, string> | null;
  loadable: boolean;
  tensors?: Record<string, Encoded>;
}

const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'layers.json'), 'utf8')) as {
  safetensors: { writer: string; files: FileFixture[]; gru: { file: string; input: Encoded; output: Encoded; hN: Encoded } };
};
const files = new Map(fixture.safetensors.files.map((f) => [f.name, f]));
const bytesOf = (name: string): Buffer => Buffer.from((files.get(name) as FileFixture).base64, 'base64');

let dir = '';
beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cudnn-rnn-st-')); });
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
let counter = 0;
function tmpFile(bytes?: Uint8Array): string {
  const file = path.join(dir, `t${counter++}.safetensors`);
  if (bytes !== undefined) fs.writeFileSync(file, bytes);
  return file;
}

function sameBits(a: Tensor, b: Tensor): boolean {
  if (a.dtype !== b.dtype || a.shape.length !== b.shape.length || a.shape.some((s, i) => s !== b.shape[i])) return false;
  const x = a.dataSync();
  const y = b.dataSync();
  return x.length === y.length && x.every((v, i) => Object.is(v, y[i]));
}

function expectExact(actual: Tensor, expected: Encoded, what: string): void {
  expect({ what, dtype: actual.dtype, shape: actual.shape }).toEqual({ what, dtype: expected.dtype, shape: expected.shape });
  const want = decodeValues(expected).map((v) => (expected.dtype === 'float32' ? Math.fround(v) : v));
  const got = Array.from(actual.dataSync());
  const bad = want.findIndex((v, i) => !Object.is(v, got[i]));
  if (bad >= 0) throw new Error(`${what}: element ${bad} is ${got[bad]}, expected ${want[bad]}`);
}

/** A file made of a header object (as JSON text or value) and `data` bytes. */
function craft(header: unknown, data: Uint8Array | number = 0, options: { length?: bigint; pad?: boolean } = {}): Buffer {
  const text = typeof header === 'string' ? header : JSON.stringify(header);
  let json = Buffer.from(text, 'utf8');
  if (options.pad !== false) json = Buffer.concat([json, Buffer.alloc((8 - (json.length % 8)) % 8, 0x20)]);
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(options.length ?? BigInt(json.length));
  return Buffer.concat([prefix, json, typeof data === 'number' ? Buffer.alloc(data) : data]);
}

describe('round trips', () => {
  test('every dtype and shape, bit for bit: 0-d, empty, N-D, views, special values', () => {
    cr.tidy(() => {
      const tensors: Record<string, Tensor> = {
        scalar64: cr.tensor(-2.5, { dtype: 'float64' }),
        special: cr.tensor(new Float64Array([NaN, -0, Infinity, -Infinity, 5e-324, Number.MAX_VALUE])),
        f32: cr.tensor(new Float32Array([1.1, -0, NaN, 3.4e38]), { shape: [2, 2] }),
        ints: cr.tensor(Int32Array.from([-2147483648, 2147483647, 0, -1, 7, 8]), { shape: [3, 1, 2] }),
        empty: cr.zeros([0, 4]),
        empty3: cr.zeros([2, 0, 3], { dtype: 'int32' }),
        scalarInt: cr.tensor(Int32Array.from([42]), { dtype: 'int32', shape: [] }),
        transposed: cr.transpose(cr.arange(0, 12, { dtype: 'float64' }).reshape(3, 4), 0, 1),
        narrowed: cr.narrow(cr.arange(0, 10), 0, 3, 4),
        big: cr.randn([5, 7, 3, 2]),
      };
      const buf = st.serialize(tensors, { metadata: { format: 'pt', note: 'ünïcode ✓' } });
      const back = st.deserialize(buf);
      expect(Object.keys(back).sort()).toEqual(Object.keys(tensors).sort());
      for (const [name, t] of Object.entries(tensors)) expect({ name, same: sameBits(back[name], t) }).toEqual({ name, same: true });
      expect(back.transposed.isContiguous).toBe(true);
      expect(st.deserializeMetadata(buf)).toEqual({ format: 'pt', note: 'ünïcode ✓' });

      const file = tmpFile();
      st.save(tensors, file, { metadata: { format: 'pt' } });
      expect(fs.readFileSync(file).equals(st.serialize(tensors, { metadata: { format: 'pt' } }))).toBe(true);
      const loaded = st.load(file, { device: 'cpu' });
      for (const [name, t] of Object.entries(tensors)) expect({ name, same: sameBits(loaded[name], t) }).toEqual({ name, same: true });
      expect(st.loadMetadata(file)).toEqual({ format: 'pt' });
    });
  });

  test('the header is 8-byte aligned, space-padded, and orders tensors like the package (F64, F32, I32, then name)', () => {
    cr.tidy(() => {
      const buf = st.serialize({ b: cr.zeros([1]), a: cr.zeros([1], { dtype: 'int32' }), c: cr.zeros([1], { dtype: 'float64' }), a2: cr.zeros([2]) });
      const n = Number(buf.readBigUInt64LE(0));
      expect(n % 8).toBe(0);
      const header = buf.subarray(8, 8 + n).toString('utf8');
      expect(header).toBe(`${'{"c":{"dtype":"F64","shape":[1],"data_offsets":[0,8]},"a2":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},'
        + '"b":{"dtype":"F32","shape":[1],"data_offsets":[16,20]},"a":{"dtype":"I32","shape":[1],"data_offsets":[20,24]}}'}`.padEnd(n, ' '));
      expect(buf.length).toBe(8 + n + 24);
      expect(st.deserializeMetadata(buf)).toBeNull();
    });
  });

  test('names that are not plain identifiers survive ("__proto__", integers, unicode)', () => {
    cr.tidy(() => {
      const tensors: Record<string, Tensor> = {};
      for (const [i, name] of ['__proto__', '10', '2', 'a.b', 'ünï', ''].entries()) {
        Object.defineProperty(tensors, name, { value: cr.full([1], i), enumerable: true });
      }
      const back = st.deserialize(st.serialize(tensors));
      expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
      expect(Object.keys(back).sort()).toEqual(Object.keys(tensors).sort());
      expect(Object.prototype.hasOwnProperty.call(back, '__proto__')).toBe(true);
      for (const name of Object.keys(tensors)) expect(back[name].item()).toBe(tensors[name].item());
    });
  });

  test('a GRU state dict saved and loaded into a fresh GRU gives identical outputs', () => {
    cr.tidy(() => {
      cr.manualSeed(1);
      const gru = new cr.nn.GRU(3, 5, { numLayers: 2, bidirectional: true });
      const file = tmpFile();
      st.save(gru.stateDict(), file);
      cr.manualSeed(2);
      const fresh = new cr.nn.GRU(3, 5, { numLayers: 2, bidirectional: true });
      const x = cr.randn([4, 2, 3]);
      expect(sameBits(fresh.forward(x)[0], gru.forward(x)[0])).toBe(false);
      expect(fresh.loadStateDict(st.load(file))).toEqual({ missingKeys: [], unexpectedKeys: [] });
      const [y1, h1] = gru.forward(x);
      const [y2, h2] = fresh.forward(x);
      expect(sameBits(y1, y2)).toBe(true);
      expect(sameBits(h1, h2)).toBe(true);
      gru.dispose();
      fresh.dispose();
    });
  });

  test('argument errors', () => {
    cr.tidy(() => {
      const t = cr.zeros([1]);
      expect(() => st.serialize({ __metadata__: t })).toThrow(/"__metadata__" is reserved/);
      expect(() => st.serialize({ a: [1, 2] as never })).toThrow(TypeError);
      expect(() => st.serialize(t as never)).toThrow(/an object mapping names to Tensors/);
      expect(() => st.serialize(new Map([['a', t]]) as never)).toThrow(/an object mapping names to Tensors/);
      expect(() => st.serialize({ a: t }, { metadata: { v: 1 as never } })).toThrow(/options.metadata\["v"\] to be a string/);
      expect(() => st.serialize({ a: t }, { meta: {} } as never)).toThrow(/unknown option "meta"/);
      const gone = cr.zeros([1]);
      gone.dispose();
      expect(() => st.serialize({ gone })).toThrow(/disposed/);
      expect(() => st.deserialize('abc' as never)).toThrow(TypeError);
      expect(() => st.load(path.join(dir, 'missing.safetensors'))).toThrow(/ENOENT/);
    });
  });
});

describe(`files written by PyTorch (${fixture.safetensors.writer})`, () => {
  test.each(fixture.safetensors.files.filter((f) => f.loadable).map((f) => [f.name, f] as const))('%s', (_, f) => {
    cr.tidy(() => {
      const buf = Buffer.from(f.base64, 'base64');
      const tensors = f.tensors as Record<string, Encoded>;
      for (const loaded of [st.deserialize(buf), st.load(tmpFile(buf))]) {
        expect(Object.keys(loaded).sort()).toEqual(Object.keys(tensors).sort());
        for (const [name, e] of Object.entries(tensors)) expectExact(loaded[name], e, name);
      }
      expect(st.deserializeMetadata(buf)).toEqual(f.metadata);
    });
  });

  test('bytes at an odd offset of a larger buffer (converted dtypes read through unaligned views)', () => {
    cr.tidy(() => {
      const f = files.get('converted dtypes') as FileFixture;
      for (const shift of [1, 3, 5]) {
        const bytes = Buffer.concat([Buffer.alloc(shift), bytesOf(f.name)]).subarray(shift);
        expect(bytes.byteOffset % 8).not.toBe(0);
        const loaded = st.deserialize(bytes);
        for (const [name, e] of Object.entries(f.tensors as Record<string, Encoded>)) expectExact(loaded[name], e, `${name} (shift ${shift})`);
      }
    });
  });

  test.each(['basic', 'no metadata', 'empty dict', 'empty dict with metadata', 'names', 'torch GRU'])('our writer reproduces the bytes of "%s"', (name) => {
    cr.tidy(() => {
      const f = files.get(name) as FileFixture;
      const tensors: Record<string, Tensor> = {};
      for (const [k, e] of Object.entries(f.tensors as Record<string, Encoded>)) Object.defineProperty(tensors, k, { value: makeTensor(e), enumerable: true });
      expect(st.serialize(tensors, { metadata: f.metadata }).equals(bytesOf(name))).toBe(true);
    });
  });

  test('a torch GRU\'s weights give torch\'s outputs', () => {
    cr.tidy(() => {
      const g = fixture.safetensors.gru;
      const gru = new cr.nn.GRU(3, 4, { numLayers: 2, dtype: 'float64' });
      gru.loadStateDict(st.deserialize(bytesOf(g.file)));
      const [y, h] = gru.forward(makeTensor(g.input));
      for (const [got, want] of [[y, g.output], [h, g.hN]] as const) {
        const problem = compareValues(got.dataSync(), decodeValues(want), 1e-10);
        if (problem !== null) throw new Error(problem);
      }
      gru.dispose();
    });
  });

  test('an I64 value that does not fit in int32 is refused, naming the tensor and the value', () => {
    const err = catchError(() => st.deserialize(bytesOf('I64 too wide')));
    expect(err.code).toBe('ERR_CUDNN_RNN_SAFETENSORS');
    expect(err.message).toMatch(/tensor "ids" \(I64\) holds 1099511627776 at element 1, which does not fit in int32/);
  });
});

function catchError(fn: () => unknown): Error & { code?: string } {
  try {
    fn();
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected an error');
}

const f32 = (shape: number[], begin: number, end: number): unknown => ({ dtype: 'F32', shape, data_offsets: [begin, end] });
const valid = craft({ a: f32([2], 0, 8), b: f32([1], 8, 12) }, 12);

const MALFORMED: Array<[string, Uint8Array, RegExp]> = [
  ['an empty input', Buffer.alloc(0), /the input is 0 bytes, too short for the 8-byte header length/],
  ['5 bytes', Buffer.alloc(5), /the input is 5 bytes, too short/],
  ['a header length of 2^60', craft('{}', 0, { length: 1n << 60n }), /header length 1152921504606846976 is larger than the 100000000-byte limit/],
  ['a header length of 2^64-1', craft('{}', 0, { length: (1n << 64n) - 1n }), /header length 18446744073709551615 is larger than the 100000000-byte limit/],
  ['a header length just over the limit', craft('{}', 0, { length: 100_000_001n }), /larger than the 100000000-byte limit/],
  ['a header length beyond the file', craft('{}', 0, { length: 1000n }), /header length 1000 is larger than the rest of the input \(8 bytes\)/],
  ['a header cut short (truncated file)', valid.subarray(0, 20), /header length \d+ is larger than the rest of the input \(12 bytes\)/],
  ['a data section cut short (truncated file)', valid.subarray(0, valid.length - 1), /tensor "b": data_offsets \[8, 12\] go past the end of the data \(11 bytes\): the file is truncated/],
  ['invalid UTF-8 bytes', Buffer.concat([craft('{}', 0).subarray(0, 8), Buffer.from([0x7b, 0xc3, 0x28, 0x7d, 0x20, 0x20, 0x20, 0x20])]), /the header is not valid UTF-8/],
  ['invalid JSON', craft('{"a": {', 0), /the header is not valid JSON/],
  ['an empty header', craft('', 0), /the header is not valid JSON/],
  ['a JSON array header', craft('[]', 0), /the header must be a JSON object, but it is an array of length 0/],
  ['a JSON null header', craft('null', 0), /the header must be a JSON object, but it is null/],
  ['a tensor entry that is not an object', craft({ a: 3 }, 0), /tensor "a": expected an object with dtype, shape and data_offsets, but got 3/],
  ['an unknown dtype', craft({ a: { dtype: 'Q8', shape: [1], data_offsets: [0, 1] } }, 1), /tensor "a" has unknown dtype "Q8"/],
  ['a missing dtype', craft({ a: { shape: [1], data_offsets: [0, 4] } }, 4), /tensor "a": dtype must be a string, but got undefined/],
  ['an F8 dtype', craft({ a: { dtype: 'F8_E4M3', shape: [1], data_offsets: [0, 1] } }, 1), /tensor "a" has dtype F8_E4M3, which cudnn-rnn cannot represent exactly/],
  ['a C64 dtype', craft({ a: { dtype: 'C64', shape: [1], data_offsets: [0, 8] } }, 8), /dtype C64, which cudnn-rnn cannot represent/],
  ['a negative dimension', craft({ a: f32([-1], 0, 4) }, 4), /tensor "a": shape must be an array of non-negative integers, but got \[-1\]/],
  ['a fractional dimension', craft({ a: f32([1.5], 0, 4) }, 4), /shape must be an array of non-negative integers, but got \[1.5\]/],
  ['a shape that is not an array', craft({ a: { dtype: 'F32', shape: 4, data_offsets: [0, 16] } }, 16), /shape must be an array/],
  ['17 dimensions', craft({ a: f32(new Array(17).fill(1), 0, 4) }, 4), /tensor "a" has 17 dimensions; cudnn-rnn tensors have at most 16/],
  ['three data offsets', craft({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4, 8] } }, 4), /data_offsets must be \[begin, end\]/],
  ['negative data offsets', craft({ a: f32([1], -4, 0) }, 4), /data_offsets must be \[begin, end\] with non-negative integers, but got \[-4,0\]/],
  ['offsets that end before they begin', craft({ a: f32([0], 4, 0) }, 4), /data_offsets \[4, 0\] end before they begin/],
  ['shape x itemsize != byte length', craft({ a: f32([2, 3], 0, 20) }, 20), /tensor "a": shape \[2, 3\] of F32 needs 24 bytes, but data_offsets \[0, 20\] hold 20/],
  ['a shape whose size overflows', craft({ a: f32([2 ** 40, 2 ** 40, 2 ** 40], 0, 8) }, 8), /shape \[1099511627776, 1099511627776, 1099511627776\] of F32 needs .* bytes, but data_offsets \[0, 8\] hold 8/],
  ['overlapping tensors', craft({ a: f32([2], 0, 8), b: f32([2], 4, 12) }, 12), /tensors "a" \[0, 8\] and "b" \[4, 12\] overlap/],
  ['two tensors at the same place', craft({ a: f32([2], 0, 8), b: f32([2], 0, 8) }, 8), /tensors "a" \[0, 8\] and "b" \[0, 8\] overlap/],
  ['a gap between tensors', craft({ a: f32([1], 0, 4), b: f32([1], 8, 12) }, 12), /data bytes \[4, 8\) belong to no tensor \(before "b"\)/],
  ['trailing data', craft({ a: f32([1], 0, 4) }, 12), /the data section has 12 bytes but the tensors cover only 4 \(8 trailing bytes\)/],
  ['data but no tensors', craft({}, 8), /the data section has 8 bytes but the tensors cover only 0/],
  ['__metadata__ that is not an object', craft({ __metadata__: 'x' }, 0), /__metadata__ must be an object mapping strings to strings, but got "x"/],
  ['__metadata__ with a number', craft({ __metadata__: { v: 1 } }, 0), /__metadata__ must map strings to strings, but "v" maps to 1/],
];

describe('malformed and truncated input is refused with ERR_CUDNN_RNN_SAFETENSORS', () => {
  test('the valid base case loads', () => {
    expect(Object.keys(st.deserialize(valid))).toEqual(['a', 'b']);
  });

  test.each(MALFORMED)('%s', (_, bytes, message) => {
    const file = tmpFile(bytes);
    // loadMetadata validates the whole header (and its fit to the file) too.
    for (const [where, fn] of [['deserialize', () => st.deserialize(bytes)], ['load', () => st.load(file)], ['loadMetadata', () => st.loadMetadata(file)]] as const) {
      const err = catchError(fn);
      expect({ where, code: err.code }).toEqual({ where, code: 'ERR_CUDNN_RNN_SAFETENSORS' });
      expect(err.message).toMatch(message);
    }
  });

  test('a header claiming 2^60 bytes allocates nothing large', () => {
    const allocSpy = jest.spyOn(Buffer, 'alloc');
    const unsafeSpy = jest.spyOn(Buffer, 'allocUnsafe');
    const before = cr.memory();
    try {
      const bytes = craft('{}', 64, { length: 1n << 60n });
      const file = tmpFile(bytes);
      allocSpy.mockClear();
      unsafeSpy.mockClear();
      expect(() => st.load(file)).toThrow(/larger than the 100000000-byte limit/);
      expect(() => st.deserialize(bytes)).toThrow(/larger than the 100000000-byte limit/);
      const sizes = [...allocSpy.mock.calls, ...unsafeSpy.mock.calls].map((c) => c[0] as number);
      expect(Math.max(0, ...sizes)).toBeLessThanOrEqual(8);
      expect(cr.memory().numBytes).toBe(before.numBytes);
    } finally {
      allocSpy.mockRestore();
      unsafeSpy.mockRestore();
    }
  });

  test('a failure part-way through loading frees the tensors already read', () => {
    const before = cr.memory().numTensors;
    const bytes = craft({ a: f32([2], 0, 8), z: { dtype: 'I64', shape: [1], data_offsets: [8, 16] } }, Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0]));
    expect(() => st.deserialize(bytes)).toThrow(/tensor "z" \(I64\) holds 4294967296 at element 0/);
    expect(cr.memory().numTensors).toBe(before);
  });
});
