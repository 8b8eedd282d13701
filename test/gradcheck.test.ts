// Finite-difference checks (float64, central differences, eps 1e-6, atol 1e-6, rtol 1e-5)
// of the gradient of every differentiable op, on random inputs, broadcast operands,
// non-contiguous views as inputs, and composite graphs.
import * as cr from '../lib';
import type { Tensor } from '../lib';
import { gradcheck, prng, randomInput } from './helpers/gradcheck';

type Fn = (...xs: Tensor[]) => Tensor | Tensor[];
interface Spec {
  name: string;
  shapes: number[][];
  fn: Fn;
  /** Maps N(0,1) draws into the op's domain (per input). */
  map?: Array<((v: number) => number) | undefined>;
}

const positive = (v: number): number => 0.5 + Math.abs(v);
const awayFromZero = (v: number): number => (v >= 0 ? 0.3 + v : -0.3 + v);
const idx = (values: number[]): Tensor<'int32'> => cr.tensor(Int32Array.from(values), { dtype: 'int32' }) as Tensor<'int32'>;

const SPECS: Spec[] = [
  // ---- pointwise binary, with broadcasting
  { name: 'add same shape', shapes: [[2, 3], [2, 3]], fn: (a, b) => cr.add(a, b) },
  { name: 'add (3,1)+(1,4)', shapes: [[3, 1], [1, 4]], fn: (a, b) => cr.add(a, b) },
  { name: 'add (2,3,4)+(4,)', shapes: [[2, 3, 4], [4]], fn: (a, b) => cr.add(a, b) },
  { name: 'add 0-d + (2,3)', shapes: [[], [2, 3]], fn: (a, b) => cr.add(a, b) },
  { name: 'add alpha=2.5', shapes: [[3, 1], [1, 4]], fn: (a, b) => cr.add(a, b, { alpha: 2.5 }) },
  { name: 'add scalar', shapes: [[2, 3]], fn: (a) => cr.add(a, 1.5) },
  { name: 'sub (2,3)-(3,)', shapes: [[2, 3], [3]], fn: (a, b) => cr.sub(a, b) },
  { name: 'sub alpha=-0.75 broadcast', shapes: [[3], [2, 3]], fn: (a, b) => cr.sub(a, b, { alpha: -0.75 }) },
  { name: 'sub scalar alpha', shapes: [[2, 2]], fn: (a) => cr.sub(a, 2, { alpha: 3 }) },
  { name: 'mul (3,1)*(1,4)', shapes: [[3, 1], [1, 4]], fn: (a, b) => cr.mul(a, b) },
  { name: 'mul (2,3,4)*(4,)', shapes: [[2, 3, 4], [4]], fn: (a, b) => cr.mul(a, b) },
  { name: 'mul by 0-d', shapes: [[2, 3], []], fn: (a, b) => cr.mul(a, b) },
  { name: 'mul scalar', shapes: [[2, 3]], fn: (a) => cr.mul(a, -1.75) },
  { name: 'div (3,1)/(1,4)', shapes: [[3, 1], [1, 4]], fn: (a, b) => cr.div(a, b), map: [undefined, awayFromZero] },
  { name: 'div (4,)/(2,3,4)', shapes: [[4], [2, 3, 4]], fn: (a, b) => cr.div(a, b), map: [undefined, awayFromZero] },
  { name: 'div scalar', shapes: [[2, 3]], fn: (a) => cr.div(a, 0.3) },
  { name: 'pow tensor^2', shapes: [[2, 3]], fn: (a) => cr.pow(a, 2) },
  { name: 'pow tensor^-1.5', shapes: [[2, 3]], fn: (a) => cr.pow(a, -1.5), map: [positive] },
  { name: 'pow tensor^0.5', shapes: [[2, 3]], fn: (a) => cr.pow(a, 0.5), map: [positive] },
  { name: 'pow tensor^0', shapes: [[3]], fn: (a) => cr.pow(a, 0) },
  { name: 'pow tensor^tensor', shapes: [[2, 3], [2, 3]], fn: (a, b) => cr.pow(a, b), map: [positive] },
  { name: 'pow broadcast (3,1)^(1,4)', shapes: [[3, 1], [1, 4]], fn: (a, b) => cr.pow(a, b), map: [positive] },
  { name: 'pow tensor^0-d', shapes: [[2, 3], []], fn: (a, b) => cr.pow(a, b), map: [positive] },
  { name: 'pow 0-d^tensor', shapes: [[], [2, 3]], fn: (a, b) => cr.pow(a, b), map: [positive] },
  { name: 'maximum (2,3),(3,)', shapes: [[2, 3], [3]], fn: (a, b) => cr.maximum(a, b) },
  { name: 'minimum (3,1),(1,4)', shapes: [[3, 1], [1, 4]], fn: (a, b) => cr.minimum(a, b) },
  // ---- unary
  { name: 'neg', shapes: [[2, 3]], fn: (a) => cr.neg(a) },
  { name: 'exp', shapes: [[2, 3]], fn: (a) => cr.exp(a) },
  { name: 'log', shapes: [[2, 3]], fn: (a) => cr.log(a), map: [positive] },
  { name: 'tanh', shapes: [[2, 3]], fn: (a) => cr.tanh(a) },
  { name: 'sigmoid', shapes: [[2, 3]], fn: (a) => cr.sigmoid(a) },
  { name: 'relu', shapes: [[2, 3]], fn: (a) => cr.relu(a), map: [awayFromZero] },
  { name: 'abs', shapes: [[2, 3]], fn: (a) => cr.abs(a), map: [awayFromZero] },
  { name: 'sqrt', shapes: [[2, 3]], fn: (a) => cr.sqrt(a), map: [positive] },
  { name: 'square', shapes: [[2, 3]], fn: (a) => cr.square(a) },
  { name: 'clamp(min, max)', shapes: [[3, 4]], fn: (a) => cr.clamp(a, -0.5, 0.7) },
  { name: 'clamp(min)', shapes: [[3, 4]], fn: (a) => cr.clamp(a, 0.1) },
  { name: 'clamp(null, max)', shapes: [[3, 4]], fn: (a) => cr.clamp(a, null, -0.2) },
  // ---- reductions
  { name: 'sum all', shapes: [[2, 3, 4]], fn: (a) => cr.sum(a) },
  { name: 'sum dim 1', shapes: [[2, 3, 4]], fn: (a) => cr.sum(a, 1) },
  { name: 'sum dims [0,2] keepdim', shapes: [[2, 3, 4]], fn: (a) => cr.sum(a, [0, 2], true) },
  { name: 'sum dim -1 of 0-size', shapes: [[2, 0]], fn: (a) => cr.sum(a, -1) },
  { name: 'mean all', shapes: [[2, 3, 4]], fn: (a) => cr.mean(a) },
  { name: 'mean dim 0 keepdim', shapes: [[2, 3, 4]], fn: (a) => cr.mean(a, 0, true) },
  { name: 'mean dims [-1,1]', shapes: [[2, 3, 4]], fn: (a) => cr.mean(a, [-1, 1]) },
  { name: 'amax all', shapes: [[2, 3, 4]], fn: (a) => cr.amax(a) },
  { name: 'amax dim 1', shapes: [[2, 3, 4]], fn: (a) => cr.amax(a, 1) },
  { name: 'amax dims [0,2] keepdim', shapes: [[2, 3, 4]], fn: (a) => cr.amax(a, [0, 2], true) },
  { name: 'softmax dim 0', shapes: [[2, 3, 4]], fn: (a) => cr.softmax(a, 0) },
  { name: 'softmax dim 1', shapes: [[2, 3, 4]], fn: (a) => cr.softmax(a, 1) },
  { name: 'softmax dim -1', shapes: [[2, 3, 4]], fn: (a) => cr.softmax(a, -1) },
  { name: 'logSoftmax dim 0', shapes: [[2, 3, 4]], fn: (a) => cr.logSoftmax(a, 0) },
  { name: 'logSoftmax dim 1', shapes: [[2, 3, 4]], fn: (a) => cr.logSoftmax(a, 1) },
  { name: 'logSoftmax dim 2', shapes: [[2, 3, 4]], fn: (a) => cr.logSoftmax(a, 2) },
  // ---- matmul
  { name: 'matmul 1-D . 1-D', shapes: [[4], [4]], fn: (a, b) => cr.matmul(a, b) },
  { name: 'matmul 1-D x 2-D', shapes: [[3], [3, 5]], fn: (a, b) => cr.matmul(a, b) },
  { name: 'matmul 2-D x 1-D', shapes: [[2, 3], [3]], fn: (a, b) => cr.matmul(a, b) },
  { name: 'matmul 2-D x 2-D', shapes: [[2, 3], [3, 4]], fn: (a, b) => cr.matmul(a, b) },
  { name: 'matmul transposed operands', shapes: [[3, 2], [4, 3]], fn: (a, b) => cr.matmul(cr.t(a), cr.t(b)) },
  { name: 'matmul batched', shapes: [[2, 2, 3], [2, 3, 4]], fn: (a, b) => cr.matmul(a, b) },
  { name: 'matmul broadcast batch (2,1,3,4)x(5,4,2)', shapes: [[2, 1, 3, 4], [5, 4, 2]], fn: (a, b) => cr.matmul(a, b) },
  { name: 'matmul (2,3,4)x(4,)', shapes: [[2, 3, 4], [4]], fn: (a, b) => cr.matmul(a, b) },
  { name: 'matmul (3,)x(2,3,4)', shapes: [[3], [2, 3, 4]], fn: (a, b) => cr.matmul(a, b) },
  { name: 'matmul (3,4)x(2,4,2)', shapes: [[3, 4], [2, 4, 2]], fn: (a, b) => cr.matmul(a, b) },
  { name: 'matmul permuted batch views', shapes: [[2, 4, 3], [4, 2, 2]], fn: (a, b) => cr.matmul(cr.transpose(a, 1, 2), cr.permute(b, [1, 0, 2])) },
  // ---- shapes and views
  { name: 'reshape', shapes: [[2, 3, 4]], fn: (a) => cr.reshape(a, [4, -1]) },
  { name: 'reshape of permuted (copy)', shapes: [[2, 3, 4]], fn: (a) => cr.reshape(cr.permute(a, [2, 0, 1]), [4, 6]) },
  { name: 'view', shapes: [[2, 3, 4]], fn: (a) => cr.view(a, [6, 4]) },
  { name: 'flatten(1)', shapes: [[2, 3, 4]], fn: (a) => cr.flatten(a, 1) },
  { name: 'permute', shapes: [[2, 3, 4]], fn: (a) => cr.permute(a, [2, 0, 1]) },
  { name: 'transpose', shapes: [[2, 3, 4]], fn: (a) => cr.transpose(a, 0, 2) },
  { name: 't', shapes: [[2, 3]], fn: (a) => cr.t(a) },
  { name: 'select', shapes: [[2, 3, 4]], fn: (a) => cr.select(a, 1, -1) },
  { name: 'narrow', shapes: [[2, 5]], fn: (a) => cr.narrow(a, 1, 1, 3) },
  { name: 'squeeze()', shapes: [[1, 3, 1, 2]], fn: (a) => cr.squeeze(a) },
  { name: 'squeeze(dim)', shapes: [[1, 3, 1, 2]], fn: (a) => cr.squeeze(a, 2) },
  { name: 'unsqueeze', shapes: [[2, 3]], fn: (a) => cr.unsqueeze(a, 1) },
  { name: 'expand', shapes: [[3, 1]], fn: (a) => cr.expand(a, [2, 3, 4]) },
  { name: 'cat dim 0', shapes: [[2, 3], [1, 3], [3, 3]], fn: (a, b, c) => cr.cat([a, b, c], 0) },
  { name: 'cat dim -1', shapes: [[2, 2], [2, 3]], fn: (a, b) => cr.cat([a, b], -1) },
  { name: 'stack dim 1', shapes: [[2, 3], [2, 3]], fn: (a, b) => cr.stack([a, b], 1) },
  { name: 'chunk', shapes: [[2, 5]], fn: (a) => cr.chunk(a, 3, 1) },
  { name: 'split sizes', shapes: [[2, 6]], fn: (a) => cr.split(a, [1, 0, 3, 2], 1) },
  { name: 'split size', shapes: [[5, 2]], fn: (a) => cr.split(a, 2) },
  { name: 'unbind', shapes: [[2, 3, 4]], fn: (a) => cr.unbind(a, 2) },
  { name: 'indexSelect repeated rows', shapes: [[4, 3]], fn: (a) => cr.indexSelect(a, 0, idx([3, 0, 3, 1])) },
  { name: 'indexSelect dim 1', shapes: [[2, 3, 4]], fn: (a) => cr.indexSelect(a, 1, idx([2, 2, 0])) },
  { name: 'contiguous of permuted', shapes: [[2, 3, 4]], fn: (a) => cr.contiguous(cr.permute(a, [2, 0, 1])) },
  { name: 'clone', shapes: [[2, 3]], fn: (a) => cr.clone(a) },
  // ---- views as inputs of other ops
  { name: 'exp of permuted view', shapes: [[2, 3, 4]], fn: (a) => cr.exp(cr.permute(a, [1, 2, 0])) },
  { name: 'mul of narrow and transposed views', shapes: [[4, 5], [3, 4]], fn: (a, b) => cr.mul(cr.narrow(a, 1, 1, 3), cr.t(b)) },
  { name: 'sum over a narrowed permuted view', shapes: [[3, 4, 2]], fn: (a) => cr.sum(cr.narrow(cr.permute(a, [2, 0, 1]), 2, 1, 2), 1) },
  { name: 'softmax of transposed view', shapes: [[4, 3]], fn: (a) => cr.softmax(cr.t(a), 1) },
  { name: 'matmul of narrowed views', shapes: [[2, 5], [3, 6]], fn: (a, b) => cr.matmul(cr.narrow(a, 1, 2, 3), cr.narrow(b, 1, 1, 4)) },
  { name: 'div of expanded view', shapes: [[1, 3], [2, 3]], fn: (a, b) => cr.div(cr.expand(a, [2, 3]), b), map: [undefined, awayFromZero] },
  // ---- composite graphs
  { name: 'x*x + x (x used three times)', shapes: [[2, 3]], fn: (x) => cr.add(cr.mul(x, x), x) },
  { name: 'tanh(x) * sigmoid(x) / (1 + x^2)', shapes: [[3, 2]], fn: (x) => cr.div(cr.mul(cr.tanh(x), cr.sigmoid(x)), cr.add(cr.square(x), 1)) },
  { name: 'logSoftmax(x W + b) mean', shapes: [[4, 3], [3, 5], [5]], fn: (x, w, b) => cr.mean(cr.logSoftmax(cr.add(cr.matmul(x, w), b), 1)) },
  { name: 'two outputs of chunk recombined', shapes: [[4, 3]], fn: (x) => { const [p, q] = cr.chunk(x, 2, 0); return cr.mul(p, cr.exp(q)); } },
  { name: 'diamond: y = exp(x); y*y + sum(y)', shapes: [[3]], fn: (x) => { const y = cr.exp(x); return cr.add(cr.mul(y, y), cr.sum(y)); } },
  { name: 'stack of views of one tensor', shapes: [[3, 3]], fn: (x) => cr.stack([cr.t(x), x, cr.select(cr.unsqueeze(x, 0), 0, 0)]) },
  { name: 'gru-like cell', shapes: [[2, 3], [3, 6], [2, 3]], fn: (x, w, h) => {
    const [r, z] = cr.chunk(cr.sigmoid(cr.matmul(x, w)), 2, 1);
    const n = cr.tanh(cr.mul(r, h));
    return cr.add(cr.mul(cr.sub(cr.onesLike(z), z), n), cr.mul(z, h));
  } },
];

describe('gradcheck (float64, central differences)', () => {
  test.each(SPECS.map((s, i) => [s.name, s, i] as const))('%s', (_name, spec, i) => {
    const rng = prng(1000 + i);
    const before = cr.memory().numTensors;
    const inputs = spec.shapes.map((shape, k) => randomInput(rng, shape, spec.map?.[k]));
    try {
      const n = gradcheck(spec.fn, inputs, { seed: 77 + i });
      expect(n).toBe(inputs.reduce((p, x) => p + x.numel, 0));
    } finally {
      inputs.forEach((x) => x.dispose());
    }
    expect(cr.memory().numTensors).toBe(before);
  });

  test('to(float32) and back: gradient is cast back to the input dtype', () => {
    // Dyadic inputs and a dyadic eps make float32 rounding exact, so central
    // differences of the (linear) cast are exact too.
    const x = cr.tensor(Float64Array.from([0.5, -1.25, 2.75, 0.125]), { dtype: 'float64', requiresGrad: true });
    try {
      gradcheck((a) => cr.mul(cr.to(a, 'float32'), 3), [x], { eps: 2 ** -7 });
      expect(x.grad?.dtype).toBe('float64');
    } finally {
      x.dispose();
    }
  });

  test('the helper detects a wrong gradient', () => {
    // A function whose recorded backward is wrong: detach() hides x from the graph in one term.
    const x = cr.tensor(Float64Array.from([0.3, -0.7, 1.1]), { dtype: 'float64', requiresGrad: true });
    try {
      expect(() => gradcheck((a) => cr.mul(a, a.detach()), [x])).toThrow(/gradcheck failed/);
    } finally {
      x.dispose();
    }
  });
});

describe('retainGraph', () => {
  const FREED = 'Trying to backward through the graph a second time';

  test('a second backward without retainGraph throws PyTorch\'s message', () => {
    cr.tidy(() => {
      const x = cr.tensor([1, 2, 3], { dtype: 'float64', requiresGrad: true });
      const y = cr.sum(cr.mul(x, x));
      y.backward();
      expect(Array.from(x.grad!.dataSync())).toEqual([2, 4, 6]);
      let err: unknown;
      try {
        y.backward();
      } catch (e) {
        err = e;
      }
      expect(err).toBeDefined();
      expect((err as Error).message).toContain(FREED);
      expect((err as Error).message).toContain('retainGraph');
      // the first gradient is untouched by the failed second pass
      expect(Array.from(x.grad!.dataSync())).toEqual([2, 4, 6]);
    });
  });

  test('a saved-tensor-free graph also refuses a second pass (node released)', () => {
    cr.tidy(() => {
      const x = cr.tensor([1, 2], { dtype: 'float64', requiresGrad: true });
      const y = cr.sum(cr.add(cr.exp(x), 1));
      y.backward();
      expect(() => y.backward()).toThrow(FREED);
    });
  });

  test('with retainGraph the second backward accumulates', () => {
    cr.tidy(() => {
      const x = cr.tensor([1, -2, 3], { dtype: 'float64', requiresGrad: true });
      const y = cr.sum(cr.add(cr.mul(x, x), x));
      y.backward(undefined, { retainGraph: true });
      expect(Array.from(x.grad!.dataSync())).toEqual([3, -3, 7]);
      y.backward(undefined, { retainGraph: true });
      expect(Array.from(x.grad!.dataSync())).toEqual([6, -6, 14]);
      y.backward();
      expect(Array.from(x.grad!.dataSync())).toEqual([9, -9, 21]);
      expect(() => y.backward()).toThrow(FREED);
    });
  });

  test('backward through part of a retained graph then the whole', () => {
    cr.tidy(() => {
      const x = cr.tensor([0.5, 1.5], { dtype: 'float64', requiresGrad: true });
      const h = cr.tanh(x);
      const a = cr.sum(h);
      const b = cr.sum(cr.mul(h, 2));
      a.backward(undefined, { retainGraph: true });
      b.backward();
      const expected = [0.5, 1.5].map((v) => 3 * (1 - Math.tanh(v) ** 2));
      const got = Array.from(x.grad!.dataSync());
      got.forEach((g, i) => expect(Math.abs(g - expected[i])).toBeLessThan(1e-12));
    });
  });
});
