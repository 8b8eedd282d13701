// GPU suite: nn.RNN / nn.GRU on cuDNN against the CPU backend and PyTorch.
//
// 1. The whole conformance grid of test/fixtures/rnn.json (made by
//    test/fixtures/gen_rnn.py with PyTorch 1.13): the same weights loaded on
//    both backends; output, h_n and the gradients of input, h0 and every
//    parameter, compared GPU vs CPU backend and GPU vs the fixture's PyTorch
//    values. Tolerances as the issue sets them: float64 5e-5 absolute
//    (PyTorch's own cuDNN test tolerance), float32 1e-4 relative
//    (|gpu - ref| <= 1e-4 * max(1, |ref|)).
// 2. Larger sizes than the grid (where cuDNN picks other algorithms).
// 3. Parameters are the weights cuDNN uses; optimizer steps; device checks.
// 4. Dropout on cuDNN (PyTorch's test_RNN_dropout & co. on 'cuda').
// 5. TF32 is opt-in: with it off (the default) float32 on the GPU matches the CPU to ~1e-5.
//
// Skipped, with the reason printed, where 'cuda' is not usable.
import * as fs from 'fs';
import * as path from 'path';

import * as cr from '../lib';
import type { Tensor } from '../lib';
import { gradcheck, prng, randomInput } from './helpers/gradcheck';
import { allOnesRelu, checkAllOnesDropout, minMax } from './helpers/dropout-check';
import { toTensor } from './helpers/rnn-fixture';
import type { ConformanceCase, DT, FixtureTensor, Mode } from './helpers/rnn-fixture';
import { compareTensors, firstBitDifference, gpu, gpuDescribe, Tol } from './gpu/common';

const { nn, noGrad } = cr;

type Case = ConformanceCase;

const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'rnn.json'), 'utf8')) as { cases: Case[] };

/** The GPU tolerances. */
const GPU_TOL: Record<DT, Tol> = { float64: { abs: 5e-5 }, float32: { rel: 1e-4 } };

const onGpu = gpuDescribe('cuda-gpu-rnn');

function fixtureRef(t: FixtureTensor, dtype: DT): { shape: number[]; data: ArrayLike<number>; dtype: DT } {
  return { shape: t.shape, data: dtype === 'float64' ? Float64Array.from(t.data) : Float32Array.from(t.data), dtype };
}

function build(c: Case): cr.nn.RNNBase {
  const opts = { numLayers: c.num_layers, bias: c.bias, batchFirst: c.batch_first, bidirectional: c.bidirectional, dtype: c.dtype, device: 'cpu' };
  if (c.mode === 'GRU') return new nn.GRU(c.input_size, c.hidden_size, opts);
  return new nn.RNN(c.input_size, c.hidden_size, { ...opts, nonlinearity: c.mode === 'RNN_TANH' ? 'tanh' : 'relu' });
}

/** A module with the fixture's weights on the CPU, and a copy moved to cuda. */
function pair(c: Case): { cpu: cr.nn.RNNBase; gpu: cr.nn.RNNBase } {
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
  x: Tensor;
  h0: Tensor | null;
}

/** Forward + backward of L = <out, gOut> + <h_n, gH> on `device`, inputs as leaves there. */
function trainRun(rnn: cr.nn.RNNBase, c: Case, device: string): Run {
  const x = noGrad(() => toTensor(c.input, c.dtype).to(device)).requiresGrad_();
  const h0 = c.h0 === null ? null : noGrad(() => toTensor(c.h0 as FixtureTensor, c.dtype).to(device)).requiresGrad_();
  const [out, hn] = h0 === null ? rnn.forward(x) : rnn.forward(x, h0);
  const gOut = toTensor(c.grad_output, c.dtype, device);
  const gH = toTensor(c.grad_h_n, c.dtype, device);
  cr.add(cr.sum(cr.mul(out, gOut)), cr.sum(cr.mul(hn, gH))).backward();
  return { out, hn, x, h0 };
}

/** Failures of `g` (a GPU run) against `ref` (a CPU run or the fixture). */
function compareRun(label: string, g: Run, rnn: cr.nn.RNNBase, ref: { out: unknown; hn: unknown; dx: unknown; dh0: unknown; dw: Record<string, unknown> }, tol: Tol): string[] {
  type Ref = Parameters<typeof compareTensors>[2];
  const fails: string[] = [];
  fails.push(...compareTensors(`${label} output`, g.out, ref.out as Ref, tol));
  fails.push(...compareTensors(`${label} h_n`, g.hn, ref.hn as Ref, tol));
  fails.push(...compareTensors(`${label} input.grad`, g.x.grad, ref.dx as Ref, tol));
  if (g.h0 !== null) fails.push(...compareTensors(`${label} h0.grad`, g.h0.grad, ref.dh0 as Ref, tol));
  for (const [name, p] of rnn.namedParameters()) fails.push(...compareTensors(`${label} ${name}.grad`, p.grad, ref.dw[name] as Ref, tol));
  return fails;
}

function devicesOf(run: Run, rnn: cr.nn.RNNBase): string[] {
  const bad: string[] = [];
  const check = (what: string, t: Tensor | null) => {
    if (t !== null && t.device !== 'cuda:0') bad.push(`${what} on ${t.device}`);
  };
  check('output', run.out);
  check('h_n', run.hn);
  check('input.grad', run.x.grad);
  if (run.h0 !== null) check('h0.grad', run.h0.grad);
  for (const [n, p] of rnn.namedParameters()) {
    check(n, p);
    check(`${n}.grad`, p.grad);
  }
  return bad;
}

onGpu('nn.RNN / nn.GRU on cuDNN (cuda-gpu-rnn)', () => {
  beforeAll(() => {
    cr.setDefaultDevice('cpu');
  });

  describe.each(fixture.cases.map((c) => [c.name, c] as [string, Case]))('grid %s', (_name, c) => {
    test('training forward + backward on cuda = the CPU backend and PyTorch (output, h_n, grads of input, h0, every parameter)', () => {
      const before = cr.memory().numTensors;
      const { cpu, gpu: g } = pair(c);
      try {
        cr.tidy(() => {
          expect(g.device).toBe('cuda:0');
          const rc = trainRun(cpu, c, 'cpu');
          const rg = trainRun(g, c, 'cuda');
          const fails = devicesOf(rg, g);
          const cpuGrads = Object.fromEntries(cpu.namedParameters().map(([n, p]) => [n, p.grad]));
          fails.push(...compareRun('vs CPU:', rg, g, { out: rc.out, hn: rc.hn, dx: rc.x.grad, dh0: rc.h0?.grad ?? null, dw: cpuGrads }, GPU_TOL[c.dtype]));
          const fx = (t: FixtureTensor) => fixtureRef(t, c.dtype);
          const torchGrads = Object.fromEntries(Object.entries(c.grad_params).map(([n, t]) => [n, fx(t)]));
          fails.push(...compareRun('vs torch:', rg, g, {
            out: fx(c.output), hn: fx(c.h_n), dx: fx(c.grad_input), dh0: c.grad_h0 === null ? null : fx(c.grad_h0), dw: torchGrads,
          }, GPU_TOL[c.dtype]));
          expect(fails).toEqual([]);
        });
      } finally {
        cpu.dispose();
        g.dispose();
      }
      expect(cr.memory().numTensors).toBe(before);
    });

    test('inference (eval + noGrad) and forwardAsync on cuda = the CPU backend and PyTorch', async () => {
      const { cpu, gpu: g } = pair(c);
      const x = toTensor(c.input, c.dtype, 'cuda');
      const h0 = c.h0 === null ? null : toTensor(c.h0, c.dtype, 'cuda');
      const xc = toTensor(c.input, c.dtype);
      const h0c = c.h0 === null ? null : toTensor(c.h0, c.dtype);
      try {
        g.eval();
        cpu.eval();
        const [o, h] = noGrad(() => (h0 === null ? g.forward(x) : g.forward(x, h0)));
        const [oc, hc] = noGrad(() => (h0c === null ? cpu.forward(xc) : cpu.forward(xc, h0c)));
        expect(o.requiresGrad).toBe(false);
        expect([o.device, h.device]).toEqual(['cuda:0', 'cuda:0']);
        const fails = [
          ...compareTensors('inference output vs CPU', o, oc, GPU_TOL[c.dtype]),
          ...compareTensors('inference h_n vs CPU', h, hc, GPU_TOL[c.dtype]),
          ...compareTensors('inference output vs torch', o, fixtureRef(c.output, c.dtype), GPU_TOL[c.dtype]),
          ...compareTensors('inference h_n vs torch', h, fixtureRef(c.h_n, c.dtype), GPU_TOL[c.dtype]),
        ];
        g.train();
        const [oa, ha] = await (h0 === null ? g.forwardAsync(x) : g.forwardAsync(x, h0));
        expect(oa.device).toBe('cuda:0');
        fails.push(...compareTensors('forwardAsync output vs CPU', oa, oc, GPU_TOL[c.dtype]));
        fails.push(...compareTensors('forwardAsync h_n vs CPU', ha, hc, GPU_TOL[c.dtype]));
        expect(fails).toEqual([]);
        for (const t of [o, h, oc, hc, oa, ha]) t.dispose();
      } finally {
        for (const t of [x, h0, xc, h0c]) t?.dispose();
        cpu.dispose();
        g.dispose();
      }
    });

    test("backward from output alone, then from h_n alone, accumulates to PyTorch's gradients on cuda", () => {
      // One root at a time: cuDNN's backward then runs with dh_n absent, then with dy absent.
      const { cpu, gpu: g } = pair(c);
      cpu.dispose();
      try {
        cr.tidy(() => {
          const x = noGrad(() => toTensor(c.input, c.dtype, 'cuda')).requiresGrad_();
          const h0 = c.h0 === null ? null : noGrad(() => toTensor(c.h0 as FixtureTensor, c.dtype, 'cuda')).requiresGrad_();
          const [out1] = h0 === null ? g.forward(x) : g.forward(x, h0);
          out1.backward(toTensor(c.grad_output, c.dtype, 'cuda'));
          const [, hn2] = h0 === null ? g.forward(x) : g.forward(x, h0);
          hn2.backward(toTensor(c.grad_h_n, c.dtype, 'cuda'));
          const tol = GPU_TOL[c.dtype];
          const fails = compareTensors('input.grad', x.grad, fixtureRef(c.grad_input, c.dtype), tol);
          if (h0 !== null) fails.push(...compareTensors('h0.grad', h0.grad, fixtureRef(c.grad_h0 as FixtureTensor, c.dtype), tol));
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
    mode: Mode;
    I: number;
    H: number;
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
    { mode: 'GRU', I: 64, H: 256, T: 35, N: 32, layers: 2, bidirectional: false, bias: true, batchFirst: false, dtype: 'float32', h0: true, why: 'typical training shape' },
    { mode: 'GRU', I: 32, H: 128, T: 50, N: 1, layers: 1, bidirectional: false, bias: true, batchFirst: true, dtype: 'float32', h0: false, why: 'batch 1 (persistent kernels are eligible)' },
    { mode: 'RNN_TANH', I: 40, H: 33, T: 17, N: 7, layers: 3, bidirectional: true, bias: false, batchFirst: false, dtype: 'float64', h0: true, why: 'odd sizes, no bias, 3 bidirectional layers' },
    { mode: 'RNN_RELU', I: 24, H: 96, T: 20, N: 16, layers: 2, bidirectional: true, bias: true, batchFirst: true, dtype: 'float64', h0: true, why: 'relu, bidirectional, batch_first' },
    { mode: 'GRU', I: 128, H: 64, T: 200, N: 4, layers: 1, bidirectional: true, bias: true, batchFirst: false, dtype: 'float32', h0: true, why: 'long sequence' },
  ];
  const bigName = (b: Big) => `${b.mode} I${b.I} H${b.H} T${b.T} N${b.N} L${b.layers} ${b.bidirectional ? 'bidir' : 'unidir'} ${b.bias ? 'bias' : 'nobias'} ${b.batchFirst ? 'batch_first' : 'seq_first'} ${b.dtype} (${b.why})`;

  test.each(BIG.map((b) => [bigName(b), b] as [string, Big]))('larger: %s: GPU = CPU backend for outputs and every gradient', (_n, b) => {
    cr.manualSeed(2718);
    const opts = { numLayers: b.layers, bias: b.bias, batchFirst: b.batchFirst, bidirectional: b.bidirectional, dtype: b.dtype, device: 'cpu' };
    const make = () => (b.mode === 'GRU' ? new nn.GRU(b.I, b.H, opts) : new nn.RNN(b.I, b.H, { ...opts, nonlinearity: b.mode === 'RNN_TANH' ? 'tanh' : 'relu' }));
    const cpu = make();
    const g = make();
    g.loadStateDict(cpu.stateDict());
    g.to('cuda');
    const D = b.bidirectional ? 2 : 1;
    try {
      cr.tidy(() => {
        const xShape = b.batchFirst ? [b.N, b.T, b.I] : [b.T, b.N, b.I];
        const outShape = b.batchFirst ? [b.N, b.T, D * b.H] : [b.T, b.N, D * b.H];
        const hShape = [D * b.layers, b.N, b.H];
        const xs = cr.randn(xShape, { dtype: b.dtype, device: 'cpu' });
        const hs = cr.mul(cr.randn(hShape, { dtype: b.dtype, device: 'cpu' }), 0.5);
        const gOut = cr.randn(outShape, { dtype: b.dtype, device: 'cpu' });
        const gH = cr.randn(hShape, { dtype: b.dtype, device: 'cpu' });
        const run = (m: cr.nn.RNNBase, device: string) => {
          const x = noGrad(() => xs.to(device).clone()).requiresGrad_();
          const h0 = b.h0 ? noGrad(() => hs.to(device).clone()).requiresGrad_() : null;
          const [out, hn] = h0 === null ? m.forward(x) : m.forward(x, h0);
          cr.add(cr.sum(cr.mul(out, gOut.to(device))), cr.sum(cr.mul(hn, gH.to(device)))).backward();
          return { out, hn, x, h0 };
        };
        const rc = run(cpu, 'cpu');
        const rg = run(g, 'cuda');
        const fails = devicesOf(rg, g);
        const cpuGrads = Object.fromEntries(cpu.namedParameters().map(([n, p]) => [n, p.grad]));
        fails.push(...compareRun('', rg, g, { out: rc.out, hn: rc.hn, dx: rc.x.grad, dh0: rc.h0?.grad ?? null, dw: cpuGrads }, GPU_TOL[b.dtype]));
        expect(fails).toEqual([]);
      });
    } finally {
      cpu.dispose();
      g.dispose();
    }
  });

  test('float64 RNN on cuda passes finite-difference gradcheck (input and h0)', () => {
    cr.setDefaultDevice('cuda'); // gradcheck's helper tensors follow the default device
    try {
      cr.manualSeed(5);
      const gru = new nn.GRU(3, 4, { numLayers: 2, bidirectional: true, dtype: 'float64', device: 'cuda' });
      const rnn = new nn.RNN(3, 4, { numLayers: 2, nonlinearity: 'tanh', batchFirst: true, dtype: 'float64', device: 'cuda' });
      const rng = prng(77);
      const x = randomInput(rng, [4, 2, 3]).to('cuda');
      const h = randomInput(rng, [4, 2, 4], (v) => 0.5 * v).to('cuda');
      const xd = noGrad(() => x.detach()).requiresGrad_();
      const hd = noGrad(() => h.detach()).requiresGrad_();
      expect(xd.device).toBe('cuda:0');
      expect(gradcheck((a, b) => gru.forward(a, b), [xd, hd], { atol: 1e-6, rtol: 1e-5 })).toBe(4 * 2 * 3 + 4 * 2 * 4);
      const xb = noGrad(() => randomInput(rng, [2, 5, 3]).to('cuda').detach()).requiresGrad_();
      expect(gradcheck((a) => rnn.forward(a), [xb], { atol: 1e-6, rtol: 1e-5 })).toBe(2 * 5 * 3);
      gru.dispose();
      rnn.dispose();
    } finally {
      cr.setDefaultDevice('cpu');
    }
  });

  // ---------------------------------------------------------------------------
  describe("parameters on cuda are the weights cuDNN runs with", () => {
    test('module.to("cuda") moves every parameter; stateDict() reads them back bit for bit; to("cpu") returns', () => {
      const c = fixture.cases.find((k) => k.num_layers === 3 && k.bidirectional && k.bias) as Case;
      const { cpu, gpu: g } = pair(c);
      try {
        const sd = g.stateDict();
        expect(Object.keys(sd)).toEqual(Object.keys(c.state_dict));
        for (const [k, t] of Object.entries(sd)) {
          expect([k, t.device]).toEqual([k, 'cuda:0']);
          const exp = c.dtype === 'float64' ? Float64Array.from(c.state_dict[k].data) : Float32Array.from(c.state_dict[k].data);
          expect([k, firstBitDifference(t.to('cpu').dataSync(), exp)]).toEqual([k, -1]);
        }
        g.to('cpu');
        expect(g.device).toBe('cpu');
        for (const [k, t] of Object.entries(g.stateDict())) expect([k, t.device]).toEqual([k, 'cpu']);
      } finally {
        cpu.dispose();
        g.dispose();
      }
    });

    test('an in-place edit of one cuda parameter changes the next forward exactly as on the CPU', () => {
      const c = fixture.cases.find((k) => k.mode === 'GRU' && k.num_layers >= 2 && k.bias && k.dtype === 'float64') as Case;
      const { cpu, gpu: g } = pair(c);
      try {
        cr.tidy(() => {
          const before = noGrad(() => g.forward(toTensor(c.input, c.dtype, 'cuda'))[0].to('cpu'));
          for (const m of [cpu, g]) {
            noGrad(() => {
              const p = Object.fromEntries(m.namedParameters());
              p.weight_hh_l1.mul_(-2);
              p.bias_ih_l0.fill_(0.3);
              p.weight_ih_l0.select(1, 0).zero_(); // through a non-contiguous view of the parameter
            });
          }
          const [oc] = noGrad(() => cpu.forward(toTensor(c.input, c.dtype)));
          const [og] = noGrad(() => g.forward(toTensor(c.input, c.dtype, 'cuda')));
          expect(compareTensors('output after the edit', og, oc, GPU_TOL[c.dtype])).toEqual([]);
          // And it did change: the edit is not a no-op.
          expect(compareTensors('unchanged?', before, oc, { abs: 1e-3 }).length).toBe(1);
        });
      } finally {
        cpu.dispose();
        g.dispose();
      }
    });

    test('three SGD (momentum) steps on cuda give the CPU backend\'s parameters', () => {
      const c = fixture.cases.find((k) => k.mode === 'GRU' && k.bidirectional && k.num_layers >= 2 && k.dtype === 'float64') as Case;
      const { cpu, gpu: g } = pair(c);
      const optC = new cr.optim.SGD(cpu.parameters(), { lr: 0.1, momentum: 0.9 });
      const optG = new cr.optim.SGD(g.parameters(), { lr: 0.1, momentum: 0.9 });
      try {
        for (let step = 0; step < 3; ++step) {
          for (const [m, opt, device] of [[cpu, optC, 'cpu'], [g, optG, 'cuda']] as const) {
            cr.tidy(() => {
              opt.zeroGrad();
              trainRun(m, c, device);
              opt.step();
            });
          }
        }
        const ref = Object.fromEntries(cpu.namedParameters());
        const fails: string[] = [];
        for (const [n, p] of g.namedParameters()) {
          if (p.device !== 'cuda:0') fails.push(`${n} on ${p.device}`);
          fails.push(...compareTensors(n, p, ref[n], GPU_TOL[c.dtype]));
        }
        // The parameters moved (the steps did something).
        const first = g.namedParameters()[0];
        fails.push(...(compareTensors('moved?', first[1], fixtureRef(c.state_dict[first[0]], c.dtype), { abs: 1e-6 }).length === 1 ? [] : ['parameters did not move']));
        expect(fails).toEqual([]);
      } finally {
        optC.dispose();
        optG.dispose();
        cpu.dispose();
        g.dispose();
      }
    });

    test('inputs on the wrong device are refused with ERR_CUDNN_RNN_DEVICE_MISMATCH, and the module stays usable', () => {
      const g = new nn.GRU(3, 4, { numLayers: 2, device: 'cuda' });
      expect(g.device).toBe('cuda:0');
      const xc = cr.randn([5, 2, 3], { device: 'cpu' });
      const xg = xc.to('cuda');
      const hc = cr.zeros([2, 2, 4], { device: 'cpu' });
      try {
        expect(() => g.forward(xc)).toThrow(expect.objectContaining({ code: 'ERR_CUDNN_RNN_DEVICE_MISMATCH', message: expect.stringContaining('cuda:0') }));
        expect(() => g.forward(xg, hc)).toThrow(expect.objectContaining({ code: 'ERR_CUDNN_RNN_DEVICE_MISMATCH' }));
        const [o, h] = g.forward(xg);
        expect([o.device, [...o.shape], h.device, [...h.shape]]).toEqual(['cuda:0', [5, 2, 4], 'cuda:0', [2, 2, 4]]);
        // An upstream gradient on the CPU never reaches cuDNN as a host pointer.
        const gc = cr.onesLike(o, { device: 'cpu' });
        expect(() => o.backward(gc)).toThrow(expect.objectContaining({
          code: 'ERR_CUDNN_RNN_DEVICE_MISMATCH', message: 'backward: invalid gradient at index 0 - expected device cuda:0 but got cpu' }));
        const gg = cr.onesLike(o);
        o.backward(gg);
        expect(g.getParameter('weight_hh_l1').grad?.device).toBe('cuda:0');
        gc.dispose();
        gg.dispose();
        o.dispose();
        h.dispose();
      } finally {
        for (const t of [xc, xg, hc]) t.dispose();
        g.dispose();
      }
    });

    test('concurrent forwardAsync calls on cuda agree with sequential runs', async () => {
      cr.manualSeed(77);
      const mods = [
        new nn.GRU(24, 80, { numLayers: 2, dtype: 'float64', device: 'cuda' }),
        new nn.RNN(12, 96, { numLayers: 2, bidirectional: true, nonlinearity: 'relu', dtype: 'float64', device: 'cuda' }),
        new nn.GRU(16, 64, { bidirectional: true, device: 'cuda' }),
      ];
      const xs = [cr.randn([6, 8, 24], { dtype: 'float64', device: 'cuda' }), cr.randn([4, 8, 12], { dtype: 'float64', device: 'cuda' }), cr.randn([5, 6, 16], { device: 'cuda' })];
      try {
        const seq = mods.map((m, i) => noGrad(() => m.forward(xs[i])));
        const pending = mods.map((m, i) => noGrad(() => m.forwardAsync(xs[i])));
        const mid = noGrad(() => mods[0].forward(xs[0]));
        const results = await Promise.all(pending);
        const fails: string[] = [];
        results.forEach(([o, h], i) => {
          fails.push(...compareTensors(`module ${i} output`, o, seq[i][0], { abs: 0 }));
          fails.push(...compareTensors(`module ${i} h_n`, h, seq[i][1], { abs: 0 }));
        });
        fails.push(...compareTensors('sync forward during async', mid[0], seq[0][0], { abs: 0 }));
        expect(fails).toEqual([]);
        for (const r of [...seq, ...results, mid]) r.forEach((t) => t.dispose());
      } finally {
        mods.forEach((m) => m.dispose());
        xs.forEach((t) => t.dispose());
      }
    });
  });

  // ---------------------------------------------------------------------------
  describe('dropout on cuDNN (test_RNN_dropout, test_RNN_dropout_state on cuda)', () => {
    test.each([[0], [0.276], [0.731], [1]])('2-layer all-ones relu RNN(10, 1000) on cuda, p=%p: the next layer sees the dropped, rescaled output; h_n never dropped', (p) => {
      checkAllOnesDropout(p, 'cuda');
    });

    test('3 layers, p=1: every inner layer output dropped, the last layer and every h_n never', () => cr.tidy(() => {
      const rnn = allOnesRelu(100, 3, 1, false, 'cuda');
      const [o, hy] = rnn.forward(cr.ones([1, 1, 10], { device: 'cuda' }));
      expect(minMax(o.dataSync())).toEqual([0, 0]);
      const hh = hy.dataSync();
      expect(minMax(hh.subarray(0, 100))).toEqual([10, 10]);
      expect(minMax(hh.subarray(100))).toEqual([0, 0]);
      rnn.dispose();
    }));

    test('bidirectional: one mask over the concatenated layer output (both directions of the next layer agree)', () => cr.tidy(() => {
      const rnn = allOnesRelu(100, 2, 0.5, true, 'cuda');
      const [out] = rnn.forward(cr.ones([1, 1, 10], { device: 'cuda' }));
      const [lo, hi] = minMax(out.dataSync());
      expect(lo).toBe(hi);
      const kept = lo / 20;
      expect(Math.abs(kept - Math.round(kept))).toBeLessThan(1e-3);
      expect(kept).toBeGreaterThan(50);
      expect(kept).toBeLessThan(150);
      rnn.dispose();
    }));

    test('p=0 in training and any p in eval are deterministic and equal each other; training under noGrad still drops', () => cr.tidy(() => {
      cr.manualSeed(11);
      const rnn = new nn.RNN(100, 100, { numLayers: 2, bias: false, dropout: 0, nonlinearity: 'relu', device: 'cuda' });
      const input = cr.rand([3, 2, 100], { device: 'cuda' });
      const hx = cr.rand([2, 2, 100], { device: 'cuda' });
      const [a1, ah1] = rnn.forward(input, hx);
      const [a2, ah2] = rnn.forward(input, hx);
      expect(firstBitDifference(a1.dataSync(), a2.dataSync())).toBe(-1);
      expect(firstBitDifference(ah1.dataSync(), ah2.dataSync())).toBe(-1);
      rnn.dropout = 0.5;
      rnn.eval();
      const [e1] = rnn.forward(input, hx);
      const [e2] = noGrad(() => rnn.forward(input, hx));
      expect(firstBitDifference(e1.dataSync(), e2.dataSync())).toBe(-1);
      expect(firstBitDifference(e1.dataSync(), a1.dataSync())).toBe(-1);
      rnn.train();
      rnn.dropout = 1;
      const [z] = noGrad(() => rnn.forward(input, cr.zeros([2, 2, 100], { device: 'cuda' })));
      // Layer 1 sees zeros: relu(0 * W + W_hh * 0) = 0 everywhere.
      expect(minMax(z.dataSync())).toEqual([0, 0]);
      rnn.dispose();
    }));

    test('manualSeed(s) twice gives identical training outputs; masks differ otherwise; layer 0 h_n never dropped', () => cr.tidy(() => {
      const rnn = new nn.GRU(50, 200, { numLayers: 3, dropout: 0.4, device: 'cuda' });
      const input = cr.randn([7, 4, 50], { device: 'cuda' });
      const run = (): [Float32Array, Float32Array] => cr.tidy(() => {
        const [o, h] = rnn.forward(input);
        return [o.dataSync() as Float32Array, h.dataSync() as Float32Array];
      });
      cr.manualSeed(1234);
      const [o1, h1] = run();
      const [o2, h2] = run(); // the generator moved on: other masks
      cr.manualSeed(1234);
      const [o3, h3] = run();
      cr.manualSeed(4321);
      const [o4] = run();
      expect(firstBitDifference(o1, o3)).toBe(-1);
      expect(firstBitDifference(h1, h3)).toBe(-1);
      expect(firstBitDifference(o1, o2)).not.toBe(-1);
      expect(firstBitDifference(o1, o4)).not.toBe(-1);
      // h_n[0] (layer 0's final state) does not depend on any mask.
      const layer0 = 4 * 200;
      expect(firstBitDifference(h1.subarray(0, layer0), h2.subarray(0, layer0))).toBe(-1);
      expect(firstBitDifference(h1.subarray(layer0), h2.subarray(layer0))).not.toBe(-1);
      rnn.dispose();
    }));

    test("backward uses the forward's mask: weight_ih_l1.grad has columns 0 or 10/(1-p) exactly where the output counted them", () => cr.tidy(() => {
      // All-ones relu, T = N = 1: out_k = sum_j W1[k, j] * m_j * 10 with m_j in {0, 1/(1-p)},
      // so d sum(out) / d W1[k, j] = 10 * m_j for every row k.
      const rnn = allOnesRelu(100, 2, 0.5, false, 'cuda');
      const [out] = rnn.forward(cr.ones([1, 1, 10], { device: 'cuda' }));
      cr.sum(out).backward();
      const g = Object.fromEntries(rnn.namedParameters()).weight_ih_l1.grad as Tensor;
      expect(g.device).toBe('cuda:0');
      const gv = g.dataSync();
      const row0 = Array.from(gv.subarray(0, 100));
      expect(row0.filter((v) => !(v === 0 || Math.abs(v - 20) < 1e-4))).toEqual([]);
      for (let k = 1; k < 100; ++k) expect(firstBitDifference(gv.subarray(k * 100, k * 100 + 100), gv.subarray(0, 100))).toBe(-1);
      const keptByGrad = row0.filter((v) => v !== 0).length;
      expect(keptByGrad).toBe(Math.round(out.dataSync()[0] / 20));
      rnn.dispose();
    }));
  });

  // ---------------------------------------------------------------------------
  // TF32 is opt-in (DESIGN.md decision 5): cuDNN float32 runs with FMA math,
  // so GPU and CPU agree to ~1e-5; cuda.setAllowTF32(true) trades that for
  // speed on Ampere and newer (TF32 keeps 10 mantissa bits: ~1e-3 relative).
  test('TF32 is off by default: float32 GRU and matmul on the GPU match the CPU to ~1e-5; turning it on and off again takes effect', () => {
    expect(gpu.getAllowTF32()).toBe(false);
    cr.manualSeed(99);
    const cpu = new nn.GRU(256, 512, { numLayers: 2, device: 'cpu' });
    const g = new nn.GRU(256, 512, { numLayers: 2, device: 'cpu' });
    g.loadStateDict(cpu.stateDict());
    g.to('cuda');
    const x = cr.randn([32, 32, 256], { device: 'cpu' });
    const a = cr.randn([512, 512], { device: 'cpu' });
    const b = cr.randn([512, 512], { device: 'cpu' });
    try {
      cr.tidy(() => {
        const [oc, hc] = noGrad(() => cpu.forward(x));
        const mc = cr.matmul(a, b);
        const gpuRun = () => noGrad(() => {
          const [o, h] = g.forward(x.to('cuda'));
          return { o, h, m: cr.matmul(a.to('cuda'), b.to('cuda')) };
        });
        const check = (label: string, r: { o: Tensor; h: Tensor; m: Tensor }, tol: Tol, matmulTol: Tol) => [
          ...compareTensors(`${label} GRU output`, r.o, oc, tol),
          ...compareTensors(`${label} GRU h_n`, r.h, hc, tol),
          ...compareTensors(`${label} matmul 512^3`, r.m, mc, matmulTol),
        ];
        // The GRU's float32 rounding vs float64 is ~2e-7 here, so 1e-5 leaves room for
        // both backends yet fails with TF32 (~1e-4 and more). The 512-term dot products
        // of the matmul (|entries| ~ 22) round to ~5e-5 in float32 on any device and to
        // ~3e-2 with TF32's 10-bit mantissa: 5e-4 absolute separates the two.
        const off = { gru: { rel: 1e-5 }, mm: { abs: 5e-4 } };
        const fails = check('TF32 off:', gpuRun(), off.gru, off.mm);
        try {
          gpu.setAllowTF32(true);
          expect(gpu.getAllowTF32()).toBe(true);
          fails.push(...check('TF32 on (still close):', gpuRun(), { rel: 1e-2 }, { abs: 0.5 }));
        } finally {
          gpu.setAllowTF32(false);
        }
        expect(gpu.getAllowTF32()).toBe(false);
        fails.push(...check('TF32 off again:', gpuRun(), off.gru, off.mm));
        expect(fails).toEqual([]);
      });
    } finally {
      for (const t of [x, a, b]) t.dispose();
      cpu.dispose();
      g.dispose();
    }
  });
});
