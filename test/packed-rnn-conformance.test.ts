// PyTorch conformance of nn.RNN / nn.GRU / nn.LSTM on a PackedSequence: the
// packed output data, the padded output (padPackedSequence with
// totalLength), h_n / c_n in the caller's batch order, and every gradient
// (padded input, h0, c0, every parameter) against PyTorch 1.13's native CPU
// path (test/fixtures/gen_packed_rnn.py -> packed_rnn.json: tanh/relu RNN,
// GRU, LSTM with and without projSize, bidirectional and multi-layer, with
// and without hx, enforceSorted true and false, batchFirst, totalLength,
// N > 4 so the packed-W_hh kernel runs). Plus a finite-difference gradcheck
// in float64 through a packed bidirectional LSTM.
//
// Tolerances (not to be loosened to make a mismatch pass):
//   |ours - torch| <= tol * max(1, |torch|), tol = 1e-10 (float64), 1e-5 (float32).
import * as fs from 'fs';
import * as path from 'path';
import { add, manualSeed, mul, nn, noGrad, randn, sum, Tensor, zeros } from '../lib';

import { gradcheck, prng, randomInput } from './helpers/gradcheck';
import { compare, DT, FixtureTensor, toTensor } from './helpers/lstm-fixture';

interface Case {
  name: string;
  mode: 'RNN' | 'GRU' | 'LSTM';
  nonlinearity: 'tanh' | 'relu' | null;
  lengths: number[];
  layers: number;
  bidir: boolean;
  sorted: boolean;
  batch_first: boolean;
  total: number | null;
  dtype: DT;
  I: number;
  H: number;
  P: number;
  state_dict: Record<string, FixtureTensor>;
  input: FixtureTensor;
  h0: FixtureTensor | null;
  c0: FixtureTensor | null;
  batch_sizes: number[];
  grad_data: FixtureTensor;
  grad_h_n: FixtureTensor;
  grad_c_n: FixtureTensor | null;
  data: FixtureTensor;
  padded: FixtureTensor;
  h_n: FixtureTensor;
  c_n: FixtureTensor | null;
  grad_input: FixtureTensor;
  grad_h0: FixtureTensor | null;
  grad_c0: FixtureTensor | null;
  grad_params: Record<string, FixtureTensor>;
}

const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'packed_rnn.json'), 'utf8')) as { torch_version: string; cases: Case[] };

type AnyRnn = nn.RNN | nn.GRU | nn.LSTM;

function build(c: Case): AnyRnn {
  const common = { numLayers: c.layers, bidirectional: c.bidir, batchFirst: c.batch_first, dtype: c.dtype };
  if (c.mode === 'RNN') return new nn.RNN(c.I, c.H, { ...common, nonlinearity: c.nonlinearity as 'tanh' | 'relu' });
  if (c.mode === 'GRU') return new nn.GRU(c.I, c.H, common);
  return new nn.LSTM(c.I, c.H, { ...common, projSize: c.P });
}

function load(rnn: AnyRnn, c: Case): void {
  const sd: Record<string, Tensor> = {};
  for (const [k, v] of Object.entries(c.state_dict)) sd[k] = toTensor(v, c.dtype);
  try {
    rnn.loadStateDict(sd);
  } finally {
    for (const t of Object.values(sd)) t.dispose();
  }
}

/** Runs the packed forward; returns [packed output, h_n, c_n | null]. */
function run(rnn: AnyRnn, c: Case, packed: nn.utils.rnn.PackedSequence, h0: Tensor | null, c0: Tensor | null, asyncRun = false):
  [nn.utils.rnn.PackedSequence, Tensor, Tensor | null] | Promise<[nn.utils.rnn.PackedSequence, Tensor, Tensor | null]> {
  if (rnn instanceof nn.LSTM) {
    const hx = h0 === null || c0 === null ? null : [h0, c0] as [Tensor, Tensor];
    if (asyncRun) return rnn.forwardAsync(packed, hx).then(([o, [h, cc]]) => [o, h, cc]);
    const [o, [h, cc]] = rnn.forward(packed, hx);
    return [o, h, cc];
  }
  if (asyncRun) return rnn.forwardAsync(packed, h0).then(([o, h]) => [o, h, null]);
  const [o, h] = rnn.forward(packed, h0);
  return [o, h, null];
}

function pack(c: Case, x: Tensor): nn.utils.rnn.PackedSequence {
  return nn.utils.rnn.packPaddedSequence(x, c.lengths, { batchFirst: c.batch_first, enforceSorted: c.sorted });
}

function forwardFails(c: Case, out: nn.utils.rnn.PackedSequence, hn: Tensor, cn: Tensor | null): string[] {
  const fails = [...compare('output.data', out.data, c.data, c.dtype), ...compare('h_n', hn, c.h_n, c.dtype)];
  if (c.c_n !== null) fails.push(...compare('c_n', cn, c.c_n, c.dtype));
  expect(Array.from(out.batchSizes.dataSync())).toEqual(c.batch_sizes);
  const [padded, lengths] = nn.utils.rnn.padPackedSequence(out, { batchFirst: c.batch_first, totalLength: c.total ?? undefined });
  expect(Array.from(lengths.dataSync())).toEqual(c.lengths);
  fails.push(...compare('padded output', padded, c.padded, c.dtype));
  return fails;
}

test('packed_rnn.json was made by PyTorch 1.13', () => {
  expect(fixture.torch_version.startsWith('1.13')).toBe(true);
});

describe.each(fixture.cases.map((c) => [c.name, c] as [string, Case]))('%s', (_name, c) => {
  test('forward (training, recording), eval under noGrad and forwardAsync match torch', async () => {
    const rnn = build(c);
    load(rnn, c);
    const x = toTensor(c.input, c.dtype);
    const h0 = c.h0 === null ? null : toTensor(c.h0, c.dtype);
    const c0 = c.c0 === null ? null : toTensor(c.c0, c.dtype);
    const packed = pack(c, x);
    const [out, hn, cn] = run(rnn, c, packed, h0, c0) as [nn.utils.rnn.PackedSequence, Tensor, Tensor | null];
    expect(forwardFails(c, out, hn, cn)).toEqual([]);
    rnn.eval();
    const [oi, hi, ci] = noGrad(() => run(rnn, c, packed, h0, c0)) as [nn.utils.rnn.PackedSequence, Tensor, Tensor | null];
    expect(forwardFails(c, oi, hi, ci)).toEqual([]);
    const [oa, ha, ca] = await run(rnn, c, packed, h0, c0, true);
    expect(forwardFails(c, oa, ha, ca)).toEqual([]);
    rnn.dispose();
  });

  test('gradients of the input, h0, c0 and every parameter match torch', () => {
    const rnn = build(c);
    load(rnn, c);
    const x = toTensor(c.input, c.dtype);
    x.requiresGrad = true;
    const h0 = c.h0 === null ? null : toTensor(c.h0, c.dtype);
    const c0 = c.c0 === null ? null : toTensor(c.c0, c.dtype);
    if (h0) h0.requiresGrad = true;
    if (c0) c0.requiresGrad = true;
    const [out, hn, cn] = run(rnn, c, pack(c, x), h0, c0) as [nn.utils.rnn.PackedSequence, Tensor, Tensor | null];
    let loss = add(sum(mul(out.data, toTensor(c.grad_data, c.dtype))), sum(mul(hn, toTensor(c.grad_h_n, c.dtype))));
    if (cn !== null && c.grad_c_n !== null) loss = add(loss, sum(mul(cn, toTensor(c.grad_c_n, c.dtype))));
    loss.backward();
    const fails = compare('input.grad', x.grad, c.grad_input, c.dtype);
    if (h0 !== null) fails.push(...compare('h0.grad', h0.grad, c.grad_h0 as FixtureTensor, c.dtype));
    if (c0 !== null) fails.push(...compare('c0.grad', c0.grad, c.grad_c0 as FixtureTensor, c.dtype));
    for (const [name, p] of rnn.namedParameters()) fails.push(...compare(`${name}.grad`, p.grad, c.grad_params[name], c.dtype));
    expect(fails).toEqual([]);
    rnn.dispose();
  });
});

describe('packed forward', () => {
  test('finite-difference gradcheck (float64) through a packed bidirectional 2-layer LSTM, unsorted, with (h0, c0)', () => {
    const rnn = new nn.LSTM(3, 4, { numLayers: 2, bidirectional: true, dtype: 'float64' });
    const rng = prng(77);
    const lengths = [2, 4, 1, 3];
    const x = randomInput(rng, [4, 4, 3]);
    const h0 = randomInput(rng, [4, 4, 4]);
    const c0 = randomInput(rng, [4, 4, 4]);
    const checked = gradcheck((xi, hi, ci) => {
      const packed = nn.utils.rnn.packPaddedSequence(xi, lengths, { enforceSorted: false });
      const [out, [hn, cn]] = rnn.forward(packed, [hi, ci]);
      return [out.data, hn, cn];
    }, [x, h0, c0]);
    expect(checked).toBe(x.numel + h0.numel + c0.numel);
    rnn.dispose();
  });

  test("torch's messages for a wrong hx and a wrong input size", () => {
    const rnn = new nn.GRU(3, 5, 2);
    const packed = nn.utils.rnn.packSequence([randn([4, 3]), randn([2, 3]), randn([1, 3])]);
    expect(() => rnn.forward(packed, zeros([2, 4, 5]))).toThrow('Expected hidden size (2, 3, 5), got [2, 4, 5]');
    expect(() => new nn.GRU(4, 5).forward(packed)).toThrow('input.size(-1) must be equal to input_size. Expected 4, got 3');
    rnn.dispose();
  });

  test('dropout between layers applies to packed input in training and backward runs through it', () => {
    manualSeed(3);
    const rnn = new nn.LSTM(3, 6, { numLayers: 2, dropout: 0.5, bidirectional: true });
    const x = randn([5, 4, 3]);
    x.requiresGrad = true;
    const packed = nn.utils.rnn.packPaddedSequence(x, [5, 3, 2, 1]);
    const [train] = rnn.forward(packed);
    sum(train.data).backward();
    expect(x.grad).not.toBeNull();
    rnn.eval();
    const [evalOut] = noGrad(() => rnn.forward(packed));
    const a = train.data.dataSync();
    const b = evalOut.data.dataSync();
    expect(Array.from(a).some((v, i) => Math.abs(v - b[i]) > 1e-6)).toBe(true);
    rnn.dispose();
  });

  test('a packed GRU equals running each sequence on its own', () => {
    const rnn = new nn.GRU(3, 5, { bidirectional: true, numLayers: 2, dtype: 'float64' });
    const rng = prng(5);
    const lengths = [3, 6, 1, 6, 2, 5];
    const x = randomInput(rng, [6, 6, 3]);
    noGrad(() => {
      const [out, hn] = rnn.forward(nn.utils.rnn.packPaddedSequence(x, lengths, { enforceSorted: false }));
      const [padded] = nn.utils.rnn.padPackedSequence(out);
      const pv = padded.dataSync();
      const hv = hn.dataSync();
      lengths.forEach((len, b) => {
        const xb = x.narrow(1, b, 1).narrow(0, 0, len);
        const [ob, hb] = rnn.forward(xb);
        const ov = ob.dataSync();
        for (let t = 0; t < len; ++t) {
          for (let j = 0; j < 10; ++j) expect(Math.abs(pv[(t * 6 + b) * 10 + j] - ov[t * 10 + j])).toBeLessThan(1e-12);
        }
        const hbv = hb.dataSync();
        for (let k = 0; k < 4; ++k) {
          for (let j = 0; j < 5; ++j) expect(Math.abs(hv[(k * 6 + b) * 5 + j] - hbv[k * 5 + j])).toBeLessThan(1e-12);
        }
      });
    });
    rnn.dispose();
  });
});

/**
 * Larger sizes, where the kernel shares each step among threads (slices of
 * hidden units), reads packed W_hh (N > 4) or the small kernel per gate slice
 * (N <= 4): the packed run must equal running each sequence alone (the padded
 * path, checked against torch by rnn-/lstm-conformance), forward and every
 * gradient, with the loss weighting each output and final state.
 */
describe('packed = each sequence on its own, on the threaded and packed-W_hh kernel paths (float64)', () => {
  const cases: Array<[string, () => AnyRnn, number[]]> = [
    ['GRU H=96 bidirectional, N=8', () => new nn.GRU(5, 96, { bidirectional: true, dtype: 'float64' }), [7, 2, 9, 1, 4, 9, 3, 5]],
    ['GRU H=128 bidirectional 2 layers, N=4 (small kernel, gate slices)', () => new nn.GRU(3, 128, { bidirectional: true, numLayers: 2, dtype: 'float64' }), [3, 6, 1, 4]],
    ['RNN relu H=160 bidirectional, N=6', () => new nn.RNN(4, 160, { bidirectional: true, nonlinearity: 'relu', dtype: 'float64' }), [2, 5, 5, 1, 3, 4]],
    ['LSTM H=64 proj 40 bidirectional 2 layers, N=6', () => new nn.LSTM(4, 64, { bidirectional: true, numLayers: 2, projSize: 40, dtype: 'float64' }), [4, 1, 6, 2, 6, 3]],
    ['LSTM H=72 bidirectional, N=3', () => new nn.LSTM(4, 72, { bidirectional: true, dtype: 'float64' }), [2, 5, 3]],
  ];
  test.each(cases)('%s', (_name, make, lengths) => {
    manualSeed(11);
    const rnn = make();
    const lstm = rnn instanceof nn.LSTM;
    const N = lengths.length;
    const T = Math.max(...lengths);
    const D = rnn.bidirectional ? 2 : 1;
    const R = lstm && (rnn as nn.LSTM).projSize > 0 ? (rnn as nn.LSTM).projSize : rnn.hiddenSize;
    const LD = rnn.numLayers * D;
    const x = randn([T, N, rnn.inputSize], { dtype: 'float64' });
    const h0 = randn([LD, N, R], { dtype: 'float64' });
    const c0 = randn([LD, N, rnn.hiddenSize], { dtype: 'float64' });
    const u = randn([T, N, D * R], { dtype: 'float64' });
    const v = randn([LD, N, R], { dtype: 'float64' });
    const w = randn([LD, N, rnn.hiddenSize], { dtype: 'float64' });
    const leaves = (): Tensor[] => [x, h0, c0].map((t) => {
      const c = t.clone();
      c.requiresGrad = true;
      return c;
    });
    const grads = (xs: Tensor[]): Float64Array[] => [...xs.slice(0, lstm ? 3 : 2), ...rnn.parameters()].map((t) => Float64Array.from((t.grad as Tensor).dataSync()));
    const stateOf = (h: Tensor, c: Tensor): unknown => (lstm ? [h, c] : h);
    const finals = (hy: unknown): [Tensor, Tensor | null] => (lstm ? hy as [Tensor, Tensor] : [hy as Tensor, null]);

    // Packed, batch unsorted.
    const [xp, hp, cp] = leaves();
    // One signature for the three module types (their hx types differ).
    const run = rnn as unknown as {
      forward(input: nn.utils.rnn.PackedSequence, hx: unknown): [nn.utils.rnn.PackedSequence, unknown];
      forward(input: Tensor, hx: unknown): [Tensor, unknown];
    };
    const [out, hyP] = run.forward(nn.utils.rnn.packPaddedSequence(xp, lengths, { enforceSorted: false }), stateOf(hp, cp));
    const [padded] = nn.utils.rnn.padPackedSequence(out, { totalLength: T });
    const [hN, cN] = finals(hyP);
    let loss = add(sum(mul(padded, u)), sum(mul(hN, v)));
    if (cN) loss = add(loss, sum(mul(cN, w)));
    loss.backward();
    const packedGrads = grads([xp, hp, cp]);
    const packedOut = Float64Array.from(padded.dataSync());
    rnn.zeroGrad();

    // Each sequence alone (padded path, batch of one).
    const [xs, hs, cs] = leaves();
    let total: Tensor | null = null;
    const alone = new Float64Array(packedOut.length);
    lengths.forEach((len, b) => {
      const xb = xs.narrow(1, b, 1).narrow(0, 0, len);
      const [ob, hyb] = run.forward(xb, stateOf(hs.narrow(1, b, 1), cs.narrow(1, b, 1)));
      const [hb, cb] = finals(hyb);
      const obv = ob.dataSync();
      for (let t = 0; t < len; ++t) for (let j = 0; j < D * R; ++j) alone[(t * N + b) * D * R + j] = obv[t * D * R + j];
      let lb = add(sum(mul(ob, u.narrow(1, b, 1).narrow(0, 0, len))), sum(mul(hb, v.narrow(1, b, 1))));
      if (cb) lb = add(lb, sum(mul(cb, w.narrow(1, b, 1))));
      total = total === null ? lb : add(total, lb);
    });
    (total as unknown as Tensor).backward();
    const aloneGrads = grads([xs, hs, cs]);
    const worst = (a: Float64Array, b: Float64Array): number => a.reduce((m, ai, i) => Math.max(m, Math.abs(ai - b[i]) / Math.max(1, Math.abs(b[i]))), 0);
    expect(worst(packedOut, alone)).toBeLessThanOrEqual(1e-10);
    expect(packedGrads.length).toBe((lstm ? 3 : 2) + rnn.parameters().length);
    const bad = packedGrads.map((g, i) => [i, worst(g, aloneGrads[i])] as [number, number]).filter(([, e]) => !(e <= 1e-10));
    expect(bad).toEqual([]);
    rnn.dispose();
  });
});
