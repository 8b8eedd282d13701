// nn.RNNCell / nn.GRUCell / nn.LSTMCell against PyTorch 1.13
// (test/fixtures/gen_cells.py -> test/fixtures/cells.json): forward values and
// every gradient on the full grid cell x bias x unbatched x hx given x dtype,
// cells chained over time steps, bitwise initialisation, repr; then
// finite-difference gradchecks in float64, PyTorch's error messages,
// .to(), state dicts and safetensors. Run it with both GEMM paths:
// `npx jest test/cells.test.ts` and `CUDNN_RNN_BLAS=none npx jest test/cells.test.ts`.
//
// Tolerances (never loosened to make a mismatch pass):
//   |ours - torch| <= tol * max(1, |torch|), tol = 1e-10 (float64), 1e-5 (float32).
import * as fs from 'fs';
import * as path from 'path';

import * as cr from '../lib';
import type { Tensor } from '../lib';
import { cellStep, CellMode, CellSpec } from '../lib/ops/cell';
import { compareValues, decodeValues, Encoded, makeTensor } from './helpers/fixtures';
import { gradcheck, prng, randomInput } from './helpers/gradcheck';

const { nn, noGrad } = cr;

type DT = 'float32' | 'float64';

interface CellCase {
  name: string;
  mode: CellMode;
  bias: boolean;
  unbatched: boolean;
  has_hx: boolean;
  dtype: DT;
  input_size: number;
  hidden_size: number;
  batch: number;
  state_dict: Record<string, Encoded>;
  input: Encoded;
  hx: Encoded | null;
  cx: Encoded | null;
  grad_h: Encoded;
  grad_c: Encoded | null;
  h: Encoded;
  c: Encoded | null;
  grad_input: Encoded;
  grad_hx: Encoded | null;
  grad_cx: Encoded | null;
  grad_params: Record<string, Encoded>;
}

interface SequenceCase {
  mode: CellMode;
  input_size: number;
  hidden_size: number;
  steps: number;
  state_dict: Record<string, Encoded>;
  input: Encoded;
  h0: Encoded;
  c0: Encoded | null;
  grad_output: Encoded;
  output: Encoded;
  grad_input: Encoded;
  grad_h0: Encoded;
  grad_c0: Encoded | null;
  grad_params: Record<string, Encoded>;
}

interface InitCase {
  mode: CellMode;
  input_size: number;
  hidden_size: number;
  bias?: boolean;
  dtype?: DT;
  seed: number;
  params: Record<string, Encoded>;
  next_rand: Encoded;
}

const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'cells.json'), 'utf8')) as {
  torch_version: string;
  cases: CellCase[];
  sequences: SequenceCase[];
  init: InitCase[];
  repr: Array<{ mode: CellMode; input_size: number; hidden_size: number; bias?: boolean; repr: string }>;
};

const TOL: Record<DT, number> = { float64: 1e-10, float32: 1e-5 };

type AnyCell = cr.nn.RNNCell | cr.nn.GRUCell | cr.nn.LSTMCell;

function build(mode: CellMode, inputSize: number, hiddenSize: number, options: { bias?: boolean; dtype?: DT } = {}): AnyCell {
  if (mode === 'GRU') return new nn.GRUCell(inputSize, hiddenSize, options);
  if (mode === 'LSTM') return new nn.LSTMCell(inputSize, hiddenSize, options);
  return new nn.RNNCell(inputSize, hiddenSize, { ...options, nonlinearity: mode === 'RNN_TANH' ? 'tanh' : 'relu' });
}

function loadWeights(cell: AnyCell, sd: Record<string, Encoded>): void {
  const tensors: Record<string, Tensor> = {};
  for (const [k, v] of Object.entries(sd)) tensors[k] = makeTensor(v);
  try {
    cell.loadStateDict(tensors);
  } finally {
    for (const t of Object.values(tensors)) t.dispose();
  }
}

/** One cell step with the module's public forward: [h', c' or null]. */
function run(cell: AnyCell, x: Tensor, h: Tensor | null, c: Tensor | null): [Tensor, Tensor | null] {
  if (cell instanceof nn.LSTMCell) {
    const [h1, c1] = h === null ? cell.forward(x) : cell.forward(x, [h, c as Tensor]);
    return [h1, c1];
  }
  return [h === null ? cell.forward(x) : cell.forward(x, h), null];
}

/** Failures comparing `actual` with torch's value (empty when it matches). */
function compare(what: string, actual: Tensor | null, expected: Encoded): string[] {
  if (actual === null) return [`${what}: missing`];
  if (actual.dtype !== expected.dtype) return [`${what}: dtype ${actual.dtype}, expected ${expected.dtype}`];
  if (JSON.stringify(actual.shape) !== JSON.stringify(expected.shape)) return [`${what}: shape [${actual.shape}], expected [${expected.shape}]`];
  const problem = compareValues(actual.dataSync(), decodeValues(expected), TOL[expected.dtype as DT]);
  return problem === null ? [] : [`${what}: ${problem}`];
}

function leaf(e: Encoded | null): Tensor | null {
  return e === null ? null : makeTensor(e, true);
}

describe('cells.json fixture', () => {
  test('was made by PyTorch 1.13 and holds the whole grid', () => {
    expect(fixture.torch_version.startsWith('1.13')).toBe(true);
    const keys = new Set(fixture.cases.map((c) => `${c.mode} ${c.bias} ${c.unbatched} ${c.has_hx} ${c.dtype}`));
    expect(keys.size).toBe(4 * 2 * 2 * 2 * 2);
  });
});

describe.each(fixture.cases.map((c) => [c.name, c] as [string, CellCase]))('%s', (_name, c) => {
  test('forward and backward: h\', c\' and the gradients of input, hx, cx and every parameter match torch', () => {
    const cell = build(c.mode, c.input_size, c.hidden_size, { bias: c.bias, dtype: c.dtype });
    loadWeights(cell, c.state_dict);
    cr.tidy(() => {
      const x = makeTensor(c.input, true);
      const hx = leaf(c.hx);
      const cx = leaf(c.cx);
      const [h, cy] = run(cell, x, hx, cx);
      // torch.autograd.backward([h', c'], [gH, gC]) as one scalar root.
      let loss = cr.sum(cr.mul(h, makeTensor(c.grad_h)));
      if (cy !== null) loss = cr.add(loss, cr.sum(cr.mul(cy, makeTensor(c.grad_c as Encoded))));
      loss.backward();
      const fails = compare('h\'', h, c.h);
      if (c.c !== null) fails.push(...compare('c\'', cy, c.c));
      fails.push(...compare('input.grad', x.grad, c.grad_input));
      if (hx !== null) fails.push(...compare('hx.grad', hx.grad, c.grad_hx as Encoded));
      if (cx !== null) fails.push(...compare('cx.grad', cx.grad, c.grad_cx as Encoded));
      const named = cell.namedParameters();
      expect(named.map(([n]) => n)).toEqual(Object.keys(c.grad_params));
      for (const [name, p] of named) fails.push(...compare(`${name}.grad`, p.grad, c.grad_params[name]));
      expect(fails).toEqual([]);
    });
    cell.dispose();
  });

  test('forward under noGrad (nothing saved) matches torch', () => {
    const cell = build(c.mode, c.input_size, c.hidden_size, { bias: c.bias, dtype: c.dtype });
    loadWeights(cell, c.state_dict);
    cr.tidy(() => {
      const [h, cy] = noGrad(() => run(cell, makeTensor(c.input), c.hx && makeTensor(c.hx), c.cx && makeTensor(c.cx)));
      expect(h.requiresGrad).toBe(false);
      const fails = compare('h\'', h, c.h);
      if (c.c !== null) fails.push(...compare('c\'', cy, c.c));
      expect(fails).toEqual([]);
    });
    cell.dispose();
  });
});

describe.each(fixture.sequences.map((s) => [s.mode, s] as [string, SequenceCase]))('%s cell over time steps', (_mode, s) => {
  test('the graph chains through the steps: outputs and gradients match torch', () => {
    const cell = build(s.mode, s.input_size, s.hidden_size, { dtype: 'float64' });
    loadWeights(cell, s.state_dict);
    cr.tidy(() => {
      const xs = makeTensor(s.input, true);
      const h0 = makeTensor(s.h0, true);
      const c0 = leaf(s.c0);
      let h: Tensor = h0;
      let c: Tensor | null = c0;
      const outs: Tensor[] = [];
      for (let t = 0; t < s.steps; ++t) {
        [h, c] = run(cell, cr.select(xs, 0, t), h, c);
        outs.push(h);
      }
      const out = cr.stack(outs, 0);
      out.backward(makeTensor(s.grad_output));
      const fails = compare('output', out, s.output);
      fails.push(...compare('input.grad', xs.grad, s.grad_input), ...compare('h0.grad', h0.grad, s.grad_h0));
      if (c0 !== null) fails.push(...compare('c0.grad', c0.grad, s.grad_c0 as Encoded));
      for (const [name, p] of cell.namedParameters()) fails.push(...compare(`${name}.grad`, p.grad, s.grad_params[name]));
      expect(fails).toEqual([]);
    });
    cell.dispose();
  });
});

describe('initialisation and repr', () => {
  test.each(fixture.init.map((e) => [`${e.mode} ${e.input_size}->${e.hidden_size} seed ${e.seed}`, e] as [string, InitCase]))(
    '%s: parameters bit-identical to torch, and the generator advanced as far', (_n, e) => {
      cr.manualSeed(e.seed);
      const cell = build(e.mode, e.input_size, e.hidden_size, { bias: e.bias ?? true, dtype: e.dtype ?? 'float32' });
      const named = cell.namedParameters();
      expect(named.map(([n]) => n)).toEqual(Object.keys(e.params));
      for (const [name, p] of named) {
        expect(p.dtype).toBe(e.params[name].dtype);
        expect(p.shape).toEqual(e.params[name].shape);
        expect(Array.from(p.dataSync())).toEqual(decodeValues(e.params[name]).map((v) => (p.dtype === 'float32' ? Math.fround(v) : v)));
      }
      const next = cr.rand([4]);
      expect(Array.from(next.dataSync())).toEqual(decodeValues(e.next_rand).map(Math.fround));
      next.dispose();
      cell.dispose();
    });

  test.each(fixture.repr.map((e) => [e.repr, e] as [string, (typeof fixture.repr)[number]]))('%s', (repr, e) => {
    const cell = build(e.mode, e.input_size, e.hidden_size, { bias: e.bias ?? true });
    expect(cell.toString()).toBe(repr);
    cell.dispose();
  });

  test('parameters: names, shapes and gate blocks as torch (G = 1, 3, 4); no biases with bias: false', () => {
    const shapes = (m: AnyCell) => m.namedParameters().map(([n, p]) => `${n}:${p.shape.join('x')}`);
    expect(shapes(new nn.RNNCell(3, 5))).toEqual(['weight_ih:5x3', 'weight_hh:5x5', 'bias_ih:5', 'bias_hh:5']);
    expect(shapes(new nn.GRUCell(3, 5))).toEqual(['weight_ih:15x3', 'weight_hh:15x5', 'bias_ih:15', 'bias_hh:15']);
    expect(shapes(new nn.LSTMCell(3, 5))).toEqual(['weight_ih:20x3', 'weight_hh:20x5', 'bias_ih:20', 'bias_hh:20']);
    const nb = new nn.LSTMCell(3, 5, { bias: false });
    expect(shapes(nb)).toEqual(['weight_ih:20x3', 'weight_hh:20x5']);
    expect(nb.bias_ih).toBeNull();
    expect(nb.bias).toBe(false);
  });
});

// ---------------------------------------------------------------------------
// Finite differences (float64): the fused backward against the forward itself.

describe('gradcheck (float64, central differences)', () => {
  const modes: CellMode[] = ['RNN_TANH', 'RNN_RELU', 'GRU', 'LSTM'];

  // Through the op: every input and parameter, with and without bias, with and without hx.
  describe.each(modes)('%s op', (mode) => {
    test.each([[true, true], [true, false], [false, true], [false, false]])('bias %s, hx given %s', (bias, withHx) => {
      const rng = prng(mode.length * 7 + (bias ? 1 : 0) + (withHx ? 2 : 0));
      const N = 3, I = 4, H = 3;
      const G = mode === 'LSTM' ? 4 : mode === 'GRU' ? 3 : 1;
      const lstm = mode === 'LSTM';
      const spec: CellSpec = { mode, dtype: 'float64', inputSize: I, hiddenSize: H, bias };
      const inputs = [randomInput(rng, [N, I]), randomInput(rng, [G * H, I], (v) => 0.5 * v), randomInput(rng, [G * H, H], (v) => 0.5 * v)];
      if (bias) inputs.push(randomInput(rng, [G * H], (v) => 0.5 * v), randomInput(rng, [G * H], (v) => 0.5 * v));
      if (withHx) inputs.push(randomInput(rng, [N, H]));
      if (withHx && lstm) inputs.push(randomInput(rng, [N, H]));
      const fn = (...xs: Tensor[]): Tensor[] => {
        const [x, wIh, wHh] = xs;
        const b = bias ? [xs[3], xs[4]] : [null, null];
        const rest = xs.slice(bias ? 5 : 3);
        const [h, c] = cellStep(spec, x, rest[0] ?? null, rest[1] ?? null, { weightIh: wIh, weightHh: wHh, biasIh: b[0], biasHh: b[1] }, []);
        return c === null ? [h] : [h, c];
      };
      expect(gradcheck(fn, inputs)).toBeGreaterThan(0);
    });
  });

  // Through the modules: unbatched layouts and the hidden states.
  test.each(modes)('%s module, unbatched input and hx', (mode) => {
    const rng = prng(99 + mode.length);
    cr.manualSeed(5);
    const cell = build(mode, 4, 3, { dtype: 'float64' });
    const inputs = [randomInput(rng, [4]), randomInput(rng, [3]), randomInput(rng, [3])];
    const fn = (x: Tensor, h: Tensor, c: Tensor): Tensor[] => {
      const [h1, c1] = run(cell, x, h, c);
      return c1 === null ? [h1] : [h1, c1];
    };
    expect(gradcheck(fn, inputs, { check: [true, true, mode === 'LSTM'] })).toBeGreaterThan(0);
    cell.dispose();
  });

  test('LSTMCell: backward from h\' alone and from c\' alone', () => {
    const rng = prng(4242);
    cr.manualSeed(6);
    const cell = new nn.LSTMCell(3, 4, { dtype: 'float64' });
    const inputs = [randomInput(rng, [2, 3]), randomInput(rng, [2, 4]), randomInput(rng, [2, 4])];
    expect(gradcheck((x, h, c) => cell.forward(x, [h, c])[0], inputs)).toBeGreaterThan(0);
    expect(gradcheck((x, h, c) => cell.forward(x, [h, c])[1], inputs)).toBeGreaterThan(0);
    // One tensor as both states: its gradient is the sum of both.
    expect(gradcheck((x, h) => cell.forward(x, [h, h]), inputs.slice(0, 2))).toBeGreaterThan(0);
    cell.dispose();
  });
});

// ---------------------------------------------------------------------------

describe('checks and messages (PyTorch\'s wording)', () => {
  const rnn = new nn.RNNCell(3, 4);
  const gru = new nn.GRUCell(3, 4);
  const lstm = new nn.LSTMCell(3, 4);
  afterAll(() => [rnn, gru, lstm].forEach((m) => m.dispose()));
  const z = (...shape: number[]) => cr.zeros(shape);

  test('input and hidden dimensions', () => {
    expect(() => rnn.forward(z(2, 2, 3))).toThrow(new RangeError('RNNCell: Expected input to be 1D or 2D, got 3D instead'));
    expect(() => gru.forward(z())).toThrow(new RangeError('GRUCell: Expected input to be 1D or 2D, got 0D instead'));
    expect(() => lstm.forward(z(1, 2, 3))).toThrow(new RangeError('LSTMCell: Expected input to be 1D or 2D, got 3D instead'));
    expect(() => rnn.forward(z(2, 3), z(1, 2, 4))).toThrow(new RangeError('RNNCell: Expected hidden to be 1D or 2D, got 3D instead'));
    expect(() => gru.forward(z(2, 3), z(1, 2, 4))).toThrow(new RangeError('GRUCell: Expected hidden to be 1D or 2D, got 3D instead'));
    expect(() => lstm.forward(z(2, 3), [z(2, 4), z(1, 2, 4)])).toThrow(new RangeError('LSTMCell: Expected hx[1] to be 1D or 2D, got 3D instead'));
    expect(() => rnn.forward(z(3), z(2, 4))).toThrow(new RangeError('RNNCell: For unbatched 1-D input, hx should also be 1-D but got 2-D tensor'));
    expect(() => lstm.forward(z(2, 3), [z(4), z(2, 4)])).toThrow(new RangeError('LSTMCell: For batched 2-D input, hx[0] should also be 2-D but got 1-D tensor'));
  });

  test('sizes and batch (ATen\'s check_rnn_cell_forward_* messages)', () => {
    expect(() => rnn.forward(z(2, 5))).toThrow(new RangeError('input has inconsistent input_size: got 5 expected 3'));
    expect(() => gru.forward(z(5))).toThrow(new RangeError('input has inconsistent input_size: got 5 expected 3'));
    expect(() => rnn.forward(z(3, 3), z(2, 4))).toThrow(new RangeError("Input batch size 3 doesn't match hidden0 batch size 2"));
    expect(() => gru.forward(z(2, 3), z(2, 5))).toThrow(new RangeError('hidden0 has inconsistent hidden_size: got 5, expected 4'));
    expect(() => gru.forward(z(3), z(5))).toThrow(new RangeError('hidden0 has inconsistent hidden_size: got 5, expected 4'));
    expect(() => lstm.forward(z(3, 3), [z(3, 4), z(2, 4)])).toThrow(new RangeError("Input batch size 3 doesn't match hidden1 batch size 2"));
    expect(() => lstm.forward(z(3, 3), [z(3, 5), z(3, 4)])).toThrow(new RangeError('hidden0 has inconsistent hidden_size: got 5, expected 4'));
    expect(() => lstm.forward(z(3, 3), [z(3, 4), z(3, 5)])).toThrow(new RangeError('hidden1 has inconsistent hidden_size: got 5, expected 4'));
  });

  test('LSTMCell wants the pair [h, c]', () => {
    expect(() => lstm.forward(z(2, 3), z(2, 4) as never)).toThrow(new TypeError("lstm_cell(): argument 'hx' (position 2) must be tuple of Tensors, not Tensor"));
    expect(() => lstm.forward(z(2, 3), [z(2, 4)] as never)).toThrow(new RangeError('lstm_cell expects two hidden states'));
    expect(() => lstm.forward(z(2, 3), [z(2, 4), 7] as never)).toThrow(TypeError);
    expect(() => lstm.forward(z(2, 3), 'h' as never)).toThrow(TypeError);
  });

  test('dtypes, non-tensors, disposed modules', () => {
    const x64 = cr.zeros([2, 3], { dtype: 'float64' });
    expect(() => rnn.forward(x64)).toThrow(new TypeError('RNNCell: input dtype (torch.float64) does not match weight dtype (torch.float32). Convert input: input.to(torch.float32), or convert model: model.to(torch.float64)'));
    expect(() => gru.forward(z(2, 3), cr.zeros([2, 4], { dtype: 'float64' }))).toThrow(new TypeError('GRUCell: hx dtype (torch.float64) does not match weight dtype (torch.float32)'));
    expect(() => lstm.forward(z(2, 3), [z(2, 4), cr.zeros([2, 4], { dtype: 'float64' })])).toThrow(new TypeError('LSTMCell: hx[1] dtype (torch.float64) does not match weight dtype (torch.float32)'));
    expect(() => rnn.forward([1, 2, 3] as never)).toThrow(TypeError);
    expect(() => rnn.forward(z(2, 3), 5 as never)).toThrow(TypeError);
    const gone = new nn.GRUCell(3, 4);
    gone.dispose();
    expect(() => gone.forward(z(2, 3))).toThrow(expect.objectContaining({ code: 'ERR_CUDNN_RNN_DISPOSED' }));
  });

  test('constructor arguments', () => {
    expect(() => new nn.RNNCell(3, 4, { nonlinearity: 'sigmoid' as never })).toThrow(new RangeError('Unknown nonlinearity: sigmoid'));
    expect(() => new nn.GRUCell(3, 4, { nonlinearity: 'relu' } as never)).toThrow(/unknown option "nonlinearity"/);
    expect(() => new nn.LSTMCell(2.5, 4)).toThrow(TypeError);
    expect(() => new nn.LSTMCell(3, -1)).toThrow(RangeError);
    expect(() => new nn.GRUCell(3, 4, { bias: 1 as never })).toThrow(TypeError);
    expect(() => new nn.GRUCell(3, 4, { dtype: 'int32' as never })).toThrow(TypeError);
    expect(() => new nn.RNNCell(3, 4, { batchFirst: true } as never)).toThrow(TypeError);
  });

  test('a nonlinearity changed by plain JS after construction is refused at forward, as torch does', () => {
    const cell = new nn.RNNCell(3, 4);
    (cell as unknown as { nonlinearity: string }).nonlinearity = 'foo';
    expect(() => cell.forward(z(2, 3))).toThrow(new RangeError('Unknown nonlinearity: foo'));
    cell.dispose();
  });
});

describe('degenerate sizes (PyTorch\'s cells accept them)', () => {
  test.each(['RNN_TANH', 'GRU', 'LSTM'] as CellMode[])('%s: batch 0, hidden_size 0, input_size 0', (mode) => {
    cr.tidy(() => {
      const a = build(mode, 3, 4);
      const x0 = cr.zeros([0, 3]).requiresGrad_();
      const [h0] = run(a, x0, null, null);
      expect(h0.shape).toEqual([0, 4]);
      cr.sum(h0).backward();
      expect(x0.grad?.shape).toEqual([0, 3]);
      expect(Array.from((a.weight_ih.grad as Tensor).dataSync()).every((v) => v === 0)).toBe(true);

      const b = build(mode, 3, 0);
      const [hb] = run(b, cr.ones([2, 3]), null, null);
      expect(hb.shape).toEqual([2, 0]);

      // input_size 0: the gates see only the biases.
      const c = build(mode, 0, 2);
      const xc = cr.zeros([2, 0]);
      const [hc] = run(c, xc, null, null);
      const ref = build(mode, 1, 2);
      noGrad(() => {
        ref.weight_ih.zero_();
        ref.weight_hh.copy_(c.weight_hh);
        (ref.bias_ih as Tensor).copy_(c.bias_ih as Tensor);
        (ref.bias_hh as Tensor).copy_(c.bias_hh as Tensor);
      });
      const [hr] = run(ref, cr.ones([2, 1]), null, null);
      expect(Array.from(hc.dataSync())).toEqual(Array.from(hr.dataSync()));
      [a, b, c, ref].forEach((m) => m.dispose());
    });
  });
});

describe('module behaviour', () => {
  test('.to(dtype) moves every parameter; the float64 cell computes the float32 one\'s values more precisely', () => {
    cr.manualSeed(3);
    const cell = new nn.LSTMCell(3, 4);
    const x = cr.randn([2, 3]);
    const [h32] = cell.forward(x);
    cell.to('float64');
    expect(cell.dtype).toBe('float64');
    expect(cell.parameters().every((p) => p.dtype === 'float64' && p.requiresGrad)).toBe(true);
    const [h64] = cell.forward(x.to('float64'));
    expect(compareValues(h32.dataSync(), Array.from(h64.dataSync()), 1e-6)).toBeNull();
    cell.to({ dtype: 'float32', device: 'cpu' });
    expect(cell.weight_ih.dtype).toBe('float32');
    cell.dispose();
  });

  test('stateDict / loadStateDict and safetensors carry a cell to an identical one', () => {
    cr.manualSeed(11);
    const a = new nn.GRUCell(3, 5);
    cr.manualSeed(12);
    const b = new nn.GRUCell(3, 5);
    expect(Object.keys(a.stateDict())).toEqual(['weight_ih', 'weight_hh', 'bias_ih', 'bias_hh']);
    const bytes = cr.serialize(a.stateDict());
    const loaded = cr.deserialize(bytes);
    b.loadStateDict(loaded);
    const x = cr.randn([4, 3]);
    expect(Array.from(b.forward(x).dataSync())).toEqual(Array.from(a.forward(x).dataSync()));
    const file = path.join(fs.mkdtempSync(path.join(require('os').tmpdir(), 'cells-')), 'gru.safetensors');
    cr.save(a.stateDict(), file);
    const c = new nn.GRUCell(3, 5);
    c.loadStateDict(cr.load(file));
    expect(Array.from(c.forward(x).dataSync())).toEqual(Array.from(a.forward(x).dataSync()));
    expect(() => new nn.LSTMCell(3, 5).loadStateDict(a.stateDict())).toThrow(/size mismatch for weight_ih/);
    [a, b, c].forEach((m) => m.dispose());
  });

  test('training a cell with an optimizer lowers the loss (the graph frees its saved buffers)', () => {
    cr.manualSeed(21);
    const cell = new nn.LSTMCell(2, 3);
    const opt = new cr.optim.SGD(cell.parameters(), { lr: 0.5 });
    const xs = cr.randn([5, 4, 2]);
    const target = cr.randn([4, 3]);
    const losses: number[] = [];
    for (let epoch = 0; epoch < 20; ++epoch) {
      cr.tidy(() => {
        opt.zeroGrad();
        let state: [Tensor, Tensor] | undefined;
        for (let t = 0; t < 5; ++t) state = cell.forward(cr.select(xs, 0, t), state);
        const loss = cr.mean(cr.square(cr.sub((state as [Tensor, Tensor])[0], target)));
        loss.backward();
        opt.step();
        losses.push(loss.item());
      });
    }
    expect(losses[19]).toBeLessThan(losses[0] * 0.8);
    cell.dispose();
  });

  test('a cell loop reproduces nn.GRU and nn.RNN over a sequence with the same weights', () => {
    cr.manualSeed(31);
    for (const [seq, cell] of [[new nn.GRU(3, 4), new nn.GRUCell(3, 4)], [new nn.RNN(3, 4, { nonlinearity: 'relu' }), new nn.RNNCell(3, 4, { nonlinearity: 'relu' })]] as Array<[cr.nn.RNNBase, AnyCell]>) {
      noGrad(() => {
        cell.weight_ih.copy_(seq.weight_ih_l0);
        cell.weight_hh.copy_(seq.weight_hh_l0);
        (cell.bias_ih as Tensor).copy_(seq.bias_ih_l0 as Tensor);
        (cell.bias_hh as Tensor).copy_(seq.bias_hh_l0 as Tensor);
        const x = cr.randn([6, 2, 3]);
        const [out] = seq.forward(x);
        let h: Tensor | null = null;
        const steps: Tensor[] = [];
        for (let t = 0; t < 6; ++t) {
          [h] = run(cell, cr.select(x, 0, t), h, null);
          steps.push(h);
        }
        expect(compareValues(cr.stack(steps, 0).dataSync(), Array.from(out.dataSync()), 1e-5)).toBeNull();
      });
      seq.dispose();
      cell.dispose();
    }
  });
});
