// nn.utils.rnn, the packing utilities, against PyTorch (test/fixtures/packing.json, written
// by test/fixtures/gen_packing.py): values, batch sizes and indices exactly, gradients
// against torch's and by finite differences in float64, torch's messages for bad input.
//
// Intentional differences from PyTorch checked here: lengths, batch sizes and indices are
// int32 (torch: int64); unpadSequence does not transpose its input in place; a length longer
// than the input, or an unpadSequence length outside [0, T], is an error (torch silently
// builds an inconsistent PackedSequence, or clamps).
import * as fs from 'fs';
import * as path from 'path';
import * as cr from '../lib';
import type { Tensor } from '../lib';
import { Encoded, decodeValues, makeTensor, typedFor } from './helpers/fixtures';
import { gradcheck, prng, randomInput } from './helpers/gradcheck';
import { sortDescending } from '../lib/nn/utils/sort-descending';

const { PackedSequence, packPaddedSequence, padPackedSequence, padSequence, packSequence, unpackSequence, unpadSequence } = cr.nn.utils.rnn;

interface EncodedPacked {
  data: Encoded;
  batchSizes: Encoded;
  sortedIndices: Encoded | null;
  unsortedIndices: Encoded | null;
}

interface PackingFixture {
  torch: string;
  pack: Array<{
    name: string; input: Encoded; lengths: number[]; batchFirst: boolean; enforceSorted: boolean;
    packed: EncodedPacked; upstreamData: Encoded; gradData: Encoded;
    pads: Array<{ batchFirst: boolean; paddingValue: number; totalLength: number | null; padded: Encoded; lengths: Encoded; upstream: Encoded; grad: Encoded }>;
  }>;
  padSequence: Array<{
    name: string; sequences: Encoded[]; batchFirst: boolean; paddingValue: number; paddingSide: 'left' | 'right';
    out: Encoded; upstream: Encoded; grads: Array<Encoded | null>;
  }>;
  packSequence: Array<{ name: string; sequences: Encoded[]; enforceSorted: boolean; packed: EncodedPacked; upstream: Encoded; grads: Encoded[] }>;
  unpackSequence: Array<{ name: string; packed: EncodedPacked; outs: Encoded[]; upstream: Encoded[]; grad: Encoded }>;
  unpadSequence: Array<{ name: string; padded: Encoded; lengths: number[]; batchFirst: boolean; outs: Encoded[]; upstream: Encoded[]; grad: Encoded }>;
  sort: Array<{ values: number[]; indices: number[] }>;
  errors: Record<string, string>;
}

const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'packing.json'), 'utf8')) as PackingFixture;

/**
 * Packing only moves values, so results and gradients must equal torch's bit for bit
 * (float32 fixture values are the shortest decimals of the float32 numbers).
 */
function expectExact(actual: Tensor, expected: Encoded, what: string): void {
  expect({ what, dtype: actual.dtype, shape: actual.shape }).toEqual({ what, dtype: expected.dtype, shape: expected.shape });
  const want = typedFor(expected.dtype, decodeValues(expected));
  const got = actual.dataSync();
  const bad = Array.from(got).findIndex((v, i) => !Object.is(v, want[i]));
  if (bad >= 0) throw new Error(`${what}: element ${bad} is ${got[bad]}, expected ${want[bad]}`);
}

function expectPacked(p: cr.nn.utils.rnn.PackedSequence, e: EncodedPacked, what: string): void {
  expectExact(p.data, e.data, `${what} data`);
  expectExact(p.batchSizes, e.batchSizes, `${what} batchSizes`);
  expect(p.batchSizes.device).toBe('cpu');
  for (const key of ['sortedIndices', 'unsortedIndices'] as const) {
    const want = e[key];
    if (want === null) expect(p[key]).toBeNull();
    else expectExact(p[key] as Tensor, want, `${what} ${key}`);
  }
}

/** sum_k <outs[k], ups[k]> as the loss to differentiate. */
function lossOf(outs: Tensor[], ups: Encoded[]): Tensor {
  return outs.map((o, k) => cr.sum(cr.mul(o, makeTensor(ups[k])))).reduce((a, b) => cr.add(a, b));
}

function fromFixture(e: EncodedPacked, requiresGrad = false): cr.nn.utils.rnn.PackedSequence {
  const idx = (x: Encoded | null): Tensor<'int32'> | null => (x === null ? null : makeTensor(x) as Tensor<'int32'>);
  return new PackedSequence(makeTensor(e.data, requiresGrad), makeTensor(e.batchSizes) as Tensor<'int32'>, idx(e.sortedIndices), idx(e.unsortedIndices));
}

describe('packPaddedSequence / padPackedSequence match PyTorch', () => {
  test.each(fixture.pack.map((c) => [c.name, c] as const))('%s', (_, c) => {
    cr.tidy(() => {
      for (const lengthsAsTensor of [false, true]) {
        const x = makeTensor(c.input, true);
        const lengths = lengthsAsTensor ? cr.tensor(Int32Array.from(c.lengths), { dtype: 'int32' }) : c.lengths;
        const packed = packPaddedSequence(x, lengths, { batchFirst: c.batchFirst, enforceSorted: c.enforceSorted });
        expectPacked(packed, c.packed, c.name);
        expect(packed.data.gradFn?.name).toBe('PackPaddedSequenceBackward0');
        // The pads below backpropagate through the same packing node.
        lossOf([packed.data], [c.upstreamData]).backward(undefined, { retainGraph: true });
        expectExact(x.grad as Tensor, c.gradData, `${c.name} grad through pack`);
        for (const p of c.pads) {
          const what = `${c.name} pad ${JSON.stringify({ batchFirst: p.batchFirst, paddingValue: p.paddingValue, totalLength: p.totalLength })}`;
          const [padded, lens] = padPackedSequence(packed, { batchFirst: p.batchFirst, paddingValue: p.paddingValue, totalLength: p.totalLength });
          expectExact(padded, p.padded, what);
          expectExact(lens, p.lengths, `${what} lengths`);
          expect(lens.device).toBe('cpu');
          (x.grad as Tensor).zero_();
          lossOf([padded], [p.upstream]).backward(undefined, { retainGraph: true });
          expectExact(x.grad as Tensor, p.grad, `${what} grad through pack -> pad`);
        }
        x.grad?.dispose();
      }
    });
  });
});

describe('padSequence matches PyTorch', () => {
  test.each(fixture.padSequence.map((c) => [c.name, c] as const))('%s', (_, c) => {
    cr.tidy(() => {
      const seqs = c.sequences.map((s) => makeTensor(s, true));
      const out = padSequence(seqs, { batchFirst: c.batchFirst, paddingValue: c.paddingValue, paddingSide: c.paddingSide });
      expectExact(out, c.out, c.name);
      lossOf([out], [c.upstream]).backward();
      seqs.forEach((s, i) => expectExact(s.grad as Tensor, c.grads[i] as Encoded, `${c.name} grad ${i}`));
    });
  });
});

describe('packSequence matches PyTorch', () => {
  test.each(fixture.packSequence.map((c) => [c.name, c] as const))('%s', (_, c) => {
    cr.tidy(() => {
      const seqs = c.sequences.map((s) => makeTensor(s, true));
      const packed = packSequence(seqs, { enforceSorted: c.enforceSorted });
      expectPacked(packed, c.packed, c.name);
      lossOf([packed.data], [c.upstream]).backward();
      seqs.forEach((s, i) => expectExact(s.grad as Tensor, c.grads[i], `${c.name} grad ${i}`));
    });
  });
});

describe('unpackSequence matches PyTorch', () => {
  test.each(fixture.unpackSequence.map((c) => [c.name, c] as const))('%s', (_, c) => {
    cr.tidy(() => {
      const packed = fromFixture(c.packed, true);
      const outs = unpackSequence(packed);
      expect(outs.length).toBe(c.outs.length);
      outs.forEach((o, i) => expectExact(o, c.outs[i], `${c.name} out ${i}`));
      lossOf(outs, c.upstream).backward();
      expectExact(packed.data.grad as Tensor, c.grad, `${c.name} grad`);
    });
  });
});

describe('unpadSequence matches PyTorch', () => {
  test.each(fixture.unpadSequence.map((c) => [c.name, c] as const))('%s', (_, c) => {
    cr.tidy(() => {
      const padded = makeTensor(c.padded, true);
      const before = Array.from(padded.dataSync());
      const outs = unpadSequence(padded, c.lengths, { batchFirst: c.batchFirst });
      outs.forEach((o, i) => expectExact(o, c.outs[i], `${c.name} out ${i}`));
      // PyTorch's transposes its input in place; ours leaves it alone.
      expect(padded.shape).toEqual(c.padded.shape);
      expect(Array.from(padded.dataSync())).toEqual(before);
      lossOf(outs, c.upstream).backward();
      expectExact(padded.grad as Tensor, c.grad, `${c.name} grad`);
    });
  });
});

test("the packing order of unsorted batches follows torch.sort's (unstable) order of ties", () => {
  for (const c of fixture.sort) {
    const packed = cr.tidy(() => packPaddedSequence(cr.zeros([Math.max(...c.values), c.values.length]), c.values, { enforceSorted: false }));
    expect(Array.from((packed.sortedIndices as Tensor).dataSync())).toEqual(c.indices);
    packed.dispose();
  }
});

test("the heapsort fallback of std::sort's introsort sorts too (checked against libstdc++ when written)", () => {
  const rng = prng(3);
  for (const n of [17, 40, 257]) {
    const values = Array.from({ length: n }, () => 1 + Math.floor(rng() * 5));
    for (const depthLimit of [0, 1, 2]) {
      const { sorted, indices } = sortDescending(values, depthLimit);
      expect(sorted).toEqual(values.slice().sort((a, b) => b - a));
      expect(indices.map((i) => values[i])).toEqual(sorted);
      expect(indices.slice().sort((a, b) => a - b)).toEqual(values.map((_, i) => i));
    }
  }
});

describe("PyTorch's messages for bad input", () => {
  const x = (): Tensor => cr.zeros([4, 3, 2]);
  const E = fixture.errors;
  test.each([
    ['notSorted', () => packPaddedSequence(x(), [2, 3, 1])],
    ['zeroLength', () => packPaddedSequence(x(), [3, 2, 0])],
    ['zeroLengthUnsorted', () => packPaddedSequence(x(), [3, 0, 2], { enforceSorted: false })],
    ['negativeLength', () => packPaddedSequence(x(), [3, 2, -1])],
    ['lengthCount', () => packPaddedSequence(x(), [3, 2])],
    ['lengthCount', () => packPaddedSequence(x(), [3, 2], { enforceSorted: false })],
    ['emptyInput', () => packPaddedSequence(cr.zeros([0, 3, 2]), [1, 1, 1])],
    ['totalLength', () => padPackedSequence(packPaddedSequence(x(), [3, 2, 1]), { totalLength: 2 })],
    ['padSequenceEmpty', () => padSequence([])],
    ['packSequenceEmpty', () => packSequence([])],
    ['packSequenceZeroLength', () => packSequence([cr.zeros([2, 2]), cr.zeros([0, 2])])],
    ['packSequenceNotSorted', () => packSequence([cr.zeros([1, 2]), cr.zeros([2, 2])])],
  ] as Array<[string, () => unknown]>)('%s', (name, call) => {
    expect(E[name]).toBeDefined();
    cr.tidy(() => expect(call).toThrow(E[name]));
  });

  test('lengths as a tensor must be 1-D on the CPU (torch says int64; ours are int32)', () => {
    expect(E.lengths2d).toBe("'lengths' argument should be a 1D CPU int64 tensor, but got 2D cpu Long tensor");
    cr.tidy(() => {
      expect(() => packPaddedSequence(x(), cr.tensor([[3, 2, 1]], { dtype: 'int32' }))).toThrow(
        "packPaddedSequence: 'lengths' argument should be a 1D CPU int tensor, but got 2D cpu int32 tensor");
    });
  });

  test("padSequence's paddingSide is 'left' or 'right' (newer PyTorch's message)", () => {
    cr.tidy(() => {
      expect(() => padSequence([cr.zeros([2])], { paddingSide: 'up' as 'left' })).toThrow('Expected padding_side to be one of left or right, but got up.');
    });
  });

  test('clear errors where PyTorch has none', () => {
    cr.tidy(() => {
      expect(() => packPaddedSequence(x(), [5, 2, 1])).toThrow("packPaddedSequence: expected every length to be at most the input's sequence length 4, but got a length of 5");
      expect(() => packPaddedSequence(cr.zeros([3, 2]), [1, 2, 3], { batchFirst: true, enforceSorted: false })).toThrow("input's sequence length 2, but got a length of 3");
      expect(() => packPaddedSequence(cr.zeros([4]), [1])).toThrow('packPaddedSequence: expected input to have at least 2 dimensions (T x B x *), but got 1');
      expect(() => packPaddedSequence(x(), [3, 2.5, 1])).toThrow('packPaddedSequence: expected lengths[1] to be an integer, but got 2.5');
      expect(() => packPaddedSequence(x(), 'abc' as unknown as number[])).toThrow(TypeError);
      expect(() => packPaddedSequence(x(), [3, 2, 1], { batch_first: true } as object)).toThrow('unknown option "batch_first" (did you mean "batchFirst"?)');
      expect(() => padSequence([cr.zeros([2, 3]), cr.zeros([2, 4])])).toThrow('padSequence: expected every sequence to have the trailing dimensions of sequences[0] [3], but sequences[1] has shape [2, 4]');
      expect(() => padSequence([cr.zeros([])])).toThrow('padSequence: expected sequences[0] to have at least 1 dimension (L x *), but got a 0-d tensor');
      expect(() => unpadSequence(x(), [3, 2])).toThrow('unpadSequence: expected one length per sequence of the batch (3), but got 2 lengths');
      expect(() => unpadSequence(x(), [3, 5, 1])).toThrow('unpadSequence: expected lengths[1] to be in [0, 4] (the padded length), but got 5');
      expect(() => padPackedSequence(x() as never)).toThrow('padPackedSequence: expected sequence to be a PackedSequence, but got a Tensor');
      expect(() => padPackedSequence(packPaddedSequence(x(), [3, 2, 1]), { totalLength: 3.5 })).toThrow('expected options.totalLength to be an integer');
    });
  });
});

test('nn.utils keeps the gradient clipping beside rnn', () => {
  expect(typeof cr.nn.utils.clipGradNorm_).toBe('function');
  expect(typeof cr.nn.utils.clipGradValue_).toBe('function');
  expect(typeof cr.nn.utils.rnn.packPaddedSequence).toBe('function');
});

describe('PackedSequence', () => {
  test('the constructor checks its fields and computes unsortedIndices', () => {
    cr.tidy(() => {
      const data = cr.arange(6, { dtype: 'float32' }).reshape(6, 1);
      const bs = cr.tensor([3, 2, 1], { dtype: 'int32' }) as Tensor<'int32'>;
      const p = new PackedSequence(data, bs, cr.tensor([2, 0, 1], { dtype: 'int32' }) as Tensor<'int32'>);
      expect(Array.from((p.unsortedIndices as Tensor).dataSync())).toEqual([1, 2, 0]);
      expect(() => new PackedSequence(data, cr.tensor([3, 2], { dtype: 'int32' }) as Tensor<'int32'>)).toThrow('PackedSequence: batchSizes sum to 5 but data has 6 rows');
      expect(() => new PackedSequence(data, cr.tensor([2, 3, 1], { dtype: 'int32' }) as Tensor<'int32'>)).toThrow('positive and non-increasing');
      expect(() => new PackedSequence(data, cr.tensor([3, 2, 1]) as unknown as Tensor<'int32'>)).toThrow('expected batchSizes to be a non-empty 1-D int32 tensor');
      expect(() => new PackedSequence(data, bs, cr.tensor([0, 1], { dtype: 'int32' }) as Tensor<'int32'>)).toThrow('expected sortedIndices to be a 1-D int32 tensor of 3 elements');
      expect(() => new PackedSequence(data, bs, cr.tensor([0, 0, 1], { dtype: 'int32' }) as Tensor<'int32'>)).toThrow('permutation');
    });
  });

  test('to(dtype) converts data only, keeps batchSizes on the CPU, returns itself when nothing changes', () => {
    cr.tidy(() => {
      const p = packPaddedSequence(cr.randn([3, 2, 2]), [3, 1], { enforceSorted: false });
      expect(p.to('float32')).toBe(p);
      expect(p.to('cpu')).toBe(p);
      const q = p.to('float64');
      expect(q).not.toBe(p);
      expect(q.data.dtype).toBe('float64');
      expect(q.batchSizes.dtype).toBe('int32');
      expect(q.batchSizes.device).toBe('cpu');
      expect(Array.from((q.sortedIndices as Tensor).dataSync())).toEqual(Array.from((p.sortedIndices as Tensor).dataSync()));
      // q holds views of its own: disposing p leaves q whole.
      p.dispose();
      expect(Array.from(q.batchSizes.dataSync())).toEqual([2, 1, 1]);
      expect(Array.from((q.unsortedIndices as Tensor).dataSync())).toEqual([0, 1]);
      // Gradients flow through the conversion.
      const x = cr.randn([3, 2, 2], { requiresGrad: true });
      const r = packPaddedSequence(x, [3, 1]).to('float64');
      cr.sum(r.data).backward();
      expect(Array.from((x.grad as Tensor).dataSync())).toEqual([1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 0]);
    });
  });

  test('prints like PyTorch', () => {
    cr.tidy(() => {
      const p = packSequence([cr.tensor([1, 2, 3]), cr.tensor([4, 5]), cr.tensor([6])]);
      expect(p.toString()).toBe('PackedSequence(data=tensor([1., 4., 6., 2., 5., 3.]), batch_sizes=tensor([3, 2, 1], dtype=torch.int32), sorted_indices=None, unsorted_indices=None)');
    });
  });

  test('tidy() keeps a returned PackedSequence; dispose() frees it', () => {
    const before = cr.memory().numTensors;
    const p = cr.tidy(() => packPaddedSequence(cr.randn([4, 3, 2]), [2, 4, 1], { enforceSorted: false }));
    expect(p.isDisposed).toBe(false);
    expect(Array.from(p.batchSizes.dataSync())).toEqual([3, 2, 1, 1]);
    expect(cr.memory().numTensors).toBe(before + 4);
    p.dispose();
    expect(cr.memory().numTensors).toBe(before);
  });

  test('no tensor is left behind by the functions without a graph', () => {
    const x = cr.randn([5, 4, 3]);
    const before = cr.memory().numTensors;
    const p = packPaddedSequence(x, [5, 2, 3, 1], { enforceSorted: false });
    const [padded, lengths] = padPackedSequence(p, { batchFirst: true, totalLength: 6 });
    const pieces = unpackSequence(p);
    const seqs = unpadSequence(padded, lengths, { batchFirst: true });
    const again = padSequence(seqs, { paddingSide: 'left' });
    const q = packSequence(seqs, { enforceSorted: false });
    expect(cr.memory().numTensors).toBe(before + 4 + 2 + 4 + 4 + 1 + 4);
    for (const t of [padded, lengths, ...pieces, ...seqs, again]) t.dispose();
    p.dispose();
    q.dispose();
    expect(cr.memory().numTensors).toBe(before);
    x.dispose();
  });
});

describe('finite-difference gradients (float64)', () => {
  const rng = prng(7);
  test('pack -> pad, batchFirst, unsorted, totalLength', () => {
    const x = randomInput(rng, [3, 4, 2]);
    gradcheck((a) => {
      const p = packPaddedSequence(a, [2, 4, 1], { batchFirst: true, enforceSorted: false });
      return [p.data, padPackedSequence(p, { paddingValue: 0.5, totalLength: 5 })[0]];
    }, [x]);
  });
  test('padSequence (left) and packSequence', () => {
    const a = randomInput(rng, [3, 2]);
    const b = randomInput(rng, [1, 2]);
    const c = randomInput(rng, [2, 2]);
    gradcheck((p, q, r) => [padSequence([p, q, r], { paddingSide: 'left', batchFirst: true }), packSequence([p, q, r], { enforceSorted: false }).data], [a, b, c]);
  });
  test('unpackSequence and unpadSequence', () => {
    const x = randomInput(rng, [4, 3, 2]);
    gradcheck((a) => [...unpackSequence(packPaddedSequence(a, [1, 4, 3], { enforceSorted: false })), ...unpadSequence(a, [2, 0, 4])], [x]);
  });
});

test('packing a (100, 64, 128) batch takes a few milliseconds', () => {
  const x = cr.randn([100, 64, 128], { requiresGrad: true });
  const lengths = Array.from({ length: 64 }, (_, i) => 100 - i);
  const time = (fn: () => void): number => {
    fn();
    fn();
    const runs = 10;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < runs; ++i) fn();
    return Number(process.hrtime.bigint() - t0) / 1e6 / runs;
  };
  const packMs = time(() => cr.tidy(() => { packPaddedSequence(x, lengths, { enforceSorted: false }); }));
  const roundTripMs = time(() => cr.tidy(() => {
    const [padded] = padPackedSequence(packPaddedSequence(x, lengths));
    cr.sum(padded).backward();
  }));
  // Generous bounds for a shared, loaded machine; the measured figures are in the log.
  console.log(`pack (100, 64, 128): ${packMs.toFixed(2)} ms; pack -> pad -> backward: ${roundTripMs.toFixed(2)} ms`);
  expect(packMs).toBeLessThan(50);
  x.grad?.dispose();
  x.dispose();
});
