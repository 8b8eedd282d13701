// nn.RNN / nn.GRU behaviour beyond the numeric grid: bitwise PyTorch
// initialisation, parameter naming, repr, finite-difference gradcheck,
// PyTorch's argument checks and messages, batch size 0, dropout semantics
// (test_RNN_dropout & co.), forwardAsync, train/eval, to(), zeroGrad and
// loadStateDict errors. Reference data: test/fixtures/rnn.json (gen_rnn.py,
// PyTorch 1.13); messages: shared/reference/pytorch-rnn.md sections 1-2.
import * as fs from 'fs';
import * as path from 'path';
import * as util from 'util';
import { add, full, manualSeed, memory, mul, nn, noGrad, ones, rand, randn, sum, tensor, Tensor, tidy, zeros } from '../lib';
import { reclaimNow } from '../lib/storage';

import { allOnesRelu, checkAllOnesDropout, minMax } from './helpers/dropout-check';
import type { DT, FixtureTensor, Mode } from './helpers/rnn-fixture';

interface ModuleConfig {
  mode: Mode;
  input_size: number;
  hidden_size: number;
  num_layers?: number;
  bias?: boolean;
  batch_first?: boolean;
  bidirectional?: boolean;
  dropout?: number;
  dtype?: DT;
}

const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'rnn.json'), 'utf8')) as {
  init: Array<ModuleConfig & { seed: number; params: Record<string, FixtureTensor>; next_rand: FixtureTensor }>;
  repr: Array<ModuleConfig & { repr: string }>;
  load_state_dict: Array<{
    name: string; strict: boolean; drop: string[]; add: Record<string, number[]>; reshape: Record<string, number[]>;
    error: string | null; missing_keys?: string[]; unexpected_keys?: string[];
  }>;
};

function build(c: ModuleConfig): nn.RNNBase {
  const opts: Record<string, unknown> = {};
  if (c.num_layers !== undefined) opts.numLayers = c.num_layers;
  if (c.bias !== undefined) opts.bias = c.bias;
  if (c.batch_first !== undefined) opts.batchFirst = c.batch_first;
  if (c.bidirectional !== undefined) opts.bidirectional = c.bidirectional;
  if (c.dropout !== undefined) opts.dropout = c.dropout;
  if (c.dtype !== undefined) opts.dtype = c.dtype;
  if (c.mode === 'GRU') return new nn.GRU(c.input_size, c.hidden_size, opts);
  return new nn.RNN(c.input_size, c.hidden_size, { ...opts, nonlinearity: c.mode === 'RNN_TANH' ? 'tanh' : 'relu' });
}

function describeConfig(c: ModuleConfig): string {
  const kw = Object.entries(c).filter(([k]) => !['mode', 'input_size', 'hidden_size', 'seed', 'params', 'next_rand', 'repr'].includes(k));
  return `${c.mode}(${c.input_size}, ${c.hidden_size}${kw.map(([k, v]) => `, ${k}=${v}`).join('')})`;
}

/** Index of the first element whose bits differ (Object.is: -0 != 0), or -1. */
function firstBitDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return -2;
  for (let i = 0; i < a.length; ++i) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  expect([what, actual.length]).toEqual([what, expected.length]);
  const bad: string[] = [];
  for (let i = 0; i < expected.length; ++i) {
    if (!(Math.abs(actual[i] - expected[i]) <= tol * Math.max(1, Math.abs(expected[i])))) {
      bad.push(`${what}[${i}]: got ${actual[i]}, expected ${expected[i]}`);
    }
  }
  expect(bad.slice(0, 5)).toEqual([]);
}

const shapeOf = (t: Tensor): number[] => [...t.shape];

/** Runs fn with process.emitWarning spied (and silenced); returns the warning messages. */
function captureWarnings(fn: () => void): string[] {
  const spy = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
  try {
    fn();
    return spy.mock.calls.map((args) => String(args[0] instanceof Error ? args[0].message : args[0]));
  } finally {
    spy.mockRestore();
  }
}

// ---------------------------------------------------------------------------

/** The step of the central differences (both gradchecks below use it). */
const FD_EPS = 1e-6;

type Check = (what: string, analytic: number, numeric: number) => void;

/** Central differences over every entry of a vector input (x or h0). */
function fdVector(label: string, values: Float64Array, analytic: ArrayLike<number>, lossWith: (v: Float64Array) => number, check: Check): void {
  for (let i = 0; i < values.length; ++i) {
    const p = Float64Array.from(values);
    const m = Float64Array.from(values);
    p[i] += FD_EPS;
    m[i] -= FD_EPS;
    check(`${label}[${i}]`, analytic[i], (lossWith(p) - lossWith(m)) / (2 * FD_EPS));
  }
}

/** Central difference for one parameter entry, written in place and restored. */
function fdParamEntry(name: string, prm: Tensor, base: Float64Array, k: number, analytic: number, loss: () => number, check: Check): void {
  const set = (delta: number): void => noGrad(() => {
    const v = Float64Array.from(base);
    v[k] += delta;
    const t = tensor(v, { shape: shapeOf(prm), dtype: 'float64' });
    prm.copy_(t);
    t.dispose();
  });
  set(FD_EPS);
  const lp = loss();
  set(-FD_EPS);
  const lm = loss();
  set(0);
  check(`${name}[${k}]`, analytic, (lp - lm) / (2 * FD_EPS));
}

describe('initialisation is bit-identical to torch.manual_seed(s); nn.GRU/RNN(...)', () => {
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
        const at = firstBitDifference(got, expected);
        expect([name, at, at >= 0 ? `${got[at]} vs torch ${expected[at]}` : '']).toEqual([name, -1, '']);
      }
      // The generator stands exactly where torch's does afterwards (no extra or
      // missing draws, e.g. for the unused biases of bias=False).
      const next = rand([4]).dataSync();
      expect(firstBitDifference(next, Float32Array.from(e.next_rand.data))).toBe(-1);
    } finally {
      rnn.dispose();
    }
  });

  test('resetParameters() redraws from the current stream', () => {
    manualSeed(7);
    const a = new nn.GRU(3, 4);
    manualSeed(7);
    const b = new nn.GRU(3, 4);
    manualSeed(7);
    b.resetParameters();
    for (const [[n, pa], [, pb]] of a.namedParameters().map((x, i) => [x, b.namedParameters()[i]] as const)) {
      expect([n, firstBitDifference(pa.dataSync(), pb.dataSync())]).toEqual([n, -1]);
    }
    const stdv = 1 / Math.sqrt(4);
    for (const p of a.parameters()) for (const v of p.dataSync()) expect(Math.abs(v)).toBeLessThanOrEqual(stdv);
    a.dispose();
    b.dispose();
  });
});

// ---------------------------------------------------------------------------
describe('parameter names, order and shapes', () => {
  test('2-layer bidirectional GRU(5, 7)', () => {
    const rnn = new nn.GRU(5, 7, { numLayers: 2, bidirectional: true });
    const expected: Array<[string, number[]]> = [];
    for (let l = 0; l < 2; ++l) {
      for (const s of ['', '_reverse']) {
        expected.push([`weight_ih_l${l}${s}`, [21, l === 0 ? 5 : 14]], [`weight_hh_l${l}${s}`, [21, 7]],
          [`bias_ih_l${l}${s}`, [21]], [`bias_hh_l${l}${s}`, [21]]);
      }
    }
    expect(rnn.namedParameters().map(([n, p]) => [n, shapeOf(p)])).toEqual(expected);
    expect(Object.keys(rnn.stateDict())).toEqual(expected.map(([n]) => n));
    expect(rnn.flatWeightsNames).toEqual(expected.map(([n]) => n));
    expect(rnn.parameters()).toHaveLength(16);
    for (const [name, p] of rnn.namedParameters()) {
      // Property access (rnn.weight_ih_l0) and the state dict give the live parameter.
      expect((rnn as unknown as Record<string, Tensor>)[name]).toBe(p);
      expect(rnn.stateDict()[name]).toBe(p);
      expect(p.requiresGrad).toBe(true);
      expect(p.isLeaf).toBe(true);
      expect(p.dtype).toBe('float32');
    }
    expect(shapeOf(rnn.weight_ih_l0)).toEqual([21, 5]);
    expect(shapeOf(rnn.getParameter('weight_ih_l1_reverse'))).toEqual([21, 14]);
    expect(shapeOf(rnn.getParameter('bias_hh_l1_reverse'))).toEqual([21]);
    rnn.dispose();
  });

  test('3-layer relu RNN(4, 6) without bias, float64', () => {
    const rnn = new nn.RNN(4, 6, { numLayers: 3, nonlinearity: 'relu', bias: false, dtype: 'float64' });
    expect(rnn.namedParameters().map(([n, p]) => [n, shapeOf(p), p.dtype])).toEqual([
      ['weight_ih_l0', [6, 4], 'float64'], ['weight_hh_l0', [6, 6], 'float64'],
      ['weight_ih_l1', [6, 6], 'float64'], ['weight_hh_l1', [6, 6], 'float64'],
      ['weight_ih_l2', [6, 6], 'float64'], ['weight_hh_l2', [6, 6], 'float64'],
    ]);
    expect((rnn as unknown as Record<string, unknown>).bias_ih_l0 ?? null).toBeNull();
    expect(rnn.nonlinearity).toBe('relu');
    expect(rnn.dtype).toBe('float64');
    rnn.dispose();
  });

  test('attributes and positional numLayers', () => {
    const g = new nn.GRU(3, 4, 2, { batchFirst: true });
    expect([g.inputSize, g.hiddenSize, g.numLayers, g.bias, g.batchFirst, g.bidirectional, g.dropout])
      .toEqual([3, 4, 2, true, true, false, 0]);
    expect(g.parameters()).toHaveLength(8);
    const r = new nn.RNN(3, 4, 2, { nonlinearity: 'relu' });
    expect([r.numLayers, r.nonlinearity]).toEqual([2, 'relu']);
    const d = new nn.RNN(3, 4);
    expect([d.numLayers, d.nonlinearity, d.bias, d.batchFirst, d.bidirectional, d.dtype]).toEqual([1, 'tanh', true, false, false, 'float32']);
    for (const m of [g, r, d]) m.dispose();
  });
});

// ---------------------------------------------------------------------------
describe('toString matches torch repr', () => {
  test.each(fixture.repr.map((e) => [e.repr, e] as const))('%s', (_n, e) => {
    let rnn: nn.RNNBase | null = null;
    captureWarnings(() => {
      rnn = build(e);
    });
    const m = rnn as unknown as nn.RNNBase;
    expect(m.toString()).toBe(e.repr);
    expect(String(m)).toBe(e.repr);
    expect(util.inspect(m)).toBe(e.repr);
    m.dispose();
  });

  test('repr follows a changed dropout attribute', () => {
    const rnn = new nn.GRU(3, 4, { numLayers: 2 });
    rnn.dropout = 0.3;
    expect(rnn.toString()).toBe('GRU(3, 4, num_layers=2, dropout=0.3)');
    rnn.dispose();
  });
});

// ---------------------------------------------------------------------------
describe('gradcheck (float64, central differences, eps 1e-6)', () => {
  const ATOL = 1e-6;
  const RTOL = 1e-5;
  const I = 2;
  const H = 3;
  const T = 3;
  const N = 2;

  const configs: ModuleConfig[] = [];
  for (const mode of ['RNN_TANH', 'RNN_RELU', 'GRU'] as Mode[]) {
    for (const bidirectional of [false, true]) {
      configs.push({ mode, input_size: I, hidden_size: H, num_layers: 2, bidirectional, dtype: 'float64', batch_first: bidirectional });
    }
  }

  test.each(configs.map((c) => [describeConfig(c), c] as const))('%s w.r.t. input, h0 and weights', (_n, c) => {
    manualSeed(2024);
    const rnn = build(c);
    const D = c.bidirectional ? 2 : 1;
    const L = c.num_layers as number;
    const xShape = c.batch_first ? [N, T, I] : [T, N, I];
    const hShape = [D * L, N, H];
    const outShape = c.batch_first ? [N, T, D * H] : [T, N, D * H];
    const xv = randn(xShape, { dtype: 'float64' }).dataSync() as Float64Array;
    const hv = randn(hShape, { dtype: 'float64' }).dataSync() as Float64Array;
    const gOut = randn(outShape, { dtype: 'float64' });
    const gH = randn(hShape, { dtype: 'float64' });
    const gOutV = gOut.dataSync();
    const gHV = gH.dataSync();

    const mk = (v: Float64Array, shape: number[]): Tensor => tensor(Float64Array.from(v), { shape, dtype: 'float64' });
    // The loss sum(out * gOut) + sum(h_n * gH), evaluated in JS double.
    const lossAt = (x: Float64Array, h: Float64Array): number => noGrad(() => {
      const xt = mk(x, xShape);
      const ht = mk(h, hShape);
      const [out, hn] = rnn.forward(xt, ht);
      const o = out.dataSync();
      const hh = hn.dataSync();
      let s = 0;
      for (let i = 0; i < o.length; ++i) s += o[i] * gOutV[i];
      for (let i = 0; i < hh.length; ++i) s += hh[i] * gHV[i];
      for (const t of [xt, ht, out, hn]) t.dispose();
      return s;
    });

    // Analytic gradients.
    const x = mk(xv, xShape).requiresGrad_();
    const h0 = mk(hv, hShape).requiresGrad_();
    const [out, hn] = rnn.forward(x, h0);
    add(sum(mul(out, gOut)), sum(mul(hn, gH))).backward();
    const bad: string[] = [];
    const check = (what: string, analytic: number, numeric: number): void => {
      if (!(Math.abs(analytic - numeric) <= ATOL + RTOL * Math.abs(numeric))) bad.push(`${what}: analytic ${analytic}, numeric ${numeric}`);
    };

    const dx = (x.grad as Tensor).dataSync();
    fdVector('input', xv, dx, (v) => lossAt(v, hv), check);
    const dh = (h0.grad as Tensor).dataSync();
    fdVector('h0', hv, dh, (v) => lossAt(xv, v), check);
    // A few entries of every parameter: first, middle and last.
    for (const [name, prm] of rnn.namedParameters()) {
      const g = (prm.grad as Tensor).dataSync();
      const base = prm.dataSync() as Float64Array;
      const n = base.length;
      for (const k of [...new Set([0, Math.floor(n / 2), n - 1])]) {
        fdParamEntry(name, prm, base, k, g[k], () => lossAt(xv, hv), check);
      }
    }
    expect(bad).toEqual([]);
    rnn.dispose();
  });
});

// ---------------------------------------------------------------------------
describe('constructor checks (reference section 1)', () => {
  test('unknown nonlinearity', () => {
    expect(() => new nn.RNN(3, 4, { nonlinearity: 'sigmoid' as 'tanh' })).toThrow("Unknown nonlinearity 'sigmoid'. Select from 'tanh' or 'relu'.");
    // Checked first, before dropout.
    expect(() => new nn.RNN(3, 4, { nonlinearity: 'gelu' as 'tanh', dropout: 5 })).toThrow("Unknown nonlinearity 'gelu'");
  });

  test('GRU has no nonlinearity option', () => {
    expect(() => new nn.GRU(3, 4, { nonlinearity: 'relu' } as never)).toThrow(TypeError);
  });

  test.each([[1.5], [-0.1], [Number.NaN], [true], ['0.5']])('dropout=%p is rejected', (p) => {
    expect(() => new nn.RNN(3, 4, { numLayers: 2, dropout: p as number }))
      .toThrow('dropout should be a number in range [0, 1] representing the probability of an element being zeroed');
  });

  test('dropout 0 and 1 are accepted', () => {
    for (const p of [0, 1, 0.5]) {
      const r = new nn.GRU(3, 4, { numLayers: 2, dropout: p });
      expect(r.dropout).toBe(p);
      r.dispose();
    }
  });

  test('dropout > 0 with num_layers = 1 warns (process.emitWarning) and still constructs', () => {
    let rnn: nn.RNNBase | null = null;
    const warnings = captureWarnings(() => {
      rnn = new nn.GRU(3, 4, { dropout: 0.5 });
    });
    expect(warnings).toEqual([
      'dropout option adds dropout after all but last recurrent layer, so non-zero dropout expects num_layers greater than 1, but got dropout=0.5 and num_layers=1',
    ]);
    expect((rnn as unknown as nn.RNNBase).dropout).toBe(0.5);
    (rnn as unknown as nn.RNNBase).dispose();
    const w2 = captureWarnings(() => {
      new nn.RNN(3, 4, { dropout: 1 }).dispose();
    });
    expect(w2).toEqual([
      'dropout option adds dropout after all but last recurrent layer, so non-zero dropout expects num_layers greater than 1, but got dropout=1.0 and num_layers=1',
    ]);
    const none = captureWarnings(() => {
      new nn.RNN(3, 4, { numLayers: 2, dropout: 0.5 }).dispose();
      new nn.GRU(3, 4, { dropout: 0 }).dispose();
      new nn.GRU(3, 4).dispose();
    });
    expect(none).toEqual([]);
  });

  test('sizes must be integers greater than zero', () => {
    expect(() => new nn.GRU(0, 4)).toThrow('input_size must be greater than zero');
    expect(() => new nn.GRU(-3, 4)).toThrow('input_size must be greater than zero');
    expect(() => new nn.RNN(3, 0)).toThrow('hidden_size must be greater than zero');
    expect(() => new nn.GRU(3, 4, { numLayers: 0 })).toThrow('num_layers must be greater than zero');
    expect(() => new nn.GRU(3, 4, 0)).toThrow('num_layers must be greater than zero');
    expect(() => new nn.GRU(3.5, 4)).toThrow('input_size should be of type int, got: float');
    expect(() => new nn.RNN(3, 2.5)).toThrow('hidden_size should be of type int, got: float');
    expect(() => new nn.RNN('3' as unknown as number, 4)).toThrow('input_size should be of type int, got: str');
    expect(() => new nn.GRU(3, 4, { numLayers: 1.5 })).toThrow(TypeError);
    expect(() => new nn.GRU(3.5, 4)).toThrow(TypeError);
    expect(() => new nn.GRU(0, 4)).toThrow(RangeError);
    // PyTorch's order: input_size before hidden_size; dropout before both.
    expect(() => new nn.GRU(0, 0)).toThrow('input_size must be greater than zero');
    expect(() => new nn.GRU(0, 4, { dropout: 2 })).toThrow('dropout should be a number in range [0, 1]');
  });

  test('bias and batch_first must be booleans', () => {
    expect(() => new nn.GRU(3, 4, { bias: 1 as unknown as boolean })).toThrow('bias should be of type bool, got: int');
    expect(() => new nn.RNN(3, 4, { batchFirst: 'yes' as unknown as boolean })).toThrow('batch_first should be of type bool, got: str');
  });

  test('proj_size is rejected for RNN and GRU', () => {
    const msg = 'proj_size argument is only supported for LSTM, not RNN or GRU';
    expect(() => new nn.GRU(3, 4, { projSize: 2 } as never)).toThrow(msg);
    expect(() => new nn.RNN(3, 4, { projSize: 0 } as never)).toThrow(msg);
    expect(() => new nn.GRU(3, 4, { proj_size: 0 } as never)).toThrow(msg);
  });

  test('unknown option keys (snake_case typos) are rejected', () => {
    expect(() => new nn.GRU(3, 4, { batch_first: true } as never)).toThrow(TypeError);
    expect(() => new nn.GRU(3, 4, { batch_first: true } as never)).toThrow(/unknown option "batch_first".*batchFirst/);
    expect(() => new nn.RNN(3, 4, { num_layers: 2 } as never)).toThrow(/unknown option "num_layers"/);
    expect(() => new nn.RNN(3, 4, { hidden: 2 } as never)).toThrow(/unknown option "hidden"/);
  });

  test('a non-object options argument is a TypeError that names the options', () => {
    for (const bad of [3, 'x', true]) {
      expect(() => new nn.RNN(3, 4, 2, bad as never)).toThrow(/options/);
      expect(() => new nn.GRU(3, 4, 2, bad as never)).toThrow(/options/);
    }
    expect(() => new nn.GRU(3, 4, { numLayers: 2 } as never, {} as never)).toThrow(TypeError);
    expect(() => new nn.GRU(3, 4, 2, { numLayers: 3 })).toThrow(/numLayers/);
  });

  test('unsupported dtype is rejected', () => {
    expect(() => new nn.GRU(3, 4, { dtype: 'int32' as never })).toThrow(TypeError);
    expect(() => new nn.GRU(3, 4, { dtype: 'float16' as never })).toThrow(TypeError);
  });
});

// ---------------------------------------------------------------------------
describe('forward checks (reference section 2)', () => {
  test('input rank: RNN says "tensor", GRU does not', () => {
    const r = new nn.RNN(3, 4);
    const g = new nn.GRU(3, 4);
    expect(() => r.forward(zeros([1, 2, 3, 3]))).toThrow('RNN: Expected input to be 2D or 3D, got 4D tensor instead');
    expect(() => r.forward(zeros([3]))).toThrow('RNN: Expected input to be 2D or 3D, got 1D tensor instead');
    expect(() => g.forward(zeros([1, 2, 3, 3]))).toThrow('GRU: Expected input to be 2D or 3D, got 4D instead');
    expect(() => g.forward(zeros([3]))).toThrow('GRU: Expected input to be 2D or 3D, got 1D instead');
    r.dispose();
    g.dispose();
  });

  test('hx rank must match the input rank', () => {
    const g = new nn.GRU(3, 4);
    expect(() => g.forward(zeros([5, 3]), zeros([1, 1, 4]))).toThrow('For unbatched 2-D input, hx should also be 2-D but got 3-D tensor');
    expect(() => g.forward(zeros([5, 2, 3]), zeros([1, 4]))).toThrow('For batched 3-D input, hx should also be 3-D but got 2-D tensor');
    g.dispose();
  });

  test('dtype mismatch', () => {
    const g = new nn.GRU(3, 4);
    expect(() => g.forward(zeros([5, 2, 3], { dtype: 'float64' }))).toThrow(
      'input dtype (torch.float64) does not match weight dtype (torch.float32). Convert input: input.to(torch.float32), or convert model: model.to(torch.float64)');
    const r = new nn.RNN(3, 4, { dtype: 'float64' });
    expect(() => r.forward(zeros([5, 2, 3]))).toThrow(
      'RNN input dtype (torch.float32) does not match weight dtype (torch.float64). Convert input: input.to(torch.float64), or convert model: model.to(torch.float32)');
    expect(() => r.forward(zeros([5, 2, 3], { dtype: 'float64' }), zeros([1, 2, 4]))).toThrow(/dtype/);
    g.dispose();
    r.dispose();
  });

  test('input size', () => {
    const g = new nn.GRU(3, 4);
    expect(() => g.forward(zeros([5, 2, 5]))).toThrow('input.size(-1) must be equal to input_size. Expected 3, got 5');
    expect(() => g.forward(zeros([5, 5]))).toThrow('input.size(-1) must be equal to input_size. Expected 3, got 5');
    g.dispose();
  });

  test('hidden shape', () => {
    const r = new nn.RNN(10, 20, { numLayers: 2 });
    expect(() => r.forward(zeros([5, 3, 10]), zeros([2, 4, 20]))).toThrow('Expected hidden size (2, 3, 20), got [2, 4, 20]');
    expect(() => r.forward(zeros([5, 3, 10]), zeros([1, 3, 20]))).toThrow('Expected hidden size (2, 3, 20), got [1, 3, 20]');
    expect(() => r.forward(zeros([5, 3, 10]), zeros([2, 3, 21]))).toThrow('Expected hidden size (2, 3, 20), got [2, 3, 21]');
    const bf = new nn.GRU(10, 20, { batchFirst: true, bidirectional: true });
    expect(() => bf.forward(zeros([3, 5, 10]), zeros([2, 5, 20]))).toThrow('Expected hidden size (2, 3, 20), got [2, 5, 20]');
    const g = new nn.GRU(3, 4);
    // Unbatched: the expected shape includes the inserted batch dim (torch 1.13 verified).
    expect(() => g.forward(zeros([5, 3]), zeros([1, 3]))).toThrow('Expected hidden size (1, 1, 4), got [1, 1, 3]');
    for (const m of [r, bf, g]) m.dispose();
  });

  test('sequence length 0 is rejected, batch_first and unbatched too', () => {
    const msg = 'Expected sequence length to be larger than 0 in RNN';
    const g = new nn.GRU(3, 4);
    expect(() => g.forward(zeros([0, 2, 3]))).toThrow(msg);
    expect(() => g.forward(zeros([0, 3]))).toThrow(msg);
    const bf = new nn.RNN(3, 4, { batchFirst: true });
    expect(() => bf.forward(zeros([2, 0, 3]))).toThrow(msg);
    g.dispose();
    bf.dispose();
  });

  test('non-tensor input and hx are TypeErrors', () => {
    const g = new nn.GRU(3, 4);
    expect(() => g.forward([[1, 2, 3]] as never)).toThrow(TypeError);
    expect(() => g.forward(zeros([5, 2, 3]), [1] as never)).toThrow(TypeError);
    g.dispose();
  });

  test('forwardAsync rejects (not throws) on bad input', async () => {
    const g = new nn.GRU(3, 4);
    await expect(g.forwardAsync(zeros([5, 2, 5]))).rejects.toThrow('input.size(-1) must be equal to input_size. Expected 3, got 5');
    g.dispose();
  });

  test('hx = undefined / null equals zeros', () => {
    manualSeed(3);
    const g = new nn.GRU(3, 4, { numLayers: 2, bidirectional: true, dtype: 'float64' });
    const x = randn([5, 2, 3], { dtype: 'float64' });
    const [o1, h1] = g.forward(x);
    const [o2, h2] = g.forward(x, null);
    const [o3, h3] = g.forward(x, zeros([4, 2, 4], { dtype: 'float64' }));
    expect(firstBitDifference(o1.dataSync(), o3.dataSync())).toBe(-1);
    expect(firstBitDifference(h1.dataSync(), h3.dataSync())).toBe(-1);
    expect(firstBitDifference(o2.dataSync(), o3.dataSync())).toBe(-1);
    expect(firstBitDifference(h2.dataSync(), h3.dataSync())).toBe(-1);
    g.dispose();
  });

  test('unbatched input equals a batch of one (no_batch_dim_reference)', () => {
    manualSeed(4);
    for (const batchFirst of [false, true]) {
      const g = new nn.GRU(3, 4, { numLayers: 2, bidirectional: true, batchFirst, dtype: 'float64' });
      const x = randn([5, 3], { dtype: 'float64' });
      const h = randn([4, 4], { dtype: 'float64' });
      const [o, hn] = g.forward(x, h);
      expect([shapeOf(o), shapeOf(hn)]).toEqual([[5, 8], [4, 4]]);
      const [ob, hb] = g.forward(x.unsqueeze(batchFirst ? 0 : 1), h.unsqueeze(1));
      expectClose(o.dataSync(), ob.dataSync(), 1e-12, 'output');
      expectClose(hn.dataSync(), hb.dataSync(), 1e-12, 'h_n');
      g.dispose();
    }
  });
});

// ---------------------------------------------------------------------------
describe('batch size 0 (test_RNN_input_size_zero)', () => {
  test.each([
    ['RNN', false, false], ['GRU', false, false], ['GRU', true, true], ['RNN', true, true],
  ] as const)('%s batchFirst=%p bidirectional=%p: output (L, 0, D*H) and backward works', (kind, batchFirst, bidirectional) => {
    const opts = { numLayers: 2, batchFirst, bidirectional };
    const rnn: nn.RNNBase = kind === 'GRU' ? new nn.GRU(3, 4, opts) : new nn.RNN(3, 4, opts);
    const D = bidirectional ? 2 : 1;
    const x = zeros(batchFirst ? [0, 5, 3] : [5, 0, 3], { requiresGrad: true });
    const h0 = zeros([2 * D, 0, 4], { requiresGrad: true });
    const [out, hn] = rnn.forward(x, h0);
    expect(shapeOf(out)).toEqual(batchFirst ? [0, 5, D * 4] : [5, 0, D * 4]);
    expect(shapeOf(hn)).toEqual([2 * D, 0, 4]);
    add(out.sum(), hn.sum()).backward();
    expect(shapeOf(x.grad as Tensor)).toEqual(shapeOf(x));
    expect(shapeOf(h0.grad as Tensor)).toEqual([2 * D, 0, 4]);
    // torch: every parameter gets an all-zero gradient.
    for (const [name, p] of rnn.namedParameters()) {
      expect([name, p.grad === null ? null : shapeOf(p.grad)]).toEqual([name, shapeOf(p)]);
      expect([name, (p.grad as Tensor).dataSync().every((v) => v === 0)]).toEqual([name, true]);
    }
    // Without h0 as well.
    const [o2] = rnn.forward(zeros(batchFirst ? [0, 5, 3] : [5, 0, 3]));
    expect(shapeOf(o2)).toEqual(batchFirst ? [0, 5, D * 4] : [5, 0, D * 4]);
    rnn.dispose();
  });
});

// ---------------------------------------------------------------------------
describe('dropout (test_RNN_dropout, test_RNN_dropout_state, test_RNN_change_dropout)', () => {
  test.each([[0], [0.276], [0.731], [1]])('2-layer all-ones relu RNN(10, 1000), p=%p, train and eval', (p) => {
    checkAllOnesDropout(p);
  });

  test('3 layers: both inner layer outputs are dropped, the last layer and every h_n never', () => {
    // H = 100: every sum stays an exact float32 integer.
    const rnn = allOnesRelu(100, 3, 0.5);
    const [out, hy] = rnn.forward(ones([1, 1, 10]));
    const o = out.dataSync();
    const [lo, hi] = minMax(o);
    expect(lo).toBe(hi);
    const h = hy.dataSync();
    const [h0lo, h0hi] = minMax(h.subarray(0, 100));
    const [h1lo, h1hi] = minMax(h.subarray(100, 200));
    const [h2lo, h2hi] = minMax(h.subarray(200));
    expect([h0lo, h0hi]).toEqual([10, 10]);
    expect(h1lo).toBe(h1hi);
    expect([h2lo, h2hi]).toEqual([lo, lo]);
    // layer 1 = 20 * kept0; layer 2 = 2 * layer1 * kept1, kept counts integers in [0, 100].
    const kept0 = h1lo / 20;
    expect(Number.isInteger(kept0)).toBe(true);
    if (h1lo > 0) {
      const kept1 = lo / (2 * h1lo);
      expect(Number.isInteger(kept1)).toBe(true);
      expect(kept1).toBeGreaterThan(0);
      expect(kept1).toBeLessThanOrEqual(100);
    }
    rnn.dispose();
    const r1 = allOnesRelu(100, 3, 1);
    const [o1, hy1] = r1.forward(ones([1, 1, 10]));
    expect(minMax(o1.dataSync())).toEqual([0, 0]);
    const hh = hy1.dataSync();
    expect(minMax(hh.subarray(0, 100))).toEqual([10, 10]);
    expect(minMax(hh.subarray(100))).toEqual([0, 0]);
    r1.dispose();
  });

  test('bidirectional: one mask over the concatenated layer output (both directions of the next layer agree)', () => {
    const rnn = allOnesRelu(100, 2, 0.5, true);
    const [out] = rnn.forward(ones([1, 1, 10]));
    const [lo, hi] = minMax(out.dataSync());
    expect(lo).toBe(hi);
    const kept = lo / 20;
    expect(Number.isInteger(kept)).toBe(true);
    expect(kept).toBeGreaterThan(50);
    expect(kept).toBeLessThan(150);
    rnn.dispose();
  });

  test('dropout applies in training mode under noGrad too (it depends on train(), not on autograd)', () => {
    const rnn = allOnesRelu(100, 2, 1);
    const [out] = noGrad(() => rnn.forward(ones([1, 1, 10])));
    expect(minMax(out.dataSync())).toEqual([0, 0]);
    rnn.eval();
    const [o2] = noGrad(() => rnn.forward(ones([1, 1, 10])));
    expect(minMax(o2.dataSync())).toEqual([1000, 1000]);
    rnn.dispose();
  });

  test('masks differ between two training calls; eval and p=0 are deterministic', () => {
    manualSeed(11);
    for (const p of [0, 0.1234]) {
      for (const train of [false, true]) {
        const rnn = new nn.RNN(100, 100, { numLayers: 2, bias: false, dropout: p, nonlinearity: 'relu' });
        rnn.train(train);
        const input = rand([1, 1, 100]);
        const hx = rand([2, 1, 100]);
        const [o1, h1] = rnn.forward(input, hx);
        const [o2, h2] = rnn.forward(input, hx);
        const same = firstBitDifference(o1.dataSync(), o2.dataSync()) === -1;
        const sameH = firstBitDifference(h1.dataSync(), h2.dataSync()) === -1;
        // Layer 0's final state is never affected by dropout.
        expect(firstBitDifference(h1.dataSync().subarray(0, 100), h2.dataSync().subarray(0, 100))).toBe(-1);
        if (p === 0 || !train) {
          expect([p, train, same, sameH]).toEqual([p, train, true, true]);
        } else {
          expect([p, train, same, sameH]).toEqual([p, train, false, false]);
        }
        rnn.dispose();
      }
    }
  });

  test('changing rnn.dropout after construction takes effect', () => {
    manualSeed(12);
    for (const train of [true, false]) {
      const rnn = new nn.RNN(100, 100, { numLayers: 2, dropout: 0, nonlinearity: 'relu' });
      rnn.train(train);
      const input = rand([3, 2, 100]);
      let prev: Float32Array | null = null;
      for (const p of [0, 0.5, 0, 0.7, 0.2, 1, 0.2, 0]) {
        rnn.dropout = p;
        const [o1, h1] = rnn.forward(input);
        const [o2, h2] = rnn.forward(input);
        const a1 = o1.dataSync() as Float32Array;
        const eqOut = firstBitDifference(a1, o2.dataSync()) === -1;
        const eqH = firstBitDifference(h1.dataSync(), h2.dataSync()) === -1;
        const tag = `train=${train} p=${p}`;
        if (p === 0 || p === 1 || !train) expect([tag, eqOut, eqH]).toEqual([tag, true, true]);
        else expect([tag, eqOut, eqH]).toEqual([tag, false, false]);
        if (prev !== null) {
          const eqPrev = firstBitDifference(a1, prev) === -1;
          expect([tag, eqPrev]).toEqual([tag, !train]);
        }
        prev = a1;
      }
      rnn.dispose();
    }
  });

  test('one layer: dropout never applies (nothing between layers)', () => {
    let rnn: nn.GRU | null = null;
    captureWarnings(() => {
      rnn = new nn.GRU(3, 4, { dropout: 0.9, dtype: 'float64' });
    });
    const g = rnn as unknown as nn.GRU;
    const x = randn([5, 2, 3], { dtype: 'float64' });
    const [o1] = g.forward(x);
    const [o2] = g.forward(x);
    g.eval();
    const [o3] = g.forward(x);
    expect(firstBitDifference(o1.dataSync(), o2.dataSync())).toBe(-1);
    expect(firstBitDifference(o1.dataSync(), o3.dataSync())).toBe(-1);
    g.dispose();
  });

  test('masks are reproducible under manualSeed (sync, noGrad and async alike)', async () => {
    const rnn = new nn.RNN(10, 50, { numLayers: 3, dropout: 0.5, dtype: 'float64' });
    const x = randn([4, 3, 10], { dtype: 'float64' });
    manualSeed(31);
    const [a] = rnn.forward(x);
    manualSeed(31);
    const [b] = noGrad(() => rnn.forward(x));
    manualSeed(31);
    const [c] = await rnn.forwardAsync(x);
    manualSeed(32);
    const [d] = rnn.forward(x);
    expect(firstBitDifference(a.dataSync(), b.dataSync())).toBe(-1);
    expect(firstBitDifference(a.dataSync(), c.dataSync())).toBe(-1);
    expect(firstBitDifference(a.dataSync(), d.dataSync())).not.toBe(-1);
    rnn.dispose();
  });

  test('all-ones dropout semantics hold through forwardAsync too', async () => {
    const rnn = allOnesRelu(1000, 2, 0.276);
    const [out, hy] = await rnn.forwardAsync(ones([1, 1, 10]));
    const o = out.dataSync();
    const [lo, hi] = minMax(o);
    expect(lo).toBe(hi);
    const kept = (lo * (1 - 0.276)) / 10;
    expect(Math.abs(kept - Math.round(kept))).toBeLessThan(1e-2);
    expect(minMax(hy.dataSync().subarray(0, 1000))).toEqual([10, 10]);
    rnn.dispose();
  });

  test.each([['GRU'], ['RNN_TANH']] as const)('gradcheck through dropout (%s, 3 layers, bidirectional, p=0.4; mask fixed by reseeding)', (mode) => {
    const opts = { numLayers: 3, bidirectional: true, dropout: 0.4, dtype: 'float64' as const };
    manualSeed(5150);
    const rnn: nn.RNNBase = mode === 'GRU' ? new nn.GRU(2, 3, opts) : new nn.RNN(2, 3, opts);
    const xv = randn([3, 2, 2], { dtype: 'float64' }).dataSync() as Float64Array;
    const hv = randn([6, 2, 3], { dtype: 'float64' }).dataSync() as Float64Array;
    const gOut = randn([3, 2, 6], { dtype: 'float64' });
    const gOutV = gOut.dataSync();
    const run = (x: Float64Array, h: Float64Array, grad: boolean): [Tensor, Tensor, Tensor, Tensor] => {
      manualSeed(99);
      const xt = tensor(Float64Array.from(x), { shape: [3, 2, 2], dtype: 'float64', requiresGrad: grad });
      const ht = tensor(Float64Array.from(h), { shape: [6, 2, 3], dtype: 'float64', requiresGrad: grad });
      const [o, hn] = rnn.forward(xt, ht);
      return [o, hn, xt, ht];
    };
    const lossAt = (x: Float64Array, h: Float64Array): number => noGrad(() => {
      const [o] = run(x, h, false);
      const v = o.dataSync();
      let s = 0;
      for (let i = 0; i < v.length; ++i) s += v[i] * gOutV[i];
      return s;
    });
    const [o, , xt, ht] = run(xv, hv, true);
    sum(mul(o, gOut)).backward();
    const bad: string[] = [];
    const check = (what: string, a: number, n: number): void => {
      if (!(Math.abs(a - n) <= 1e-6 + 1e-5 * Math.abs(n))) bad.push(`${what}: analytic ${a}, numeric ${n}`);
    };
    const dx = (xt.grad as Tensor).dataSync();
    fdVector('input', xv, dx, (v) => lossAt(v, hv), check);
    const dh = (ht.grad as Tensor).dataSync();
    fdVector('h0', hv, dh, (v) => lossAt(xv, v), check);
    // Some parameter gradients are exactly zero where dropout cut every path;
    // check the layer-0 and layer-1 input weights.
    for (const name of ['weight_ih_l0', 'weight_ih_l1_reverse', 'weight_hh_l1']) {
      const prm = (rnn as unknown as Record<string, Tensor>)[name];
      const g = (prm.grad as Tensor).dataSync();
      const base = prm.dataSync() as Float64Array;
      for (const k of [0, Math.floor(base.length / 2), base.length - 1]) {
        fdParamEntry(name, prm, base, k, g[k], () => lossAt(xv, hv), check);
      }
    }
    expect(bad).toEqual([]);
    rnn.dispose();
  });

  test('an invalid dropout attribute is caught at forward', () => {
    const rnn = new nn.RNN(3, 4, { numLayers: 2 });
    rnn.dropout = 2;
    expect(() => rnn.forward(zeros([2, 1, 3]))).toThrow('dropout should be a number in range [0, 1]');
    rnn.dispose();
  });

  test('backward through dropout: dropped units pass no gradient', () => {
    // p = 1: layer 1 sees zeros, so the output carries no gradient back to
    // layer 0; layer 1's recurrence (h0 = 0.1) still gets some.
    const rnn = allOnesRelu(20, 2, 1);
    noGrad(() => {
      for (const w of rnn.parameters()) w.fill_(0.01);
    });
    const [out] = rnn.forward(ones([2, 1, 10]), full([2, 1, 20], 0.1));
    out.sum().backward();
    for (const name of ['weight_ih_l0', 'weight_hh_l0', 'weight_ih_l1']) {
      expect([name, minMax((rnn as unknown as Record<string, Tensor>)[name].grad?.dataSync() ?? [NaN])]).toEqual([name, [0, 0]]);
    }
    expect(minMax((rnn.getParameter('weight_hh_l1').grad as Tensor).dataSync())[0]).toBeGreaterThan(0);
    rnn.dispose();
  });
});

// ---------------------------------------------------------------------------
describe('forwardAsync', () => {
  test('same values and gradients as forward (float64 bidirectional GRU)', async () => {
    manualSeed(5);
    const g = new nn.GRU(3, 4, { numLayers: 2, bidirectional: true, dtype: 'float64', batchFirst: true });
    const x = randn([2, 5, 3], { dtype: 'float64' });
    const h = randn([4, 2, 4], { dtype: 'float64' });
    const xs = x.clone().requiresGrad_();
    const [o1, h1] = g.forward(xs, h);
    add(o1.sum(), h1.sum()).backward();
    const gradsSync = g.parameters().map((p) => (p.grad as Tensor).dataSync());
    const dxSync = (xs.grad as Tensor).dataSync();
    g.zeroGrad();
    const xa = x.clone().requiresGrad_();
    const pending = g.forwardAsync(xa, h);
    expect(pending).toBeInstanceOf(Promise);
    const [o2, h2] = await pending;
    expect(firstBitDifference(o1.dataSync(), o2.dataSync())).toBe(-1);
    expect(firstBitDifference(h1.dataSync(), h2.dataSync())).toBe(-1);
    expect(o2.requiresGrad).toBe(true);
    add(o2.sum(), h2.sum()).backward();
    g.parameters().forEach((p, i) => expect(firstBitDifference((p.grad as Tensor).dataSync(), gradsSync[i])).toBe(-1));
    expect(firstBitDifference((xa.grad as Tensor).dataSync(), dxSync)).toBe(-1);
    g.dispose();
  });

  test('the event loop keeps running during a long forwardAsync', async () => {
    manualSeed(6);
    const g = new nn.GRU(256, 512);
    const x = randn([100, 32, 256]);
    let ticks = 0;
    let running = true;
    const spin = (): void => {
      if (!running) return;
      ticks += 1;
      setImmediate(spin);
    };
    const t0 = Date.now();
    const pending = noGrad(() => g.forwardAsync(x));
    setImmediate(spin);
    const [out] = await pending;
    running = false;
    const ms = Date.now() - t0;
    expect(shapeOf(out)).toEqual([100, 32, 512]);
    // A synchronous implementation resolves before any setImmediate runs.
    expect([ms, ticks >= 5]).toEqual([ms, true]);
    // And the result equals the synchronous forward.
    const [ref] = noGrad(() => g.forward(x));
    expectClose(out.dataSync(), ref.dataSync(), 1e-6, 'output');
    g.dispose();
  });
});

// ---------------------------------------------------------------------------
describe('module state', () => {
  test('train()/eval() flags', () => {
    const g = new nn.GRU(3, 4);
    expect(g.training).toBe(true);
    expect(g.eval()).toBe(g);
    expect(g.training).toBe(false);
    expect(g.train()).toBe(g);
    expect(g.training).toBe(true);
    g.train(false);
    expect(g.training).toBe(false);
    expect(() => g.train('yes' as unknown as boolean)).toThrow(TypeError);
    g.dispose();
  });

  test("to('float64') keeps values; parameters stay usable; to('float32') round-trips", () => {
    manualSeed(8);
    const g = new nn.GRU(3, 4, { numLayers: 2 });
    const before = g.namedParameters().map(([n, p]) => [n, p.dataSync()] as const);
    expect(g.to('float64')).toBe(g);
    expect(g.dtype).toBe('float64');
    const after = g.namedParameters();
    expect(after.map(([n]) => n)).toEqual(before.map(([n]) => n));
    after.forEach(([n, p], i) => {
      expect([n, p.dtype, p.requiresGrad, p.isLeaf]).toEqual([n, 'float64', true, true]);
      expect([n, firstBitDifference(p.dataSync(), Float64Array.from(before[i][1]))]).toEqual([n, -1]);
      expect((g as unknown as Record<string, Tensor>)[n]).toBe(p);
    });
    // Forward/backward in float64 equal a fresh float64 module with the same weights.
    const ref = new nn.GRU(3, 4, { numLayers: 2, dtype: 'float64' });
    ref.loadStateDict(g.stateDict());
    const x = randn([5, 2, 3], { dtype: 'float64' });
    const [o, h] = g.forward(x);
    const [or, hr] = ref.forward(x);
    expectClose(o.dataSync(), or.dataSync(), 1e-12, 'output');
    expectClose(h.dataSync(), hr.dataSync(), 1e-12, 'h_n');
    add(o.sum(), h.sum()).backward();
    add(or.sum(), hr.sum()).backward();
    g.parameters().forEach((p, i) => {
      expect(p.grad?.dtype).toBe('float64');
      expectClose((p.grad as Tensor).dataSync(), (ref.parameters()[i].grad as Tensor).dataSync(), 1e-12, `grad ${i}`);
    });
    expect(() => g.forward(zeros([5, 2, 3]))).toThrow('RNN input dtype (torch.float32) does not match weight dtype (torch.float64)');
    // In-place updates reach the forward (parameters are the weights the kernel reads).
    noGrad(() => {
      for (const p of g.parameters()) p.fill_(0);
    });
    const [oz] = g.forward(x);
    expect(oz.dataSync().every((v) => v === 0)).toBe(true);
    g.to('float32');
    expect(g.dtype).toBe('float32');
    expect(g.parameters().every((p) => p.dtype === 'float32')).toBe(true);
    expect(g.forward(zeros([5, 2, 3]))[0].dtype).toBe('float32');
    g.dispose();
    ref.dispose();
  });

  test('zeroGrad: gradients accumulate, setToNone and zeros', () => {
    manualSeed(9);
    const g = new nn.GRU(3, 4, { dtype: 'float64' });
    const x = randn([5, 2, 3], { dtype: 'float64' });
    for (const p of g.parameters()) expect(p.grad).toBeNull();
    g.forward(x)[0].sum().backward();
    const first = g.parameters().map((p) => (p.grad as Tensor).dataSync().slice());
    g.forward(x)[0].sum().backward();
    g.parameters().forEach((p, i) => expectClose((p.grad as Tensor).dataSync(), first[i].map((v) => 2 * v), 1e-12, `accumulated grad ${i}`));
    g.zeroGrad({ setToNone: false });
    for (const p of g.parameters()) {
      expect(p.grad).not.toBeNull();
      expect((p.grad as Tensor).dataSync().every((v) => v === 0)).toBe(true);
    }
    g.forward(x)[0].sum().backward();
    g.parameters().forEach((p, i) => expectClose((p.grad as Tensor).dataSync(), first[i], 1e-12, `grad after zero ${i}`));
    g.zeroGrad();
    for (const p of g.parameters()) expect(p.grad).toBeNull();
    g.dispose();
  });

  test('stateDict tensors are the live parameters and loadStateDict copies values', () => {
    manualSeed(10);
    const a = new nn.RNN(3, 4, { numLayers: 2, bidirectional: true });
    const b = new nn.RNN(3, 4, { numLayers: 2, bidirectional: true });
    const res = b.loadStateDict(a.stateDict());
    expect(res).toEqual({ missingKeys: [], unexpectedKeys: [] });
    for (const [n, p] of a.namedParameters()) {
      const q = b.stateDict()[n];
      expect(q).not.toBe(p);
      expect([n, firstBitDifference(p.dataSync(), q.dataSync())]).toEqual([n, -1]);
    }
    a.dispose();
    b.dispose();
  });
});

// ---------------------------------------------------------------------------
describe('loadStateDict errors match torch', () => {
  test.each(fixture.load_state_dict.map((e) => [e.name, e] as const))('%s', (_n, e) => {
    const g = new nn.GRU(3, 4);
    const own = g.stateDict();
    const dict: Record<string, Tensor> = {};
    for (const [k, v] of Object.entries(own)) {
      if (e.drop.includes(k)) continue;
      dict[k] = k in e.reshape ? zeros(e.reshape[k]) : v;
    }
    for (const [k, shape] of Object.entries(e.add)) dict[k] = zeros(shape);
    const before = g.parameters().map((p) => p.dataSync());
    if (e.error !== null) {
      let message: string | null = null;
      try {
        g.loadStateDict(dict, { strict: e.strict });
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toBe(e.error);
    } else {
      const res = g.loadStateDict(dict, { strict: e.strict });
      expect(res).toEqual({ missingKeys: e.missing_keys, unexpectedKeys: e.unexpected_keys });
    }
    // Parameters that were not in the dict keep their values.
    g.namedParameters().forEach(([n, p], i) => {
      if (!(n in dict)) expect([n, firstBitDifference(p.dataSync(), before[i])]).toEqual([n, -1]);
    });
    g.dispose();
  });

  test('a non-object state dict and non-tensor entries are TypeErrors', () => {
    const g = new nn.GRU(3, 4);
    expect(() => g.loadStateDict(null as never)).toThrow(TypeError);
    const sd: Record<string, unknown> = { ...g.stateDict(), weight_ih_l0: [[1]] };
    expect(() => g.loadStateDict(sd as never)).toThrow(TypeError);
    g.dispose();
  });
});

// ---------------------------------------------------------------------------
describe('autograd edge cases', () => {
  function setup(): { g: nn.GRU; x: Tensor; h: Tensor } {
    manualSeed(21);
    const g = new nn.GRU(3, 4, { numLayers: 2, bidirectional: true, dtype: 'float64' });
    const x = randn([5, 2, 3], { dtype: 'float64' });
    const h = randn([4, 2, 4], { dtype: 'float64' });
    return { g, x, h };
  }
  const loss = (o: Tensor, h: Tensor): Tensor => add(o.square().sum(), h.sum());

  test('backward twice with retainGraph doubles the gradients (test_rnn_retain_variables)', () => {
    const { g, x } = setup();
    const xr = x.clone().requiresGrad_();
    const [o, h] = g.forward(xr);
    const l = loss(o, h);
    l.backward(undefined, { retainGraph: true });
    const first = g.parameters().map((p) => (p.grad as Tensor).dataSync().slice());
    const dx = (xr.grad as Tensor).dataSync().slice();
    l.backward(undefined, { retainGraph: true });
    g.parameters().forEach((p, i) => expectClose((p.grad as Tensor).dataSync(), first[i].map((v) => 2 * v), 1e-12, `param ${i}`));
    expectClose((xr.grad as Tensor).dataSync(), dx.map((v) => 2 * v), 1e-12, 'input');
    g.dispose();
  });

  test('a second backward without retainGraph throws (graph freed)', () => {
    const { g, x } = setup();
    const [o, h] = g.forward(x);
    const l = loss(o, h);
    l.backward();
    expect(() => l.backward()).toThrow('Trying to backward through the graph a second time');
    g.dispose();
  });

  test('modifying the weights in place between forward and backward is detected', () => {
    const { g, x } = setup();
    const [o, h] = g.forward(x);
    noGrad(() => g.weight_hh_l0.mul_(2));
    expect(() => loss(o, h).backward()).toThrow('one of the variables needed for gradient computation has been modified by an inplace operation');
    g.dispose();
  });

  test('only the tensors that require grad get gradients; the rest are unchanged', () => {
    const { g, x, h } = setup();
    const xr = x.clone().requiresGrad_();
    const hr = h.clone().requiresGrad_();
    const [o, hn] = g.forward(xr, hr);
    loss(o, hn).backward();
    const full = new Map(g.namedParameters().map(([n, p]) => [n, (p.grad as Tensor).dataSync().slice()]));
    const dh = (hr.grad as Tensor).dataSync().slice();
    g.zeroGrad();
    // Input without grad, h0 with grad, weight_ih_l0 frozen.
    g.weight_ih_l0.requiresGrad = false;
    const h2 = h.clone().requiresGrad_();
    const [o2, hn2] = g.forward(x, h2);
    loss(o2, hn2).backward();
    expect(x.grad).toBeNull();
    expectClose((h2.grad as Tensor).dataSync(), dh, 1e-12, 'h0');
    for (const [n, p] of g.namedParameters()) {
      if (n === 'weight_ih_l0') expect(p.grad).toBeNull();
      else expectClose((p.grad as Tensor).dataSync(), full.get(n) as Float64Array, 1e-12, n);
    }
    // Nothing requires grad: the outputs are plain tensors.
    for (const p of g.parameters()) p.requiresGrad = false;
    const [o3] = g.forward(x);
    expect(o3.requiresGrad).toBe(false);
    expect(o3.gradFn).toBeNull();
    g.dispose();
  });

  test('non-contiguous input and hx give the same values and gradients', () => {
    const { g, x, h } = setup();
    const xc = x.clone().requiresGrad_();
    const [o1, h1] = g.forward(xc, h);
    loss(o1, h1).backward();
    const grads = g.parameters().map((p) => (p.grad as Tensor).dataSync().slice());
    const dx = (xc.grad as Tensor).dataSync().slice();
    g.zeroGrad();
    // The same values through transposed views.
    const xt = x.transpose(0, 1).contiguous().requiresGrad_();
    const xv = xt.transpose(0, 1);
    const hv = h.transpose(0, 1).contiguous().transpose(0, 1);
    expect(xv.isContiguous).toBe(false);
    expect(hv.isContiguous).toBe(false);
    const [o2, h2] = g.forward(xv, hv);
    expectClose(o2.dataSync(), o1.dataSync(), 1e-12, 'output');
    expectClose(h2.dataSync(), h1.dataSync(), 1e-12, 'h_n');
    loss(o2, h2).backward();
    g.parameters().forEach((p, i) => expectClose((p.grad as Tensor).dataSync(), grads[i], 1e-12, `param ${i}`));
    expectClose((xt.grad as Tensor).transpose(0, 1).dataSync(), dx, 1e-12, 'input grad');
    g.dispose();
  });

  test('forward/backward inside tidy() leaks no tensors', async () => {
    const { g, x, h } = setup();
    const xr = x.clone().requiresGrad_();
    // Warm up: parameter gradients are created once and then accumulated into.
    tidy(() => {
      const [o, hn] = g.forward(xr, h);
      loss(o, hn).backward();
    });
    // Free what earlier tests left to the garbage collector now: otherwise the
    // safety net (lib/reclaim.ts) may free it between the two counts below,
    // once the allocations since its last run pass CUDNN_RNN_GC_PRESSURE_MB
    // (CI saw 1348 storages before and 129 after, tensors unchanged).
    reclaimNow();
    const before = memory();
    for (let i = 0; i < 3; ++i) {
      tidy(() => {
        const [o, hn] = g.forward(xr, h);
        loss(o, hn).backward();
      });
      tidy(() => {
        noGrad(() => g.forward(x, h));
      });
      // Recorded (parameters require grad) but never backpropagated.
      g.eval();
      tidy(() => {
        g.forward(x);
      });
      g.train();
      tidy(() => {
        g.forward(x, h);
      });
    }
    const [oa, ha] = await noGrad(() => g.forwardAsync(x, h));
    oa.dispose();
    ha.dispose();
    const after = memory();
    expect([after.numTensors, after.numStorages, after.numBytes]).toEqual([before.numTensors, before.numStorages, before.numBytes]);
    g.dispose();
  });

  test('backward after tidy() disposed the graph fails with a clear message, not a raw native error', () => {
    // Like any op whose saved tensors a tidy() scope freed: the message must
    // point at the cause (ERR_CUDNN_RNN_DISPOSED, "keep tensors alive until
    // backward() has run (do the backward inside the same tidy())").
    const { g, x } = setup();
    const xr = x.clone().requiresGrad_();
    const [o] = tidy(() => g.forward(xr));
    let err: unknown = null;
    try {
      o.sum().backward();
    } catch (e) {
      err = e;
    }
    expect(err).not.toBeNull();
    expect(String((err as Error).message)).toMatch(/dispos|tidy/);
    g.dispose();
  });

  test('a disposed module throws a clear JS error instead of crashing', () => {
    const { g, x } = setup();
    g.dispose();
    expect(() => g.forward(x)).toThrow(/dispos/);
  });
});
