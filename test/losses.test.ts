// mseLoss, nllLoss and crossEntropy against PyTorch 1.13 (float64 to 1e-10):
// reductions, class weights, ignoreIndex, label smoothing, class-probability
// targets, (N, C, d1, ...) and unbatched (C,) inputs, empty batches, the
// gradients of the input (and of float targets), finite-difference gradchecks
// and PyTorch's error messages. Reference data: test/fixtures/layers.json
// (test/fixtures/gen_layers.py).
import * as fs from 'fs';
import * as path from 'path';
import * as cr from '../lib';
import type { Tensor } from '../lib';
import * as F from '../lib/nn/functional';
import { compareValues, decodeValues, Encoded, makeTensor } from './helpers/fixtures';
import { gradcheck, prng, randomInput } from './helpers/gradcheck';

type LossFn = 'mseLoss' | 'nllLoss' | 'crossEntropy';

interface LossCase {
  name: string;
  fn: LossFn;
  input: Encoded;
  target: Encoded;
  options: { weight?: Encoded; ignoreIndex?: number; reduction?: F.Reduction; labelSmoothing?: number };
  out: Encoded;
  upstream: Encoded;
  gradInput?: Encoded;
  gradTarget?: Encoded;
}

interface ErrorCase {
  fn: string;
  inputShape: number[];
  target: Encoded;
  options: Record<string, unknown>;
  message: string;
}

const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'layers.json'), 'utf8')) as { losses: LossCase[]; errors: ErrorCase[] };

function call(fn: LossFn, input: Tensor, target: Tensor, options: F.CrossEntropyOptions): Tensor {
  if (fn === 'mseLoss') return F.mseLoss(input, target, { reduction: options.reduction });
  if (fn === 'nllLoss') return F.nllLoss(input, target, options);
  return F.crossEntropy(input, target, options);
}

function expectClose(actual: Tensor, expected: Encoded, what: string): void {
  expect({ what, shape: actual.shape }).toEqual({ what, shape: expected.shape });
  const problem = compareValues(actual.dataSync(), decodeValues(expected), expected.dtype === 'float64' ? 1e-10 : 1e-6);
  if (problem !== null) throw new Error(`${what}: ${problem}`);
}

function options(c: LossCase): F.CrossEntropyOptions {
  const { weight, ...rest } = c.options;
  return weight === undefined ? rest : { ...rest, weight: makeTensor(weight) };
}

// mse's broadcast case warns like PyTorch; keep the test output quiet.
beforeAll(() => jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined));
afterAll(() => jest.restoreAllMocks());

describe('values and gradients match PyTorch', () => {
  test.each(fixture.losses.map((c) => [c.name, c] as const))('%s', (_, c) => {
    cr.tidy(() => {
      const x = makeTensor(c.input, true);
      const floatTarget = c.gradTarget !== undefined;
      const t = makeTensor(c.target, floatTarget);
      const y = call(c.fn, x, t, options(c));
      expectClose(y, c.out, 'loss');
      if (c.gradInput !== undefined) {
        y.backward(makeTensor(c.upstream));
        expectClose(x.grad ?? cr.zerosLike(x), c.gradInput, 'grad input');
        if (c.gradTarget !== undefined) expectClose(t.grad ?? cr.zerosLike(t), c.gradTarget, 'grad target');
      }
    });
  });
});

describe('float32 inputs', () => {
  test('agree with the float64 results to float32 precision', () => {
    for (const c of fixture.losses.filter((k) => k.fn !== 'mseLoss' && !k.name.includes('nan') && k.out.shape.length === 0 && k.input.values.length > 0)) {
      cr.tidy(() => {
        const x = makeTensor({ ...c.input, dtype: 'float32' });
        const t = c.target.dtype === 'int32' ? makeTensor(c.target) : makeTensor({ ...c.target, dtype: 'float32' });
        const y = call(c.fn, x, t, options(c));
        expect(y.dtype).toBe('float32');
        const problem = compareValues(y.dataSync(), decodeValues(c.out), 1e-5);
        if (problem !== null) throw new Error(`${c.name}: ${problem}`);
      });
    }
  });
});

describe('gradcheck (finite differences)', () => {
  const rng = prng(99);
  const idx = (values: number[], shape?: number[]): Tensor => cr.tensor(Int32Array.from(values), { dtype: 'int32', shape: shape ?? [values.length] });
  const weight = (): Tensor => cr.tensor([0.5, 2, 1, 0.25], { dtype: 'float64' });

  test.each([
    ['crossEntropy mean', (x: Tensor) => F.crossEntropy(x, idx([0, 3, 1, 2])), [4, 4]],
    ['crossEntropy weight ignore sum', (x: Tensor) => F.crossEntropy(x, idx([0, -100, 1, 2]), { weight: weight(), reduction: 'sum' }), [4, 4]],
    ['crossEntropy smoothing weight ignore none', (x: Tensor) => F.crossEntropy(x, idx([0, -100, 1, 2]), { weight: weight(), labelSmoothing: 0.2, reduction: 'none' }), [4, 4]],
    ['crossEntropy K-dim smoothing mean', (x: Tensor) => F.crossEntropy(x, idx([0, 3, -100, 2, 1, 1], [2, 3]), { labelSmoothing: 0.1, ignoreIndex: -100 }), [2, 4, 3]],
    ['crossEntropy unbatched', (x: Tensor) => F.crossEntropy(x, idx([2], [])), [4]],
    ['nllLoss K-dim weight mean', (x: Tensor) => F.nllLoss(x, idx([0, 3, -100, 2, 1, 1], [2, 3]), { weight: weight() }), [2, 4, 3]],
    ['nllLoss none', (x: Tensor) => F.nllLoss(x, idx([1, 1, 0]), { reduction: 'none' }), [3, 4]],
    ['mseLoss mean', (x: Tensor) => F.mseLoss(x, cr.full([3, 2], 0.5, { dtype: 'float64' })), [3, 2]],
  ] as const)('%s', (_, fn, shape) => {
    const x = randomInput(rng, shape as unknown as number[]);
    expect(gradcheck(fn, [x])).toBe(x.numel);
    x.dispose();
  });

  test('crossEntropy with probability targets, gradient of input and target', () => {
    const x = randomInput(rng, [3, 4]);
    const p = cr.tidy(() => cr.softmax(randomInput(rng, [3, 4]), 1).detach().requiresGrad_());
    expect(gradcheck((a, b) => F.crossEntropy(a, b, { weight: weight(), labelSmoothing: 0.1 }), [x, p])).toBe(24);
    [x, p].forEach((t) => t.dispose());
  });
});

describe('PyTorch\'s error messages', () => {
  test.each(fixture.errors.filter((e) => ['nllLoss', 'crossEntropy', 'mseLoss'].includes(e.fn)).map((e) => [`${e.fn}: ${e.message}`, e] as const))('%s', (_, e) => {
    cr.tidy(() => {
      const x = cr.zeros(e.inputShape, { dtype: 'float64' });
      const t = makeTensor(e.target);
      const opts: Record<string, unknown> = { ...e.options };
      if (Array.isArray(opts.weight)) opts.weight = cr.tensor(opts.weight as number[], { dtype: 'float64' });
      expect(() => call(e.fn as LossFn, x, t, opts as F.CrossEntropyOptions)).toThrow(e.message);
    });
  });

  test('arguments cudnn-rnn checks beyond PyTorch', () => {
    cr.tidy(() => {
      const x = cr.zeros([3, 4], { dtype: 'float64' });
      const t = cr.tensor(Int32Array.from([0, 1, 2]), { dtype: 'int32' });
      expect(() => F.nllLoss(x, t.to('float64'))).toThrow(/expected target to be an int32 tensor of class indices, but got float64/);
      expect(() => F.nllLoss(t, t)).toThrow(/expected input to be a floating point tensor/);
      expect(() => F.crossEntropy(x, t, { ignore_index: 1 } as never)).toThrow(/unknown option "ignore_index" \(did you mean "ignoreIndex"\?\)/);
      expect(() => F.crossEntropy(x, t, { labelSmoothing: -0.1 })).toThrow('label_smoothing must be between 0.0 and 1.0. Got: -0.1');
      expect(() => F.crossEntropy(x, t, { ignoreIndex: 1.5 })).toThrow(TypeError);
      expect(() => F.crossEntropy(x, cr.zeros([3, 4], { dtype: 'int32' }))).toThrow('Expected floating point type for target with class probabilities');
      expect(() => F.crossEntropy(x, t, { reduction: undefined })).not.toThrow();
      expect(() => F.mseLoss(x, t)).toThrow(/expected target to be a floating point tensor/);
      // A 0-d target with a batched input: PyTorch's (odd) batch size 0, explained.
      expect(() => F.nllLoss(x, cr.tensor(Int32Array.from([1]), { dtype: 'int32', shape: [] }))).toThrow('Expected input batch_size (3) to match target batch_size (0).');
      // An unbatched input needs a 0-d target.
      expect(() => F.nllLoss(cr.zeros([4], { dtype: 'float64' }), cr.tensor(Int32Array.from([1]), { dtype: 'int32' }))).toThrow('size mismatch (got input: [4], target: [1])');
    });
  });
});

describe('behaviour', () => {
  test('no gradient flows into the class weight; ignored rows get zero input gradient', () => {
    cr.tidy(() => {
      const x = cr.randn([3, 4], { dtype: 'float64', requiresGrad: true });
      const w = cr.tensor([1, 2, 3, 4], { dtype: 'float64', requiresGrad: true });
      const y = F.crossEntropy(x, cr.tensor(Int32Array.from([0, -100, 3]), { dtype: 'int32' }), { weight: w, labelSmoothing: 0.1 });
      y.backward();
      expect(w.grad).toBeNull();
      expect(Array.from((x.grad as Tensor).select(0, 1).dataSync())).toEqual([0, 0, 0, 0]);
    });
  });

  test('a weight of another float dtype is converted to the input dtype', () => {
    cr.tidy(() => {
      const x = cr.randn([2, 3], { dtype: 'float64' });
      const t = cr.tensor(Int32Array.from([0, 2]), { dtype: 'int32' });
      const a = F.nllLoss(x, t, { weight: cr.tensor([1, 2, 3], { dtype: 'float32' }) });
      const b = F.nllLoss(x, t, { weight: cr.tensor([1, 2, 3], { dtype: 'float64' }) });
      expect(a.dtype).toBe('float64');
      expect(a.item()).toBe(b.item());
    });
  });

  test('losses inside tidy free every intermediate, with and without backward', () => {
    const x = cr.randn([4, 5], { dtype: 'float64', requiresGrad: true });
    const t = cr.tensor(Int32Array.from([0, -100, 4, 2]), { dtype: 'int32' });
    const p = cr.softmax(cr.randn([4, 5], { dtype: 'float64' }), 1);
    const before = cr.memory().numTensors;
    cr.tidy(() => {
      F.crossEntropy(x, t, { labelSmoothing: 0.1, weight: cr.ones([5], { dtype: 'float64' }), reduction: 'none' }).backward(cr.ones([4], { dtype: 'float64' }));
      F.crossEntropy(x, p).backward();
      F.nllLoss(x, t, { reduction: 'sum' }).backward();
      F.mseLoss(x, p).backward();
    });
    (x.grad as Tensor).dispose();
    x.grad = null;
    cr.noGrad(() => cr.tidy(() => { F.crossEntropy(x, t, { labelSmoothing: 0.3 }); }));
    expect(cr.memory().numTensors).toBe(before);
  });

  test('without a graph, a loss holds no intermediates outside tidy', () => {
    const x = cr.randn([4, 5], { dtype: 'float64' });
    const t = cr.tensor(Int32Array.from([0, -100, 4, 2]), { dtype: 'int32' });
    const before = cr.memory().numTensors;
    const y = F.crossEntropy(x, t, { labelSmoothing: 0.1, reduction: 'none' });
    expect(cr.memory().numTensors).toBe(before + 1);
    y.dispose();
  });
});
