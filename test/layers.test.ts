// nn.Linear, nn.Embedding, nn.Dropout, nn.Sequential and functional
// linear/embedding/dropout/softmax against PyTorch 1.13: bitwise initialisation
// under manualSeed, forward values and gradients (float64 to 1e-10), dropout
// masks, repr, PyTorch's messages. Reference data: test/fixtures/layers.json
// (test/fixtures/gen_layers.py).
import * as fs from 'fs';
import * as path from 'path';
import * as cr from '../lib';
import type { Tensor } from '../lib';
import * as F from '../lib/nn/functional';
import { Dropout } from '../lib/nn/dropout';
import { Embedding } from '../lib/nn/embedding';
import { Linear } from '../lib/nn/linear';
import { Sequential } from '../lib/nn/sequential';
import { compareValues, decodeValues, Encoded, makeTensor } from './helpers/fixtures';
import { gradcheck, prng, randomInput } from './helpers/gradcheck';

interface LayersFixture {
  linear_init: Array<{ seed: number; in: number; out: number; bias: boolean; dtype: 'float32' | 'float64'; weight: Encoded; biasValues: Encoded | null; next: Encoded; repr: string }>;
  embedding_init: Array<{ seed: number; num: number; dim: number; paddingIdx: number | null; dtype: 'float32' | 'float64'; weight: Encoded; next: Encoded; repr: string }>;
  linear_forward: Array<{ x: Encoded; weight: Encoded; bias: Encoded | null; y: Encoded; upstream: Encoded; gradX: Encoded; gradWeight: Encoded; gradBias: Encoded | null }>;
  embedding_forward: Array<{ weight: Encoded; index: Encoded; paddingIdx: number | null; out: Encoded; upstream: Encoded; gradWeight: Encoded }>;
  dropout: Array<{ seed: number; p: number; shape: number[]; dtype: 'float32' | 'float64'; out: Encoded; next: Encoded }>;
  softmax: Array<{ x: Encoded; dim: number; softmax: Encoded; logSoftmax: Encoded }>;
  errors: Array<{ fn: string; inputShape: number[]; target: Encoded; options: Record<string, unknown>; message: string }>;
}

const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'layers.json'), 'utf8')) as LayersFixture;

/** Bit-exact comparison: float32 fixture decimals are rounded to float32 first. */
function expectExact(actual: Tensor, expected: Encoded, what: string): void {
  expect({ what, shape: actual.shape }).toEqual({ what, shape: expected.shape });
  expect(actual.dtype).toBe(expected.dtype);
  const want = decodeValues(expected).map((v) => (expected.dtype === 'float32' ? Math.fround(v) : v));
  const got = Array.from(actual.dataSync());
  const bad = want.findIndex((v, i) => !Object.is(v, got[i]));
  if (bad >= 0) throw new Error(`${what}: element ${bad} is ${got[bad]}, PyTorch has ${want[bad]}`);
}

function expectClose(actual: Tensor, expected: Encoded, what: string): void {
  expect({ what, shape: actual.shape }).toEqual({ what, shape: expected.shape });
  const tol = expected.dtype === 'float64' ? 1e-10 : 1e-6;
  const problem = compareValues(actual.dataSync(), decodeValues(expected), tol);
  if (problem !== null) throw new Error(`${what}: ${problem}`);
}

function int32(values: number[] | number, shape?: number[]): Tensor<'int32'> {
  const flat = typeof values === 'number' ? [values] : values;
  return cr.tensor(Int32Array.from(flat), { dtype: 'int32', shape: shape ?? (typeof values === 'number' ? [] : [flat.length]) }) as Tensor<'int32'>;
}

describe('nn.Linear', () => {
  test.each(fixture.linear_init.map((c) => [`${c.repr} ${c.dtype} seed ${c.seed}`, c] as const))('initialisation is bitwise PyTorch: %s', (_, c) => {
    cr.tidy(() => {
      cr.manualSeed(c.seed);
      const m = new Linear(c.in, c.out, { bias: c.bias, dtype: c.dtype });
      expectExact(m.weight, c.weight, 'weight');
      if (c.biasValues === null) expect(m.bias).toBeNull();
      else expectExact(m.bias as Tensor, c.biasValues, 'bias');
      // The same number of draws as PyTorch: the generator continues identically.
      expectExact(cr.rand([4], { dtype: 'float64' }), c.next, 'next rand');
      expect(m.toString()).toBe(c.repr);
      m.dispose();
    });
  });

  test.each(fixture.linear_forward.map((c, i) => [`case ${i} x ${JSON.stringify(c.x.shape)} ${c.x.dtype}${c.bias ? '' : ' no bias'}`, c] as const))(
    'forward and backward match PyTorch: %s', (_, c) => {
      cr.tidy(() => {
        const dtype = c.x.dtype as 'float32' | 'float64';
        const m = new Linear(c.weight.shape[1], c.weight.shape[0], { bias: c.bias !== null, dtype });
        m.loadStateDict(c.bias === null ? { weight: makeTensor(c.weight) } : { weight: makeTensor(c.weight), bias: makeTensor(c.bias) });
        const x = makeTensor(c.x, true);
        const y = m.forward(x);
        expectClose(y, c.y, 'y');
        y.backward(makeTensor(c.upstream));
        expectClose(x.grad as Tensor, c.gradX, 'grad x');
        expectClose(m.weight.grad as Tensor, c.gradWeight, 'grad weight');
        if (c.gradBias !== null) expectClose((m.bias as Tensor).grad as Tensor, c.gradBias, 'grad bias');
        m.dispose();
      });
    });

  test('functional linear passes gradcheck (input, weight, bias; 1-D, 2-D and 3-D inputs)', () => {
    const rng = prng(21);
    for (const shape of [[3], [4, 3], [2, 2, 3]]) {
      const x = randomInput(rng, shape);
      const w = randomInput(rng, [5, 3]);
      const b = randomInput(rng, [5]);
      expect(gradcheck((xx, ww, bb) => F.linear(xx, ww, bb), [x, w, b])).toBeGreaterThan(0);
      expect(gradcheck((xx, ww) => F.linear(xx, ww), [x, w])).toBeGreaterThan(0);
      [x, w, b].forEach((t) => t.dispose());
    }
  });

  test('parameters, state dict, options, dtype moves', () => {
    const m = new Linear(3, 2);
    expect(m.namedParameters().map(([n, p]) => [n, p.shape])).toEqual([['weight', [2, 3]], ['bias', [2]]]);
    expect(Object.keys(m.stateDict())).toEqual(['weight', 'bias']);
    expect(m.weight.requiresGrad).toBe(true);
    expect(m.dtype).toBe('float32');
    m.to('float64');
    expect(m.dtype).toBe('float64');
    expect(m.forward(cr.zeros([4, 3], { dtype: 'float64' })).shape).toEqual([4, 2]);
    expect(new Linear(3, 2, { bias: false }).toString()).toBe('Linear(in_features=3, out_features=2, bias=False)');
    expect(() => new Linear(3, 2, { biass: true } as never)).toThrow(/unknown option "biass"/);
    expect(() => new Linear(-1, 2)).toThrow(RangeError);
    expect(() => new Linear(1.5, 2)).toThrow(TypeError);
    expect(() => new Linear(3, 2, { dtype: 'int32' as never })).toThrow(TypeError);
    expect(() => m.forward(cr.zeros([4, 3]))).toThrow(/input dtype \(torch.float32\) does not match weight dtype \(torch.float64\)/);
    m.dispose();
  });
});

describe('nn.Embedding', () => {
  test.each(fixture.embedding_init.map((c) => [`${c.repr} ${c.dtype} seed ${c.seed}`, c] as const))('initialisation is bitwise PyTorch: %s', (_, c) => {
    cr.tidy(() => {
      cr.manualSeed(c.seed);
      const m = new Embedding(c.num, c.dim, { paddingIdx: c.paddingIdx, dtype: c.dtype });
      expectExact(m.weight, c.weight, 'weight');
      expectExact(cr.rand([4], { dtype: 'float64' }), c.next, 'next rand');
      expect(m.toString()).toBe(c.repr);
      m.dispose();
    });
  });

  test.each(fixture.embedding_forward.map((c, i) => [`case ${i} index ${JSON.stringify(c.index.shape)} padding ${c.paddingIdx}`, c] as const))(
    'forward and weight gradient match PyTorch: %s', (_, c) => {
      cr.tidy(() => {
        const m = new Embedding(c.weight.shape[0], c.weight.shape[1], { paddingIdx: c.paddingIdx, dtype: 'float64' });
        m.loadStateDict({ weight: makeTensor(c.weight) });
        const y = m.forward(makeTensor(c.index));
        expectExact(y, c.out, 'out');
        y.backward(makeTensor(c.upstream));
        expectClose(m.weight.grad as Tensor, c.gradWeight, 'grad weight');
        m.dispose();
      });
    });

  test('the padding row gets no gradient even though its value is used', () => {
    cr.tidy(() => {
      const w = cr.tensor([[1, 2], [3, 4], [5, 6]], { dtype: 'float64', requiresGrad: true });
      const y = F.embedding(int32([1, 1, 0, 2], [2, 2]), w, 1);
      expect(y.arraySync()).toEqual([[[3, 4], [3, 4]], [[1, 2], [5, 6]]]);
      cr.sum(y).backward();
      expect((w.grad as Tensor).arraySync()).toEqual([[1, 1], [0, 0], [1, 1]]);
      // A negative paddingIdx counts from the end, as in torch.nn.functional.embedding.
      const w2 = cr.tensor([[1, 2], [3, 4], [5, 6]], { dtype: 'float64', requiresGrad: true });
      cr.sum(F.embedding(int32([1, 1, 0, 2], [2, 2]), w2, -2)).backward();
      expect((w2.grad as Tensor).arraySync()).toEqual([[1, 1], [0, 0], [1, 1]]);
      expect(() => F.embedding(int32([0]), w2, 3)).toThrow('Padding_idx must be within num_embeddings');
    });
  });

  test('gradcheck of the weight (without padding: the padding row gets no gradient by design)', () => {
    const rng = prng(5);
    const w = randomInput(rng, [4, 3]);
    expect(gradcheck((ww) => F.embedding(int32([0, 3, 3, 1, 2, 3], [2, 3]), ww), [w])).toBe(12);
    w.dispose();
  });

  test('out-of-range and wrongly typed indices are refused with the index named', () => {
    const m = new Embedding(10, 3);
    expect(() => m.forward(int32([1, 10]))).toThrow(RangeError);
    expect(() => m.forward(int32([1, 10]))).toThrow('index 10 at position [1] is out of range for an embedding of 10 rows');
    expect(() => m.forward(int32([0, 1, -1, 2], [2, 2]))).toThrow('index -1 at position [1, 0]');
    expect(() => m.forward(int32([0, 1, 0, 0], [2, 2]).to('float32'))).toThrow(/int32 tensor of indices, but got float32/);
    expect(() => m.forward([1, 2] as never)).toThrow(TypeError);
    expect(m.forward(int32(3)).shape).toEqual([3]);
    expect(m.forward(cr.zeros([2, 0], { dtype: 'int32' }) as Tensor<'int32'>).shape).toEqual([2, 0, 3]);
    m.dispose();
  });

  test('paddingIdx rules and fromPretrained', () => {
    expect(new Embedding(10, 3, { paddingIdx: -1 }).paddingIdx).toBe(9);
    const msg = fixture.errors.find((e) => e.fn === 'Embedding')?.message as string;
    expect(() => new Embedding(10, 3, { paddingIdx: 10 })).toThrow(msg);
    expect(() => new Embedding(10, 3, { paddingIdx: -11 })).toThrow(msg);
    const table = cr.tensor([[1, 2], [3, 4]]);
    const frozen = Embedding.fromPretrained(table);
    expect(frozen.weight.requiresGrad).toBe(false);
    expect(frozen.forward(int32([1])).arraySync()).toEqual([[3, 4]]);
    const trainable = Embedding.fromPretrained(table, { freeze: false, paddingIdx: 0 });
    expect(trainable.weight.requiresGrad).toBe(true);
    expect(trainable.toString()).toBe('Embedding(2, 2, padding_idx=0)');
    // The padding row keeps its pretrained values, like torch.
    expect(trainable.weight.arraySync()).toEqual([[1, 2], [3, 4]]);
    expect(() => Embedding.fromPretrained(cr.zeros([3]))).toThrow(/2-dimensional/);
  });
});

describe('dropout', () => {
  test.each(fixture.dropout.map((c) => [`p=${c.p} ${JSON.stringify(c.shape)} ${c.dtype} seed ${c.seed}`, c] as const))('masks equal PyTorch\'s: %s', (_, c) => {
    cr.tidy(() => {
      cr.manualSeed(c.seed);
      const y = F.dropout(cr.ones(c.shape, { dtype: c.dtype }), c.p, true);
      if (c.dtype === 'float64') {
        expectExact(y, c.out, 'out');
      } else {
        // Same keep decisions; the kept value 1/(1-p) may differ from torch's float32 division in the last bit.
        const want = decodeValues(c.out);
        expect(Array.from(y.dataSync(), (v) => v !== 0)).toEqual(want.map((v) => v !== 0));
        expectClose(y, c.out, 'out');
      }
      expectExact(cr.rand([2], { dtype: 'float64' }), c.next, 'next rand');
    });
  });

  test('backward multiplies by the mask; eval and p=0 are the identity; p=1 zeroes', () => {
    cr.tidy(() => {
      cr.manualSeed(3);
      const x = cr.full([50], 2, { dtype: 'float64', requiresGrad: true });
      const y = F.dropout(x, 0.4);
      cr.sum(y).backward();
      const mask = Array.from(y.dataSync(), (v) => v / 2);
      expect(new Set(mask)).toEqual(new Set([0, 1 / 0.6]));
      expect(Array.from((x.grad as Tensor).dataSync())).toEqual(mask);
      expect(F.dropout(x, 0.4, false)).toBe(x);
      expect(F.dropout(x, 0)).toBe(x);
      const z = F.dropout(x, 1);
      expect(Array.from(z.dataSync())).toEqual(new Array(50).fill(0));
    });
  });

  test('nn.Dropout follows train()/eval() and prints like PyTorch', () => {
    const d = new Dropout(0.25);
    expect(d.toString()).toBe('Dropout(p=0.25, inplace=False)');
    expect(new Dropout().toString()).toBe('Dropout(p=0.5, inplace=False)');
    const x = cr.ones([100]);
    d.eval();
    expect(d.forward(x)).toBe(x);
    d.train();
    const y = d.forward(x);
    expect(Array.from(y.dataSync()).some((v) => v === 0)).toBe(true);
  });

  test('PyTorch\'s messages for invalid p', () => {
    for (const e of fixture.errors.filter((x) => x.fn === 'dropout')) {
      const p = e.options.p as number;
      expect(() => F.dropout(cr.zeros([3, 4]), p)).toThrow(e.message);
      expect(() => new Dropout(p)).toThrow(e.message);
    }
    expect(() => F.dropout(cr.zeros([2], { dtype: 'int32' }), 0.5)).toThrow(TypeError);
  });
});

describe('softmax and logSoftmax', () => {
  test.each(fixture.softmax.map((c, i) => [`case ${i} ${JSON.stringify(c.x.shape)} dim ${c.dim} ${c.x.dtype}`, c] as const))('match PyTorch: %s', (_, c) => {
    cr.tidy(() => {
      const x = makeTensor(c.x);
      const tol = c.x.dtype === 'float64' ? 1e-10 : 2e-6;
      for (const [got, want] of [[F.softmax(x, c.dim), c.softmax], [F.logSoftmax(x, c.dim), c.logSoftmax]] as const) {
        const problem = compareValues(got.dataSync(), decodeValues(want), tol);
        if (problem !== null) throw new Error(problem);
      }
    });
  });
});

describe('functional linear errors', () => {
  test.each(fixture.errors.filter((e) => e.fn === 'linear').map((e) => [e.message, e] as const))('%s', (_, e) => {
    const x = cr.zeros(e.inputShape, { dtype: 'float64' });
    const w = cr.zeros(e.options.weightShape as number[], { dtype: 'float64' });
    expect(() => F.linear(x, w)).toThrow(e.message);
  });
});

describe('nn.Sequential', () => {
  test('chains modules, names children like PyTorch and prints the same', () => {
    cr.manualSeed(0);
    const seq = new Sequential(new Linear(3, 4), new Dropout(), new Linear(4, 2));
    expect(Object.keys(seq.stateDict())).toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
    expect(seq.toString()).toBe([
      'Sequential(',
      '  (0): Linear(in_features=3, out_features=4, bias=True)',
      '  (1): Dropout(p=0.5, inplace=False)',
      '  (2): Linear(in_features=4, out_features=2, bias=True)',
      ')',
    ].join('\n'));
    expect(seq.length).toBe(3);
    expect(seq.get(-1)).toBe(seq.get(2));
    expect([...seq].map((m) => m.constructor.name)).toEqual(['Linear', 'Dropout', 'Linear']);
    seq.eval();
    expect(seq.get(1).training).toBe(false);
    const x = cr.randn([5, 3]);
    const direct = (seq.get(2) as Linear).forward((seq.get(0) as Linear).forward(x));
    expect(Array.from(seq.forward(x).dataSync())).toEqual(Array.from(direct.dataSync()));
    expect(() => seq.get(3)).toThrow(RangeError);
  });

  test('a child that returns [output, hN] (GRU) is refused with an explanation', () => {
    const seq = new Sequential(new cr.nn.GRU(3, 4), new Linear(4, 2));
    expect(() => seq.forward(cr.zeros([2, 1, 3]))).toThrow(TypeError);
    expect(() => seq.forward(cr.zeros([2, 1, 3]))).toThrow(/module \(0\) GRU returned an array of length 2, not a Tensor/);
    expect(() => new Sequential(new Linear(1, 1), {} as never)).toThrow(/expected modules\[1\] to be an nn.Module/);
  });

  test('an empty Sequential is the identity', () => {
    const x = cr.zeros([2]);
    expect(new Sequential().forward(x)).toBe(x);
  });
});

describe('memory', () => {
  test('layers inside tidy leave nothing behind, with and without backward', () => {
    const m = new Sequential(new Linear(3, 4), new Dropout(0.3), new Linear(4, 2));
    const e = new Embedding(5, 3);
    const before = cr.memory().numTensors;
    cr.tidy(() => {
      const y = m.forward(e.forward(int32([0, 4, 2])));
      cr.sum(y).backward();
    });
    m.zeroGrad();
    e.zeroGrad();
    cr.noGrad(() => cr.tidy(() => { m.forward(cr.ones([2, 3])); }));
    expect(cr.memory().numTensors).toBe(before);
  });
});
