// GPU suite: nn.LSTM (with and without projection) on cuDNN against the CPU
// backend and PyTorch.
//
// 1. The whole conformance grid of test/fixtures/lstm.json (gen_lstm.py,
//    PyTorch 1.13): the same weights loaded on both backends; output, h_n,
//    c_n and the gradients of input, h0, c0 and every parameter, compared GPU
//    vs CPU backend and GPU vs the fixture's PyTorch values. Tolerances as
//    for RNN/GRU on the GPU: float64 5e-5 absolute (PyTorch's own cuDNN test
//    tolerance), float32 1e-4 relative (|gpu - ref| <= 1e-4 * max(1, |ref|)).
// 2. Larger sizes (where cuDNN picks other algorithms), weight_hr included.
// 3. Parameters are the weights cuDNN uses (weight space located with
//    cudnnGetRNNWeightParams, linLayerID 8 for the projection).
// 4. Dropout on cuDNN between layers.
// PyTorch's own cuDNN LSTM on the same weights: test/cuda-gpu-torch.test.ts.
//
// Skipped, with the reason printed, where 'cuda' is not usable.
import * as fs from 'fs';
import * as path from 'path';

import * as cr from '../lib';
import type { Tensor } from '../lib';
import { toTensor } from './helpers/lstm-fixture';
import type { DT, FixtureTensor, LstmCase } from './helpers/lstm-fixture';
import { compareTensors, firstBitDifference, gpuDescribe, Tol } from './gpu/common';

const { nn, noGrad } = cr;

type Case = LstmCase;

const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'lstm.json'), 'utf8')) as { cases: Case[] };

const GPU_TOL: Record<DT, Tol> = { float64: { abs: 5e-5 }, float32: { rel: 1e-4 } };

const onGpu = gpuDescribe('cuda-gpu-lstm');

function fixtureRef(t: FixtureTensor, dtype: DT): { shape: number[]; data: ArrayLike<number>; dtype: DT } {
  return { shape: t.shape, data: dtype === 'float64' ? Float64Array.from(t.data) : Float32Array.from(t.data), dtype };
}

function build(c: Case): cr.nn.LSTM {
  return new nn.LSTM(c.input_size, c.hidden_size, {
    numLayers: c.num_layers, bias: c.bias, batchFirst: c.batch_first, bidirectional: c.bidirectional, projSize: c.proj_size, dtype: c.dtype, device: 'cpu',
  });
}

/** A module with the fixture's weights on the CPU, and a copy moved to cuda. */
function pair(c: Case): { cpu: cr.nn.LSTM; gpu: cr.nn.LSTM } {
  const sd: Record<string, Tensor> = {};
  for (const [k, v] of Object.entries(c.state_dict)) sd[k] = toTensor(v, c.dtype);
  const cpu = build(c);
  const g = build(c);
  try {
    cpu.loadStateDict(sd);
    g.loadStateDict(sd);
  } finally {
    for (const t of Object.values(sd)) t.dispose();
  }
  g.to('cuda');
  return { cpu, gpu: g };
}

interface Run {
  out: Tensor;
  hn: Tensor;
  cn: Tensor;
  x: Tensor;
  h0: Tensor | null;
  c0: Tensor | null;
}

interface Ref {
  out: unknown;
  hn: unknown;
  cn: unknown;
  dx: unknown;
  dh0: unknown;
  dc0: unknown;
  dw: Record<string, unknown>;
}

/** Forward + backward of L = <out, gOut> + <h_n, gH> + <c_n, gC> on `device`. */
function trainRun(rnn: cr.nn.LSTM, c: Case, device: string): Run {
  const leaf = (t: FixtureTensor | null): Tensor | null => (t === null ? null : noGrad(() => toTensor(t, c.dtype).to(device)).requiresGrad_());
  const x = leaf(c.input) as Tensor;
  const h0 = leaf(c.h0);
  const c0 = leaf(c.c0);
  const [out, [hn, cn]] = h0 === null || c0 === null ? rnn.forward(x) : rnn.forward(x, [h0, c0]);
  const loss = cr.add(cr.add(cr.sum(cr.mul(out, toTensor(c.grad_output, c.dtype, device))), cr.sum(cr.mul(hn, toTensor(c.grad_h_n, c.dtype, device)))),
    cr.sum(cr.mul(cn, toTensor(c.grad_c_n, c.dtype, device))));
  loss.backward();
  return { out, hn, cn, x, h0, c0 };
}

function compareRun(label: string, g: Run, rnn: cr.nn.LSTM, ref: Ref, tol: Tol): string[] {
  type R = Parameters<typeof compareTensors>[2];
  const fails: string[] = [];
  fails.push(...compareTensors(`${label} output`, g.out, ref.out as R, tol));
  fails.push(...compareTensors(`${label} h_n`, g.hn, ref.hn as R, tol));
  fails.push(...compareTensors(`${label} c_n`, g.cn, ref.cn as R, tol));
  fails.push(...compareTensors(`${label} input.grad`, g.x.grad, ref.dx as R, tol));
  if (g.h0 !== null) fails.push(...compareTensors(`${label} h0.grad`, g.h0.grad, ref.dh0 as R, tol));
  if (g.c0 !== null) fails.push(...compareTensors(`${label} c0.grad`, g.c0.grad, ref.dc0 as R, tol));
  for (const [name, p] of rnn.namedParameters()) fails.push(...compareTensors(`${label} ${name}.grad`, p.grad, ref.dw[name] as R, tol));
  return fails;
}

function devicesOf(run: Run, rnn: cr.nn.LSTM): string[] {
  const bad: string[] = [];
  const check = (what: string, t: Tensor | null) => {
    if (t !== null && t.device !== 'cuda:0') bad.push(`${what} on ${t.device}`);
  };
  for (const [what, t] of [['output', run.out], ['h_n', run.hn], ['c_n', run.cn], ['input.grad', run.x.grad]] as const) check(what, t);
  if (run.h0 !== null) check('h0.grad', run.h0.grad);
  if (run.c0 !== null) check('c0.grad', run.c0.grad);
  for (const [n, p] of rnn.namedParameters()) {
    check(n, p);
    check(`${n}.grad`, p.grad);
  }
  return bad;
}

onGpu('nn.LSTM on cuDNN (cuda-gpu-lstm)', () => {
  beforeAll(() => {
    cr.setDefaultDevice('cpu');
  });

  describe.each(fixture.cases.map((c) => [c.name, c] as [string, Case]))('grid %s', (_name, c) => {
    test('training forward + backward on cuda = the CPU backend and PyTorch (output, h_n, c_n, grads of input, h0, c0, every parameter)', () => {
      const before = cr.memory().numTensors;
      const { cpu, gpu: g } = pair(c);
      try {
        cr.tidy(() => {
          expect(g.device).toBe('cuda:0');
          const rc = trainRun(cpu, c, 'cpu');
          const rg = trainRun(g, c, 'cuda');
          const fails = devicesOf(rg, g);
          const cpuGrads = Object.fromEntries(cpu.namedParameters().map(([n, p]) => [n, p.grad]));
          fails.push(...compareRun('vs CPU:', rg, g, {
            out: rc.out, hn: rc.hn, cn: rc.cn, dx: rc.x.grad, dh0: rc.h0?.grad ?? null, dc0: rc.c0?.grad ?? null, dw: cpuGrads,
          }, GPU_TOL[c.dtype]));
          const fx = (t: FixtureTensor | null) => (t === null ? null : fixtureRef(t, c.dtype));
          const torchGrads = Object.fromEntries(Object.entries(c.grad_params).map(([n, t]) => [n, fx(t)]));
          fails.push(...compareRun('vs torch:', rg, g, {
            out: fx(c.output), hn: fx(c.h_n), cn: fx(c.c_n), dx: fx(c.grad_input), dh0: fx(c.grad_h0), dc0: fx(c.grad_c0), dw: torchGrads,
          }, GPU_TOL[c.dtype]));
          expect(fails).toEqual([]);
        });
      } finally {
        cpu.dispose();
        g.dispose();
      }
      expect(cr.memory().numTensors).toBe(before);
    });

    test('inference (eval + noGrad) and forwardAsync on cuda = PyTorch', async () => {
      const { cpu, gpu: g } = pair(c);
      cpu.dispose();
      const x = toTensor(c.input, c.dtype, 'cuda');
      const state = c.h0 === null || c.c0 === null ? null : [toTensor(c.h0, c.dtype, 'cuda'), toTensor(c.c0, c.dtype, 'cuda')] as [Tensor, Tensor];
      const tol = GPU_TOL[c.dtype];
      const ref = (t: FixtureTensor) => fixtureRef(t, c.dtype);
      try {
        g.eval();
        const [o, [h, cc]] = noGrad(() => (state === null ? g.forward(x) : g.forward(x, state)));
        expect([o.device, h.device, cc.device]).toEqual(['cuda:0', 'cuda:0', 'cuda:0']);
        const fails = [
          ...compareTensors('inference output', o, ref(c.output), tol), ...compareTensors('inference h_n', h, ref(c.h_n), tol),
          ...compareTensors('inference c_n', cc, ref(c.c_n), tol),
        ];
        g.train();
        const [oa, [ha, ca]] = await (state === null ? g.forwardAsync(x) : g.forwardAsync(x, state));
        fails.push(...compareTensors('forwardAsync output', oa, ref(c.output), tol), ...compareTensors('forwardAsync h_n', ha, ref(c.h_n), tol));
        fails.push(...compareTensors('forwardAsync c_n', ca, ref(c.c_n), tol));
        expect(fails).toEqual([]);
        for (const t of [o, h, cc, oa, ha, ca]) t.dispose();
      } finally {
        x.dispose();
        for (const t of state ?? []) t.dispose();
        g.dispose();
      }
    });

    test("backward from output, h_n and c_n one at a time accumulates to PyTorch's gradients on cuda", () => {
      // One root at a time: cuDNN's backward runs with two of dy, dhy, dcy absent.
      const { cpu, gpu: g } = pair(c);
      cpu.dispose();
      try {
        cr.tidy(() => {
          const x = noGrad(() => toTensor(c.input, c.dtype, 'cuda')).requiresGrad_();
          const h0 = c.h0 === null ? null : noGrad(() => toTensor(c.h0 as FixtureTensor, c.dtype, 'cuda')).requiresGrad_();
          const c0 = c.c0 === null ? null : noGrad(() => toTensor(c.c0 as FixtureTensor, c.dtype, 'cuda')).requiresGrad_();
          const run = () => (h0 === null || c0 === null ? g.forward(x) : g.forward(x, [h0, c0]));
          run()[0].backward(toTensor(c.grad_output, c.dtype, 'cuda'));
          run()[1][0].backward(toTensor(c.grad_h_n, c.dtype, 'cuda'));
          run()[1][1].backward(toTensor(c.grad_c_n, c.dtype, 'cuda'));
          const tol = GPU_TOL[c.dtype];
          const fails = compareTensors('input.grad', x.grad, fixtureRef(c.grad_input, c.dtype), tol);
          if (h0 !== null) fails.push(...compareTensors('h0.grad', h0.grad, fixtureRef(c.grad_h0 as FixtureTensor, c.dtype), tol));
          if (c0 !== null) fails.push(...compareTensors('c0.grad', c0.grad, fixtureRef(c.grad_c0 as FixtureTensor, c.dtype), tol));
          for (const [n, p] of g.namedParameters()) fails.push(...compareTensors(`${n}.grad`, p.grad, fixtureRef(c.grad_params[n], c.dtype), tol));
          expect(fails).toEqual([]);
        });
      } finally {
        g.dispose();
      }
    });
  });

  // ---------------------------------------------------------------------------
  interface Big {
    I: number;
    H: number;
    P: number;
    T: number;
    N: number;
    layers: number;
    bidirectional: boolean;
    bias: boolean;
    batchFirst: boolean;
    dtype: DT;
    h0: boolean;
    why: string;
  }
  const BIG: Big[] = [
    { I: 64, H: 256, P: 0, T: 35, N: 32, layers: 2, bidirectional: false, bias: true, batchFirst: false, dtype: 'float32', h0: true, why: 'typical training shape' },
    { I: 64, H: 256, P: 96, T: 35, N: 32, layers: 2, bidirectional: true, bias: true, batchFirst: true, dtype: 'float32', h0: true, why: 'projection, bidirectional' },
    { I: 32, H: 128, P: 0, T: 50, N: 1, layers: 1, bidirectional: false, bias: true, batchFirst: true, dtype: 'float32', h0: false, why: 'batch 1 (persistent kernels are eligible)' },
    { I: 40, H: 33, P: 17, T: 17, N: 7, layers: 3, bidirectional: true, bias: false, batchFirst: false, dtype: 'float64', h0: true, why: 'odd sizes, projection, no bias, 3 bidirectional layers' },
  ];
  const bigName = (b: Big) => `LSTM I${b.I} H${b.H} P${b.P} T${b.T} N${b.N} L${b.layers} ${b.bidirectional ? 'bidir' : 'unidir'} ${b.bias ? 'bias' : 'nobias'} ${b.batchFirst ? 'batch_first' : 'seq_first'} ${b.dtype} (${b.why})`;

  test.each(BIG.map((b) => [bigName(b), b] as [string, Big]))('larger: %s: GPU = CPU backend for outputs and every gradient', (_n, b) => {
    cr.manualSeed(2718);
    const opts = { numLayers: b.layers, bias: b.bias, batchFirst: b.batchFirst, bidirectional: b.bidirectional, projSize: b.P, dtype: b.dtype, device: 'cpu' };
    const cpu = new nn.LSTM(b.I, b.H, opts);
    const g = new nn.LSTM(b.I, b.H, opts);
    g.loadStateDict(cpu.stateDict());
    g.to('cuda');
    const D = b.bidirectional ? 2 : 1;
    const R = b.P > 0 ? b.P : b.H;
    try {
      cr.tidy(() => {
        const xShape = b.batchFirst ? [b.N, b.T, b.I] : [b.T, b.N, b.I];
        const outShape = b.batchFirst ? [b.N, b.T, D * R] : [b.T, b.N, D * R];
        const hShape = [D * b.layers, b.N, R];
        const cShape = [D * b.layers, b.N, b.H];
        const opt = { dtype: b.dtype, device: 'cpu' } as const;
        const xs = cr.randn(xShape, opt);
        const hs = cr.mul(cr.randn(hShape, opt), 0.5);
        const cs = cr.randn(cShape, opt);
        const gOut = cr.randn(outShape, opt);
        const gH = cr.randn(hShape, opt);
        const gC = cr.randn(cShape, opt);
        const run = (m: cr.nn.LSTM, device: string): Run => {
          const leaf = (t: Tensor) => noGrad(() => t.to(device).clone()).requiresGrad_();
          const x = leaf(xs);
          const h0 = b.h0 ? leaf(hs) : null;
          const c0 = b.h0 ? leaf(cs) : null;
          const [out, [hn, cn]] = h0 === null || c0 === null ? m.forward(x) : m.forward(x, [h0, c0]);
          cr.add(cr.add(cr.sum(cr.mul(out, gOut.to(device))), cr.sum(cr.mul(hn, gH.to(device)))), cr.sum(cr.mul(cn, gC.to(device)))).backward();
          return { out, hn, cn, x, h0, c0 };
        };
        const rc = run(cpu, 'cpu');
        const rg = run(g, 'cuda');
        const fails = devicesOf(rg, g);
        const cpuGrads = Object.fromEntries(cpu.namedParameters().map(([n, p]) => [n, p.grad]));
        fails.push(...compareRun('', rg, g, { out: rc.out, hn: rc.hn, cn: rc.cn, dx: rc.x.grad, dh0: rc.h0?.grad ?? null, dc0: rc.c0?.grad ?? null, dw: cpuGrads }, GPU_TOL[b.dtype]));
        expect(fails).toEqual([]);
      });
    } finally {
      cpu.dispose();
      g.dispose();
    }
  });

  // ---------------------------------------------------------------------------
  describe('parameters on cuda are the weights cuDNN runs with', () => {
    test('to("cuda") moves every parameter (weight_hr included); stateDict() reads them back bit for bit', () => {
      const c = fixture.cases.find((k) => k.proj_size > 0 && k.num_layers >= 2 && k.bidirectional && k.bias) as Case;
      const { cpu, gpu: g } = pair(c);
      try {
        const sd = g.stateDict();
        expect(Object.keys(sd)).toEqual(Object.keys(c.state_dict));
        for (const [k, t] of Object.entries(sd)) {
          expect([k, t.device, [...t.shape]]).toEqual([k, 'cuda:0', c.state_dict[k].shape]);
          const exp = c.dtype === 'float64' ? Float64Array.from(c.state_dict[k].data) : Float32Array.from(c.state_dict[k].data);
          expect([k, firstBitDifference(t.to('cpu').dataSync(), exp)]).toEqual([k, -1]);
        }
      } finally {
        cpu.dispose();
        g.dispose();
      }
    });

    test('an in-place edit of weight_hr and weight_hh on cuda changes the next forward exactly as on the CPU', () => {
      const c = fixture.cases.find((k) => k.proj_size > 0 && k.num_layers >= 2 && k.dtype === 'float64') as Case;
      const { cpu, gpu: g } = pair(c);
      try {
        cr.tidy(() => {
          for (const m of [cpu, g]) {
            noGrad(() => {
              m.getParameter('weight_hr_l1').mul_(-2);
              m.weight_hh_l0.select(1, 0).zero_();
            });
          }
          const [oc, [hc, cc]] = noGrad(() => cpu.forward(toTensor(c.input, c.dtype)));
          const [og, [hg, cg]] = noGrad(() => g.forward(toTensor(c.input, c.dtype, 'cuda')));
          const tol = GPU_TOL[c.dtype];
          expect([...compareTensors('output', og, oc, tol), ...compareTensors('h_n', hg, hc, tol), ...compareTensors('c_n', cg, cc, tol)]).toEqual([]);
        });
      } finally {
        cpu.dispose();
        g.dispose();
      }
    });
  });

  test('dropout on cuDNN acts between layers in training only (p = 1: the second layer sees zeros)', () => {
    cr.manualSeed(11);
    const m = new nn.LSTM(4, 6, { numLayers: 2, dropout: 1, device: 'cuda' });
    const x = cr.randn([5, 3, 4], { device: 'cuda' });
    try {
      cr.tidy(() => {
        const [o1] = m.forward(x);
        // Layer 1 saw only zeros: its output depends on its biases alone, the same for every batch row.
        const o = o1.to('cpu').dataSync();
        for (let i = 0; i < o.length; i += 18) expect(Array.from(o.subarray(i + 6, i + 12))).toEqual(Array.from(o.subarray(i, i + 6)));
        m.eval();
        const [o2] = noGrad(() => m.forward(x));
        expect(compareTensors('eval differs from p = 1 training', o2, o1, { abs: 1e-6 }).length).toBe(1);
      });
    } finally {
      x.dispose();
      m.dispose();
    }
  });
});
