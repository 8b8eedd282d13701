// nn.LSTM behaviour beyond the numeric grid: bitwise PyTorch initialisation
// (weight_hr included), parameter names and shapes with a projection, repr,
// PyTorch's checks and messages for the constructor and for (h0, c0),
// finite-difference gradcheck in float64 (with and without a projection,
// through dropout), dropout semantics, batch size 0, to(), stateDict and a
// torch-written safetensors file. Reference data: test/fixtures/lstm.json
// (gen_lstm.py, PyTorch 1.13).
import * as fs from 'fs';
import * as path from 'path';
import { add, manualSeed, mul, nn, noGrad, ones, randn, sum, tensor, Tensor, zeros } from '../lib';
import * as st from '../lib/io/safetensors';

import { compare, DT, FixtureTensor, toTensor } from './helpers/lstm-fixture';

interface LstmConfig {
  input_size: number;
  hidden_size: number;
  num_layers?: number;
  bias?: boolean;
  batch_first?: boolean;
  bidirectional?: boolean;
  dropout?: number;
  proj_size?: number;
  dtype?: DT;
}

const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'lstm.json'), 'utf8')) as {
  init: Array<LstmConfig & { seed: number; params: Record<string, FixtureTensor>; next_rand: FixtureTensor }>;
  repr: Array<LstmConfig & { repr: string }>;
  errors: Record<string, string>;
  safetensors: {
    writer: string; base64: string; metadata: Record<string, string>;
    input: FixtureTensor; h0: FixtureTensor; c0: FixtureTensor; output: FixtureTensor; h_n: FixtureTensor; c_n: FixtureTensor;
  };
};

function build(c: LstmConfig): nn.LSTM {
  const opts: nn.LSTMOptions = {};
  if (c.num_layers !== undefined) opts.numLayers = c.num_layers;
  if (c.bias !== undefined) opts.bias = c.bias;
  if (c.batch_first !== undefined) opts.batchFirst = c.batch_first;
  if (c.bidirectional !== undefined) opts.bidirectional = c.bidirectional;
  if (c.dropout !== undefined) opts.dropout = c.dropout;
  if (c.proj_size !== undefined) opts.projSize = c.proj_size;
  if (c.dtype !== undefined) opts.dtype = c.dtype;
  return new nn.LSTM(c.input_size, c.hidden_size, opts);
}

function describeConfig(c: LstmConfig): string {
  const kw = Object.entries(c).filter(([k]) => !['input_size', 'hidden_size', 'seed', 'params', 'next_rand', 'repr'].includes(k));
  return `LSTM(${c.input_size}, ${c.hidden_size}${kw.map(([k, v]) => `, ${k}=${v}`).join('')})`;
}

const shapeOf = (t: Tensor): number[] => [...t.shape];

describe('initialisation is bit-identical to torch.manual_seed(s); nn.LSTM(...)', () => {
  test.each(fixture.init.map((e) => [`seed ${e.seed} ${describeConfig(e)}`, e] as const))('%s', (_n, e) => {
    manualSeed(e.seed);
    const rnn = build(e);
    const dtype = e.dtype ?? 'float32';
    try {
      const named = rnn.namedParameters();
      expect(named.map(([n]) => n)).toEqual(Object.keys(e.params));
      for (const [name, p] of named) {
        const want = e.params[name];
        expect([name, shapeOf(p), p.dtype]).toEqual([name, want.shape, dtype]);
        const expected = dtype === 'float64' ? Float64Array.from(want.data) : Float32Array.from(want.data);
        const got = p.dataSync();
        const bad = Array.from(expected).findIndex((v, i) => !Object.is(v, got[i]));
        expect([name, bad]).toEqual([name, -1]);
      }
      // The generator advanced exactly as torch's did.
      const next = Float32Array.from(e.next_rand.data);
      expect(Array.from(noGrad(() => toTensor({ shape: [4], data: Array.from(next) }, 'float32')).dataSync())).toEqual(Array.from(next));
      const { rand } = jest.requireActual('../lib') as typeof import('../lib');
      expect(Array.from(rand([4]).dataSync())).toEqual(Array.from(next));
    } finally {
      rnn.dispose();
    }
  });
});

describe('parameters, repr and options', () => {
  test('torch\'s order and shapes with a projection (weight_hr after the biases, no projection bias)', () => {
    const rnn = new nn.LSTM(3, 5, 2, { projSize: 2, bidirectional: true });
    const shapes = rnn.namedParameters().map(([n, p]) => [n, shapeOf(p)]);
    expect(shapes.slice(0, 10)).toEqual([
      ['weight_ih_l0', [20, 3]], ['weight_hh_l0', [20, 2]], ['bias_ih_l0', [20]], ['bias_hh_l0', [20]], ['weight_hr_l0', [2, 5]],
      ['weight_ih_l0_reverse', [20, 3]], ['weight_hh_l0_reverse', [20, 2]], ['bias_ih_l0_reverse', [20]], ['bias_hh_l0_reverse', [20]], ['weight_hr_l0_reverse', [2, 5]],
    ]);
    // Layer 1's input is both directions' projected outputs.
    expect(shapes[10]).toEqual(['weight_ih_l1', [20, 4]]);
    expect(rnn.getParameter('weight_hr_l1_reverse').shape).toEqual([2, 5]);
    expect(rnn.projSize).toBe(2);
    rnn.dispose();
  });

  test.each(fixture.repr.map((r) => [r.repr, r] as const))('repr %s', (text, r) => {
    const rnn = build(r);
    expect(rnn.toString()).toBe(text);
    rnn.dispose();
  });

  test('torch\'s messages for a bad projSize (and no projSize on RNN/GRU)', () => {
    expect(() => new nn.LSTM(3, 4, { projSize: -1 })).toThrow(new RangeError(fixture.errors['proj_size negative']));
    expect(() => new nn.LSTM(3, 4, { projSize: 4 })).toThrow(new RangeError(fixture.errors['proj_size equal to hidden_size']));
    expect(() => new nn.LSTM(3, 4, { projSize: 1.5 })).toThrow(new TypeError('proj_size should be of type int, got: float (1.5)'));
    expect(() => new nn.LSTM(3, 4, { projSize: '2' as unknown as number })).toThrow(/proj_size should be of type int, got: str/);
    expect(() => new nn.GRU(3, 4, { projSize: 0 } as never)).toThrow(fixture.errors['proj_size on GRU']);
    expect(() => new nn.RNN(3, 4, { projSize: 2 } as never)).toThrow(fixture.errors['proj_size on GRU']);
    expect(() => new nn.LSTM(3, 4, { nonlinearity: 'relu' } as never)).toThrow(/LSTM: unknown option "nonlinearity"/);
    expect(() => new nn.LSTM(3, 4, { proj_size: 2 } as never)).toThrow(/unknown option "proj_size"/);
  });
});

describe('forward arguments: torch\'s checks and messages', () => {
  const rnn = new nn.LSTM(3, 4, 2, { projSize: 2 });
  const x = randn([5, 2, 3]);
  afterAll(() => rnn.dispose());

  test('shapes of output, h_n and c_n (batched, unbatched, batchFirst)', () => {
    const [out, [h, c]] = rnn.forward(x);
    expect([shapeOf(out), shapeOf(h), shapeOf(c)]).toEqual([[5, 2, 2], [2, 2, 2], [2, 2, 4]]);
    const [ou, [hu, cu]] = rnn.forward(randn([5, 3]));
    expect([shapeOf(ou), shapeOf(hu), shapeOf(cu)]).toEqual([[5, 2], [2, 2], [2, 4]]);
    const bf = new nn.LSTM(3, 4, { batchFirst: true });
    const [ob, [hb, cb]] = bf.forward(randn([2, 5, 3]));
    expect([shapeOf(ob), shapeOf(hb), shapeOf(cb)]).toEqual([[2, 5, 4], [1, 2, 4], [1, 2, 4]]);
    bf.dispose();
  });

  test('hx is the pair [h0, c0]: a lone tensor, or a pair of another length, is refused', () => {
    expect(() => rnn.forward(x, zeros([2, 2, 2]) as never)).toThrow(new TypeError('LSTM.forward: expected hx to be an array [h_0, c_0] of two tensors, but got a Tensor'));
    expect(() => rnn.forward(x, [zeros([2, 2, 2]), zeros([2, 2, 4]), zeros([1])] as never)).toThrow(fixture.errors['three states']);
    expect(() => rnn.forward(x, [zeros([2, 2, 2])] as never)).toThrow(fixture.errors['three states']);
    expect(() => rnn.forward(x, [zeros([2, 2, 2]), 'c' as never])).toThrow(/expected hx\[1\] to be a Tensor/);
  });

  test.each([
    ['hx rank batched', () => [x, [zeros([2, 2]), zeros([2, 2, 4])]]],
    ['hx rank unbatched', () => [select0(x), [zeros([2, 2, 2]), zeros([2, 2, 4])]]],
    ['hidden[0] size', () => [x, [zeros([2, 2, 4]), zeros([2, 2, 4])]]],
    ['hidden[1] size', () => [x, [zeros([2, 2, 2]), zeros([2, 2, 2])]]],
    ['hidden[0] size unbatched', () => [select0(x), [zeros([2, 3]), zeros([2, 4])]]],
  ] as Array<[string, () => [Tensor, [Tensor, Tensor]]]>)('%s: torch\'s message', (key, args) => {
    const [input, hx] = args();
    expect(() => rnn.forward(input, hx)).toThrow(fixture.errors[key]);
  });

  test('wrong dtypes name the state', () => {
    expect(() => rnn.forward(x, [zeros([2, 2, 2], { dtype: 'float64' }), zeros([2, 2, 4])])).toThrow('hx dtype (torch.float64) does not match weight dtype (torch.float32)');
    expect(() => rnn.forward(x, [zeros([2, 2, 2]), zeros([2, 2, 4], { dtype: 'float64' })])).toThrow('cx dtype (torch.float64) does not match weight dtype (torch.float32)');
    expect(() => rnn.forward(randn([2, 2, 3, 1]))).toThrow('LSTM: Expected input to be 2D or 3D, got 4D instead');
  });

  test('hx = null equals zeros (test_projections_lstm_initial_hidden_state)', () => {
    const [o1, [h1, c1]] = rnn.forward(x);
    const [o2, [h2, c2]] = rnn.forward(x, [zeros([2, 2, 2]), zeros([2, 2, 4])]);
    expect(Array.from(o1.dataSync())).toEqual(Array.from(o2.dataSync()));
    expect(Array.from(h1.dataSync())).toEqual(Array.from(h2.dataSync()));
    expect(Array.from(c1.dataSync())).toEqual(Array.from(c2.dataSync()));
  });

  test('batch size 0 gives empty outputs and zero weight gradients', () => {
    const [out, [h, c]] = rnn.forward(zeros([5, 0, 3]));
    expect([shapeOf(out), shapeOf(h), shapeOf(c)]).toEqual([[5, 0, 2], [2, 0, 2], [2, 0, 4]]);
    sum(out).backward();
    for (const [n, p] of rnn.namedParameters()) expect([n, Math.max(...Array.from((p.grad as Tensor).dataSync()).map(Math.abs))]).toEqual([n, 0]);
    rnn.zeroGrad();
  });
});

describe('autograd through (h0, c0)', () => {
  test('a graph recorded for c0 alone (x, h0 and weights frozen) gives the same c0.grad as the full one', () => {
    manualSeed(8);
    const rnn = new nn.LSTM(3, 4, { numLayers: 2, projSize: 2, dtype: 'float64' });
    const x = randn([4, 2, 3], { dtype: 'float64' });
    const h0 = randn([2, 2, 2], { dtype: 'float64' });
    const c0 = randn([2, 2, 4], { dtype: 'float64' });
    const lossOf = (out: Tensor, hn: Tensor, cn: Tensor): Tensor => add(add(sum(out), sum(mul(hn, hn))), sum(mul(cn, 0.5)));
    const c0a = c0.clone().requiresGrad_();
    const [o1, [h1, k1]] = rnn.forward(x.clone().requiresGrad_(), [h0.clone().requiresGrad_(), c0a]);
    lossOf(o1, h1, k1).backward();
    for (const p of rnn.parameters()) p.requiresGrad = false;
    const c0b = c0.clone().requiresGrad_();
    const [o2, [h2, k2]] = rnn.forward(x, [h0, c0b]);
    expect(o2.requiresGrad).toBe(true);
    lossOf(o2, h2, k2).backward();
    expect(compare('c0.grad', c0b.grad, { shape: [2, 2, 4], data: Array.from((c0a.grad as Tensor).dataSync()) }, 'float64')).toEqual([]);
    rnn.dispose();
  });

  test('non-contiguous h0/c0 views are accepted (made contiguous) and get gradients of their own shape', () => {
    const rnn = new nn.LSTM(3, 4, { projSize: 2 });
    const hBig = zeros([1, 2, 4]).requiresGrad_();
    const cT = zeros([4, 2, 1]).requiresGrad_();
    const h0 = hBig.narrow(2, 1, 2); // (1, 2, 2), strided
    const c0 = cT.permute([2, 1, 0]); // (1, 2, 4), transposed
    const [out, [hn, cn]] = rnn.forward(randn([3, 2, 3]), [h0, c0]);
    add(add(sum(out), sum(hn)), sum(cn)).backward();
    expect([shapeOf(hBig.grad as Tensor), shapeOf(cT.grad as Tensor)]).toEqual([[1, 2, 4], [4, 2, 1]]);
    rnn.dispose();
  });

  test('a disposed c0 or module is refused with a clear error, never a crash', () => {
    const rnn = new nn.LSTM(3, 4);
    const c0 = zeros([1, 2, 4]);
    c0.dispose();
    expect(() => rnn.forward(randn([3, 2, 3]), [zeros([1, 2, 4]), c0])).toThrow(/hx\[1\]/);
    rnn.dispose();
    expect(() => rnn.forward(randn([3, 2, 3]))).toThrow(/LSTM.forward: the module was disposed/);
  });
});

function select0(t: Tensor): Tensor {
  return t.select(1, 0);
}

// ---------------------------------------------------------------------------

const FD_EPS = 1e-6;
const ATOL = 1e-6;
const RTOL = 1e-5;

/**
 * Central differences for sum(out*gOut) + sum(h_n*gH) + sum(c_n*gC) w.r.t.
 * input, h0, c0 and every entry of every parameter, compared with autograd.
 * `before` runs before each forward (reseeding fixes a dropout mask).
 */
function gradcheckLstm(rnn: nn.LSTM, xShape: number[], hShape: number[], cShape: number[], before: () => void = () => undefined): string[] {
  const dtype = 'float64' as const;
  const xv = randn(xShape, { dtype }).dataSync() as Float64Array;
  const hv = randn(hShape, { dtype }).dataSync() as Float64Array;
  const cv = randn(cShape, { dtype }).dataSync() as Float64Array;
  const mk = (v: Float64Array, shape: number[], grad = false): Tensor => tensor(Float64Array.from(v), { shape, dtype, requiresGrad: grad });
  let ups: Float64Array[] | null = null;
  const run = (x: Tensor, h: Tensor, c: Tensor): Tensor[] => {
    before();
    const [out, [hn, cn]] = rnn.forward(x, [h, c]);
    return [out, hn, cn];
  };
  const lossAt = (x: Float64Array, h: Float64Array, c: Float64Array): number => noGrad(() => {
    const outs = run(mk(x, xShape), mk(h, hShape), mk(c, cShape));
    let s = 0;
    outs.forEach((o, k) => {
      const v = o.dataSync();
      for (let i = 0; i < v.length; ++i) s += v[i] * (ups as Float64Array[])[k][i];
    });
    return s;
  });
  const x = mk(xv, xShape, true);
  const h0 = mk(hv, hShape, true);
  const c0 = mk(cv, cShape, true);
  const outs = run(x, h0, c0);
  ups = outs.map((o) => randn(shapeOf(o), { dtype }).dataSync() as Float64Array);
  outs.map((o, k) => sum(mul(o, tensor(Float64Array.from((ups as Float64Array[])[k]), { shape: shapeOf(o), dtype })))).reduce((a, b) => add(a, b)).backward();
  const bad: string[] = [];
  const check = (what: string, a: number, n: number): void => {
    if (!(Math.abs(a - n) <= ATOL + RTOL * Math.abs(n))) bad.push(`${what}: autograd ${a}, finite differences ${n}`);
  };
  const fd = (label: string, base: Float64Array, analytic: ArrayLike<number>, at: (v: Float64Array) => number): void => {
    for (let i = 0; i < base.length; ++i) {
      const p = Float64Array.from(base);
      const m = Float64Array.from(base);
      p[i] += FD_EPS;
      m[i] -= FD_EPS;
      check(`${label}[${i}]`, analytic[i], (at(p) - at(m)) / (2 * FD_EPS));
    }
  };
  fd('input', xv, (x.grad as Tensor).dataSync(), (v) => lossAt(v, hv, cv));
  fd('h0', hv, (h0.grad as Tensor).dataSync(), (v) => lossAt(xv, v, cv));
  fd('c0', cv, (c0.grad as Tensor).dataSync(), (v) => lossAt(xv, hv, v));
  for (const [name, prm] of rnn.namedParameters()) {
    const g = (prm.grad as Tensor).dataSync();
    const base = Float64Array.from(prm.dataSync());
    const setTo = (v: Float64Array): void => noGrad(() => {
      const t = tensor(v, { shape: shapeOf(prm), dtype });
      prm.copy_(t);
      t.dispose();
    });
    fd(name, base, g, (v) => {
      setTo(v);
      const l = lossAt(xv, hv, cv);
      setTo(base);
      return l;
    });
  }
  return bad;
}

describe('gradcheck (float64, central differences, eps 1e-6): every input, h0, c0 and parameter entry', () => {
  test.each([
    ['2 layers, projection 2, bidirectional', { numLayers: 2, projSize: 2, bidirectional: true }],
    ['2 layers, projection 2, no bias, batchFirst', { numLayers: 2, projSize: 2, bias: false, batchFirst: true }],
    ['2 layers, no projection, bidirectional', { numLayers: 2, bidirectional: true }],
  ] as Array<[string, nn.LSTMOptions]>)('%s', (_n, opts) => {
    manualSeed(2024);
    const rnn = new nn.LSTM(2, 3, { ...opts, dtype: 'float64' });
    const D = opts.bidirectional ? 2 : 1;
    const L = opts.numLayers as number;
    const R = opts.projSize ?? 3;
    const xShape = opts.batchFirst ? [2, 3, 2] : [3, 2, 2];
    expect(gradcheckLstm(rnn, xShape, [D * L, 2, R], [D * L, 2, 3])).toEqual([]);
    rnn.dispose();
  });

  test('through dropout (3 layers, bidirectional, projection 2, p = 0.4; mask fixed by reseeding)', () => {
    manualSeed(5150);
    const rnn = new nn.LSTM(2, 3, { numLayers: 3, bidirectional: true, projSize: 2, dropout: 0.4, dtype: 'float64' });
    expect(gradcheckLstm(rnn, [3, 2, 2], [6, 2, 2], [6, 2, 3], () => manualSeed(99))).toEqual([]);
    rnn.dispose();
  });
});

// ---------------------------------------------------------------------------

describe('dropout (test_RNN_dropout for an LSTM): between layers, in training mode only', () => {
  // Layer 0: only the cell-input rows of W_ih are 0.1, so with x = ones
  // every unit gives the same h1 = 0.5 tanh(0.5 tanh(1)). Layer 1: only its
  // cell-input rows are w, so every output unit is 0.5 tanh(0.5 tanh(w S))
  // with S the sum of layer 1's input after dropout = kept * h1 / (1 - p):
  // inverting gives how many units were kept.
  const U = 400;  // units per layer (the kept count is Binomial(U, 1 - p))
  const w = 1e-3;
  const h1 = 0.5 * Math.tanh(0.5 * Math.tanh(1));
  function keptUnits(p: number, train: boolean): { kept: number; hn: Float64Array; cn: Float64Array } {
    const rnn = new nn.LSTM(10, U, { numLayers: 2, bias: false, dropout: p, dtype: 'float64' });
    noGrad(() => {
      for (const q of rnn.parameters()) q.fill_(0);
      rnn.getParameter('weight_ih_l0').narrow(0, 2 * U, U).fill_(0.1);
      rnn.getParameter('weight_ih_l1').narrow(0, 2 * U, U).fill_(w);
    });
    if (train) rnn.train();
    else rnn.eval();
    const [out, [hn, cn]] = rnn.forward(ones([1, 1, 10], { dtype: 'float64' }));
    const o = out.dataSync();
    expect(o.every((v) => v === o[0])).toBe(true); // the last layer is never dropped
    const y = o[0];
    const s = Math.atanh(2 * Math.atanh(2 * y)) / w;
    rnn.dispose();
    // Kept inputs are scaled by 1/(1-p) in training; eval mode passes all unscaled.
    return { kept: train ? (s * (1 - p)) / h1 : s / h1, hn: hn.dataSync() as Float64Array, cn: cn.dataSync() as Float64Array };
  }

  test.each([[0], [0.276], [0.5], [1]])('p = %p', (p) => {
    for (const train of [true, false]) {
      const { kept, hn, cn } = keptUnits(p, train);
      const tag = `train=${train}`;
      if (p === 0 || !train) {
        expect([tag, Math.abs(kept - U) < 1e-6]).toEqual([tag, true]);
      } else if (p === 1) {
        expect([tag, kept]).toEqual([tag, 0]);
      } else {
        expect([tag, Math.abs(kept - Math.round(kept)) < 1e-6]).toEqual([tag, true]);
        const sd = Math.sqrt(U * p * (1 - p));
        expect([tag, Math.abs(kept - U * (1 - p)) < 5 * sd]).toEqual([tag, true]);
      }
      // h_n and c_n of layer 0 are never dropped.
      expect([tag, hn.subarray(0, U).every((v) => v === hn[0]), Math.abs(hn[0] - h1) < 1e-15]).toEqual([tag, true, true]);
      expect([tag, cn.subarray(0, U).every((v) => v === cn[0])]).toEqual([tag, true]);
    }
  });

  test('the same seed gives the same mask (forward and forwardAsync)', async () => {
    const rnn = new nn.LSTM(4, 8, { numLayers: 2, dropout: 0.5, dtype: 'float64' });
    const x = randn([3, 2, 4], { dtype: 'float64' });
    manualSeed(7);
    const [a] = rnn.forward(x);
    manualSeed(7);
    const [b] = await rnn.forwardAsync(x);
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    rnn.eval();
    const [c] = rnn.forward(x);
    expect(Array.from(c.dataSync())).not.toEqual(Array.from(a.dataSync()));
    rnn.dispose();
  });
});

// ---------------------------------------------------------------------------

describe('conversions and state', () => {
  test("to('float64') and back keeps values and the projection; gradients move too", () => {
    manualSeed(3);
    const rnn = new nn.LSTM(3, 5, 2, { projSize: 2, bidirectional: true });
    const x = randn([4, 2, 3]);
    const [y32] = rnn.forward(x);
    sum(y32).backward();
    const g = Array.from((rnn.getParameter('weight_hr_l1').grad as Tensor).dataSync());
    rnn.to('float64');
    expect([rnn.dtype, rnn.getParameter('weight_hr_l0').dtype, shapeOf(rnn.getParameter('weight_hr_l0'))]).toEqual(['float64', 'float64', [2, 5]]);
    expect(Array.from((rnn.getParameter('weight_hr_l1').grad as Tensor).dataSync())).toEqual(g);
    const [y64] = rnn.forward(x.to('float64'));
    // float64 arithmetic on the same values: float32's tolerance.
    expect(compare('float64 output', y64, { shape: shapeOf(y32), data: Array.from(y32.dataSync()) }, 'float64', 1e-5)).toEqual([]);
    rnn.to('float32');
    const [back] = rnn.forward(x);
    expect(Array.from(back.dataSync())).toEqual(Array.from(y32.dataSync()));
    rnn.dispose();
  });

  test('stateDict -> loadStateDict into a fresh LSTM reproduces the outputs', () => {
    const a = new nn.LSTM(3, 4, { projSize: 3, numLayers: 2 });
    const b = new nn.LSTM(3, 4, { projSize: 3, numLayers: 2 });
    b.loadStateDict(a.stateDict());
    const x = randn([2, 1, 3]);
    const [ya, [ha, ca]] = a.forward(x);
    const [yb, [hb, cb]] = b.forward(x);
    for (const [p, q] of [[ya, yb], [ha, hb], [ca, cb]]) expect(Array.from(q.dataSync())).toEqual(Array.from(p.dataSync()));
    // A projected state dict does not fit an LSTM without one.
    const c = new nn.LSTM(3, 4, { numLayers: 2 });
    expect(() => c.loadStateDict(a.stateDict())).toThrow(/Unexpected key\(s\) in state_dict: "weight_hr_l0", "weight_hr_l1"/);
    for (const m of [a, b, c]) m.dispose();
  });

  test(`a torch LSTM saved as safetensors (${fixture.safetensors.writer}) loads and gives torch's outputs`, () => {
    const f = fixture.safetensors;
    const bytes = Buffer.from(f.base64, 'base64');
    expect(st.deserializeMetadata(bytes)).toEqual(f.metadata);
    const rnn = new nn.LSTM(3, 5, { numLayers: 2, projSize: 2, bidirectional: true, dtype: 'float64' });
    rnn.loadStateDict(st.deserialize(bytes));
    const [y, [h, c]] = rnn.forward(toTensor(f.input, 'float64'), [toTensor(f.h0, 'float64'), toTensor(f.c0, 'float64')]);
    const fails = [...compare('output', y, f.output, 'float64'), ...compare('h_n', h, f.h_n, 'float64'), ...compare('c_n', c, f.c_n, 'float64')];
    expect(fails).toEqual([]);
    // And our writer gives a file torch's layout reads back the same.
    const again = st.deserialize(st.serialize(rnn.stateDict()));
    expect(Object.keys(again).sort()).toEqual(Object.keys(rnn.stateDict()).sort());
    rnn.dispose();
  });
});
