// GPU suite: nn.RNNCell / nn.GRUCell / nn.LSTMCell on 'cuda' (cuBLAS products
// + the fused .cu gate kernels of src/cuda/runtime/cell_step.cu) against the
// CPU backend and PyTorch.
//
// 1. The whole grid of test/fixtures/cells.json (test/fixtures/gen_cells.py,
//    PyTorch 1.13): h', c' and the gradients of input, hx, cx and every
//    parameter, GPU vs the fixture and GPU vs the CPU backend. Tolerances
//    as the RNN GPU suite's: float64 5e-5 absolute, float32 1e-4 relative.
// 2. Sizes large enough for several blocks per kernel and real cuBLAS shapes.
// 3. float64 finite-difference gradcheck on the GPU; device checks.
//
// Skipped, with the reason printed, where 'cuda' is not usable.
import * as fs from 'fs';
import * as path from 'path';

import * as cr from '../lib';
import type { Tensor } from '../lib';
import type { CellMode } from '../lib/ops/cell';
import { decodeValues, Encoded, makeTensor } from './helpers/fixtures';
import { gradcheck, prng, randomInput } from './helpers/gradcheck';
import { compareTensors, gpuDescribe, Tol } from './gpu/common';

const { nn, noGrad } = cr;

type DT = 'float32' | 'float64';
type AnyCell = cr.nn.RNNCell | cr.nn.GRUCell | cr.nn.LSTMCell;

interface CellCase {
  name: string;
  mode: CellMode;
  bias: boolean;
  dtype: DT;
  input_size: number;
  hidden_size: number;
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

const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'cells.json'), 'utf8')) as { cases: CellCase[] };

const GPU_TOL: Record<DT, Tol> = { float64: { abs: 5e-5 }, float32: { rel: 1e-4 } };

const onGpu = gpuDescribe('cuda-gpu-cells');

function build(mode: CellMode, inputSize: number, hiddenSize: number, options: { bias?: boolean; dtype?: DT; device?: string }): AnyCell {
  if (mode === 'GRU') return new nn.GRUCell(inputSize, hiddenSize, options);
  if (mode === 'LSTM') return new nn.LSTMCell(inputSize, hiddenSize, options);
  return new nn.RNNCell(inputSize, hiddenSize, { ...options, nonlinearity: mode === 'RNN_TANH' ? 'tanh' : 'relu' });
}

function run(cell: AnyCell, x: Tensor, h: Tensor | null, c: Tensor | null): [Tensor, Tensor | null] {
  if (cell instanceof nn.LSTMCell) return h === null ? cell.forward(x) : cell.forward(x, [h, c as Tensor]);
  return [h === null ? cell.forward(x) : cell.forward(x, h), null];
}

function ref(e: Encoded): { shape: number[]; data: number[]; dtype: string } {
  return { shape: e.shape, data: decodeValues(e), dtype: e.dtype };
}

/** A leaf on `device` with the fixture's values. */
function leafOn(e: Encoded | null, device: string): Tensor | null {
  if (e === null) return null;
  return noGrad(() => makeTensor(e).to(device)).requiresGrad_();
}

interface Result {
  h: Tensor;
  c: Tensor | null;
  grads: Record<string, Tensor | null>;
}

/** Forward + backward of <h', gH> + <c', gC> with the fixture's weights on `device`. */
function trainStep(c: CellCase, device: string): Result {
  const cell = build(c.mode, c.input_size, c.hidden_size, { bias: c.bias, dtype: c.dtype });
  const sd: Record<string, Tensor> = {};
  for (const [k, v] of Object.entries(c.state_dict)) sd[k] = makeTensor(v);
  cell.loadStateDict(sd);
  cell.to(device);
  const x = leafOn(c.input, device) as Tensor;
  const hx = leafOn(c.hx, device);
  const cx = leafOn(c.cx, device);
  const [h, cy] = run(cell, x, hx, cx);
  expect(h.device).toBe(device === 'cpu' ? 'cpu' : 'cuda:0');
  let loss = cr.sum(cr.mul(h, makeTensor(c.grad_h).to(device)));
  if (cy !== null) loss = cr.add(loss, cr.sum(cr.mul(cy, makeTensor(c.grad_c as Encoded).to(device))));
  loss.backward();
  const grads: Record<string, Tensor | null> = { input: x.grad, hx: hx?.grad ?? null, cx: cx?.grad ?? null };
  for (const [name, p] of cell.namedParameters()) grads[name] = p.grad;
  return { h, c: cy, grads };
}

onGpu('cells on cuda', () => {
  describe.each(fixture.cases.map((c) => [c.name, c] as [string, CellCase]))('%s', (_n, c) => {
    test('h\', c\' and every gradient match torch and the CPU backend', () => {
      cr.tidy(() => {
        const g = trainStep(c, 'cuda');
        const cpu = trainStep(c, 'cpu');
        const tol = GPU_TOL[c.dtype];
        const fails = [...compareTensors('h\' vs torch', g.h, ref(c.h), tol), ...compareTensors('h\' vs cpu', g.h, cpu.h, tol)];
        if (c.c !== null) fails.push(...compareTensors('c\' vs torch', g.c, ref(c.c), tol));
        fails.push(...compareTensors('input.grad vs torch', g.grads.input, ref(c.grad_input), tol));
        if (c.grad_hx !== null) fails.push(...compareTensors('hx.grad vs torch', g.grads.hx, ref(c.grad_hx), tol));
        if (c.grad_cx !== null) fails.push(...compareTensors('cx.grad vs torch', g.grads.cx, ref(c.grad_cx), tol));
        for (const [name, e] of Object.entries(c.grad_params)) {
          fails.push(...compareTensors(`${name}.grad vs torch`, g.grads[name], ref(e), tol));
          fails.push(...compareTensors(`${name}.grad vs cpu`, g.grads[name], cpu.grads[name], tol));
        }
        expect(fails).toEqual([]);
      });
    });
  });

  test.each(['RNN_TANH', 'RNN_RELU', 'GRU', 'LSTM'] as CellMode[])('%s at N=64, I=96, H=160: GPU equals the CPU backend (float32 and float64)', (mode) => {
    for (const dtype of ['float32', 'float64'] as DT[]) {
      cr.tidy(() => {
        cr.manualSeed(17);
        const cpuCell = build(mode, 96, 160, { dtype });
        const gpuCell = build(mode, 96, 160, { dtype });
        gpuCell.loadStateDict(cpuCell.stateDict());
        gpuCell.to('cuda');
        const x = cr.randn([64, 96], { dtype });
        const h = cr.randn([64, 160], { dtype });
        const c = cr.randn([64, 160], { dtype });
        const gh = cr.randn([64, 160], { dtype });
        const results = [cpuCell, gpuCell].map((cell, k) => {
          const dev = k === 0 ? 'cpu' : 'cuda';
          const [xd, hd, cd] = [x, h, c].map((t) => noGrad(() => t.to(dev)).requiresGrad_());
          const [h1, c1] = run(cell, xd, hd, cd);
          let loss = cr.sum(cr.mul(h1, gh.to(dev)));
          if (c1 !== null) loss = cr.add(loss, cr.sum(c1));
          loss.backward();
          return [h1, c1, xd.grad, hd.grad, ...(c1 !== null ? [cd.grad] : []), ...cell.parameters().map((p) => p.grad)];
        });
        const tol: Tol = dtype === 'float64' ? { abs: 1e-10 } : { rel: 1e-4 };
        const fails: string[] = [];
        results[0].forEach((t, i) => fails.push(...compareTensors(`${dtype} result ${i}`, results[1][i], t, tol)));
        expect(fails).toEqual([]);
        cpuCell.dispose();
        gpuCell.dispose();
      });
    }
  });

  test('float64 cells on cuda pass finite-difference gradcheck (input and states)', () => {
    cr.setDefaultDevice('cuda'); // gradcheck's helper tensors follow the default device
    try {
      for (const mode of ['RNN_TANH', 'GRU', 'LSTM'] as CellMode[]) {
        cr.manualSeed(5);
        const cell = build(mode, 3, 4, { dtype: 'float64', device: 'cuda' });
        const rng = prng(mode.length);
        const leaf = (shape: number[]) => noGrad(() => randomInput(rng, shape).to('cuda').detach()).requiresGrad_();
        const inputs = [leaf([2, 3]), leaf([2, 4]), leaf([2, 4])];
        const fn = (x: Tensor, h: Tensor, c: Tensor): Tensor[] => {
          const [h1, c1] = run(cell, x, h, c);
          return c1 === null ? [h1] : [h1, c1];
        };
        expect(gradcheck(fn, inputs, { check: [true, true, mode === 'LSTM'] })).toBeGreaterThan(0);
        cell.dispose();
      }
    } finally {
      cr.setDefaultDevice('cpu');
    }
  });

  test('inputs on the wrong device are refused with ERR_CUDNN_RNN_DEVICE_MISMATCH', () => {
    const cell = new nn.GRUCell(3, 4, { device: 'cuda' });
    const xc = cr.zeros([2, 3]);
    const xg = cr.zeros([2, 3], { device: 'cuda' });
    expect(() => cell.forward(xc)).toThrow(expect.objectContaining({ code: 'ERR_CUDNN_RNN_DEVICE_MISMATCH', message: expect.stringContaining('cuda:0') }));
    expect(() => cell.forward(xg, cr.zeros([2, 4]))).toThrow(expect.objectContaining({ code: 'ERR_CUDNN_RNN_DEVICE_MISMATCH' }));
    expect(cell.forward(xg).device).toBe('cuda:0');
    cell.dispose();
  });
});
