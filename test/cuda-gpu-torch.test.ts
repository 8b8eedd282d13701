// GPU suite: parity with PyTorch's cuDNN on the same machine, given the same
// weights, inputs and upstream gradients. test/gpu/torch_cudnn_reference.py
// runs torch.nn.RNN/GRU/LSTM on 'cuda' (TF32 off) and writes its outputs and
// gradients; we compare output, h_n (and c_n) and the gradients of input, h0
// (and c0) and every parameter: float32 1e-4 relative (|ours - torch| <= 1e-4 * max(1, |torch|)),
// float64 5e-5 absolute.
//
// Skipped, with the reason printed, where 'cuda' is not usable, or where no
// python3 has a CUDA-enabled torch (CUDNN_RNN_TEST_PYTHON names one).
// CUDNN_RNN_TORCH_PARITY_DEVICE=cpu runs the same comparison on the CPU (our
// CPU backend against torch's CPU path) to check the plumbing anywhere.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import * as cr from '../lib';
import type { Tensor } from '../lib';
import { compareArrays, gpuDescribe, Tol } from './gpu/common';

const DEVICE: 'cuda' | 'cpu' = process.env.CUDNN_RNN_TORCH_PARITY_DEVICE === 'cpu' ? 'cpu' : 'cuda';
const SCRIPT = path.join(__dirname, 'gpu', 'torch_cudnn_reference.py');
const TOL: Record<'float32' | 'float64', Tol> = { float32: { rel: 1e-4 }, float64: { abs: 5e-5 } };

type Mode = 'RNN_TANH' | 'RNN_RELU' | 'GRU' | 'LSTM';

interface Config {
  name: string;
  mode: Mode;
  input_size: number;
  hidden_size: number;
  num_layers: number;
  bias: boolean;
  batch_first: boolean;
  bidirectional: boolean;
  dtype: 'float32' | 'float64';
  /** LSTM only. */
  proj_size?: number;
  // Not sent to python:
  seq: number;
  batch: number | null; // null: unbatched input
  h0: boolean;
}

const CONFIGS: Config[] = [
  // bench's gru-large (L512 N64 1024->1024, 2 layers) with a shorter sequence.
  { name: 'gru-large-shape', mode: 'GRU', input_size: 1024, hidden_size: 1024, num_layers: 2, bias: true, batch_first: false, bidirectional: false, dtype: 'float32', seq: 32, batch: 64, h0: true },
  // bench's tanh-deep (4 bidirectional layers 512->512) shorter, batch_first.
  { name: 'tanh-deep-shape', mode: 'RNN_TANH', input_size: 512, hidden_size: 512, num_layers: 4, bias: true, batch_first: true, bidirectional: true, dtype: 'float32', seq: 16, batch: 32, h0: false },
  { name: 'relu-no-bias', mode: 'RNN_RELU', input_size: 96, hidden_size: 160, num_layers: 2, bias: false, batch_first: false, bidirectional: false, dtype: 'float32', seq: 20, batch: 16, h0: true },
  { name: 'gru-bidir-float64', mode: 'GRU', input_size: 20, hidden_size: 30, num_layers: 2, bias: true, batch_first: true, bidirectional: true, dtype: 'float64', seq: 9, batch: 3, h0: true },
  { name: 'gru-unbatched', mode: 'GRU', input_size: 16, hidden_size: 24, num_layers: 1, bias: true, batch_first: false, bidirectional: false, dtype: 'float32', seq: 7, batch: null, h0: false },
  // bench's lstm-large (L512 N64 1024->1024, 2 layers) with a shorter sequence.
  { name: 'lstm-large-shape', mode: 'LSTM', input_size: 1024, hidden_size: 1024, num_layers: 2, bias: true, batch_first: false, bidirectional: false, dtype: 'float32', proj_size: 0, seq: 32, batch: 64, h0: true },
  { name: 'lstm-proj-bidir', mode: 'LSTM', input_size: 96, hidden_size: 160, num_layers: 2, bias: true, batch_first: true, bidirectional: true, dtype: 'float32', proj_size: 64, seq: 20, batch: 16, h0: true },
  { name: 'lstm-proj-float64', mode: 'LSTM', input_size: 20, hidden_size: 30, num_layers: 3, bias: false, batch_first: false, bidirectional: true, dtype: 'float64', proj_size: 7, seq: 9, batch: 3, h0: true },
  { name: 'lstm-unbatched', mode: 'LSTM', input_size: 16, hidden_size: 24, num_layers: 1, bias: true, batch_first: false, bidirectional: false, dtype: 'float32', proj_size: 0, seq: 7, batch: null, h0: false },
];

/** A python3 whose torch can run the reference on DEVICE, or why there is none. */
function findPython(): { python: string | null; reason: string } {
  const check = DEVICE === 'cuda'
    ? 'import torch; assert torch.cuda.is_available(), "torch.cuda.is_available() is False"; assert torch.backends.cudnn.is_available(), "no cuDNN"; print(torch.__version__)'
    : 'import torch; print(torch.__version__)';
  const candidates = [process.env.CUDNN_RNN_TEST_PYTHON, 'python3', '/usr/bin/python3'].filter((p): p is string => !!p);
  const why: string[] = [];
  for (const py of [...new Set(candidates)]) {
    const r = spawnSync(py, ['-c', check], { encoding: 'utf8', timeout: 120000 });
    if (r.status === 0) return { python: py, reason: '' };
    const err = r.error ? r.error.message : (r.stderr || '').trim().split('\n').pop();
    why.push(`${py}: ${err}`);
  }
  return { python: null, reason: `no python3 with a ${DEVICE === 'cuda' ? 'CUDA-enabled ' : ''}torch (${why.join('; ')})` };
}

const active = DEVICE === 'cpu' || cr.cuda.isAvailable();
const suite = DEVICE === 'cpu' ? describe : gpuDescribe('cuda-gpu-torch');
const found = active ? findPython() : { python: null, reason: '' };
if (active && found.python === null) console.log(`cuda-gpu-torch: PyTorch parity skipped: ${found.reason}`);
const withTorch = found.python !== null ? test : test.skip;

interface Ours {
  cfg: Config;
  values: Record<string, { shape: number[]; data: Float32Array | Float64Array }>;
}

function read(t: Tensor): { shape: number[]; data: Float32Array | Float64Array } {
  return { shape: [...t.shape], data: t.dataSync() as Float32Array | Float64Array };
}

/** Makes the case's tensors (CPU, to be sent to python) and runs ours on DEVICE. */
function runOurs(cfg: Config, index: number, send: Record<string, Tensor>): Ours {
  return cr.tidy(() => {
    cr.manualSeed(1000 + index);
    const opts = { numLayers: cfg.num_layers, bias: cfg.bias, batchFirst: cfg.batch_first, bidirectional: cfg.bidirectional, dtype: cfg.dtype, device: 'cpu' };
    const lstm = cfg.mode === 'LSTM';
    const m: cr.nn.RNNBase<Tensor> | cr.nn.LSTM = lstm ? new cr.nn.LSTM(cfg.input_size, cfg.hidden_size, { ...opts, projSize: cfg.proj_size ?? 0 })
      : cfg.mode === 'GRU' ? new cr.nn.GRU(cfg.input_size, cfg.hidden_size, opts)
        : new cr.nn.RNN(cfg.input_size, cfg.hidden_size, { ...opts, nonlinearity: cfg.mode === 'RNN_TANH' ? 'tanh' : 'relu' });
    for (const [k, p] of m.namedParameters()) send[`${cfg.name}.param.${k}`] = cr.keep(cr.noGrad(() => p.clone()));
    m.to(DEVICE);
    const D = cfg.bidirectional ? 2 : 1;
    const H = cfg.proj_size ? cfg.proj_size : cfg.hidden_size;  // units of h and of the output
    const N = cfg.batch;
    const xShape = N === null ? [cfg.seq, cfg.input_size] : cfg.batch_first ? [N, cfg.seq, cfg.input_size] : [cfg.seq, N, cfg.input_size];
    const outShape = [...xShape.slice(0, -1), D * H];
    const hShape = N === null ? [D * cfg.num_layers, H] : [D * cfg.num_layers, N, H];
    const cShape = [...hShape.slice(0, -1), cfg.hidden_size];
    const opt = { dtype: cfg.dtype, device: 'cpu' } as const;
    const x = cr.keep(cr.randn(xShape, opt));
    const h0 = cfg.h0 ? cr.keep(cr.mul(cr.randn(hShape, opt), 0.5)) : null;
    const gOut = cr.keep(cr.randn(outShape, opt));
    const gH = cr.keep(cr.randn(hShape, opt));
    const c0 = lstm && cfg.h0 ? cr.keep(cr.randn(cShape, opt)) : null;
    const gC = lstm ? cr.keep(cr.randn(cShape, opt)) : null;
    send[`${cfg.name}.input`] = x;
    if (h0 !== null) send[`${cfg.name}.h0`] = h0;
    if (c0 !== null) send[`${cfg.name}.c0`] = c0;
    send[`${cfg.name}.grad_output`] = gOut;
    send[`${cfg.name}.grad_h_n`] = gH;
    if (gC !== null) send[`${cfg.name}.grad_c_n`] = gC;

    const xd = cr.noGrad(() => x.to(DEVICE).clone()).requiresGrad_();
    const hd = h0 === null ? null : cr.noGrad(() => h0.to(DEVICE).clone()).requiresGrad_();
    const cd = c0 === null ? null : cr.noGrad(() => c0.to(DEVICE).clone()).requiresGrad_();
    // [output, h_n] (RNN/GRU) or [output, h_n, c_n] (LSTM), from (x, h0 [, c0]).
    const run = (input: Tensor, h: Tensor | null, c: Tensor | null): Tensor[] => {
      if (m instanceof cr.nn.LSTM) {
        const [o, [hn, cn]] = h === null || c === null ? m.forward(input) : m.forward(input, [h, c]);
        return [o, hn, cn];
      }
      return h === null ? m.forward(input) : m.forward(input, h);
    };
    const [out, hn, cn] = run(xd, hd, cd);
    let loss = cr.add(cr.sum(cr.mul(out, gOut.to(DEVICE))), cr.sum(cr.mul(hn, gH.to(DEVICE))));
    if (cn !== undefined) loss = cr.add(loss, cr.sum(cr.mul(cn, (gC as Tensor).to(DEVICE))));
    loss.backward();
    const values: Ours['values'] = { output: read(out), h_n: read(hn), grad_input: read(xd.grad as Tensor) };
    if (cn !== undefined) values.c_n = read(cn);
    if (hd !== null) values.grad_h0 = read(hd.grad as Tensor);
    if (cd !== null) values.grad_c0 = read(cd.grad as Tensor);
    for (const [k, p] of m.namedParameters()) values[`grad.${k}`] = read(p.grad as Tensor);
    // The inference path (eval + noGrad) on the same inputs gives the same forward values.
    m.eval();
    const [oi, hi, ci] = cr.noGrad(() => run(x.to(DEVICE), h0 === null ? null : h0.to(DEVICE), c0 === null ? null : c0.to(DEVICE)));
    values['inference output'] = read(oi);
    values['inference h_n'] = read(hi);
    if (ci !== undefined) values['inference c_n'] = read(ci);
    m.dispose();
    return { cfg, values };
  });
}

suite(`nn.RNN / nn.GRU / nn.LSTM on ${DEVICE} vs PyTorch's ${DEVICE === 'cuda' ? 'cuDNN' : 'CPU path'} given the same weights (cuda-gpu-torch)`, () => {
  let ours: Ours[] = [];
  let theirs: Record<string, Tensor> = {};
  let meta: Record<string, string> | null = null;
  let tmp = '';

  beforeAll(() => {
    if (found.python === null) return;
    cr.setDefaultDevice('cpu');
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cudnn-rnn-torch-parity-'));
    const send: Record<string, Tensor> = {};
    try {
      ours = CONFIGS.map((cfg, i) => runOurs(cfg, i, send));
      const cases = CONFIGS.map(({ seq: _s, batch: _b, h0: _h, ...rest }) => rest);
      const inFile = path.join(tmp, 'in.safetensors');
      const outFile = path.join(tmp, 'out.safetensors');
      cr.save(send, inFile, { metadata: { cases: JSON.stringify(cases) } });
      const r = spawnSync(found.python as string, [SCRIPT, inFile, outFile, '--device', DEVICE], { encoding: 'utf8', timeout: 600000, maxBuffer: 1 << 24 });
      if (r.status !== 0) throw new Error(`${found.python} ${SCRIPT} failed (status ${r.status}${r.error ? `, ${r.error.message}` : ''}):\n${r.stderr}`);
      theirs = cr.load(outFile, { device: 'cpu' });
      meta = cr.loadMetadata(outFile);
      console.log(`cuda-gpu-torch: reference torch ${meta?.torch} on ${meta?.device}${meta?.cudnn ? `, cuDNN ${meta.cudnn}` : ''}`);
    } finally {
      for (const t of Object.values(send)) t.dispose();
    }
  }, 900000);

  afterAll(() => {
    for (const t of Object.values(theirs)) t.dispose();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  withTorch('the reference ran with TF32 off and answered every case', () => {
    expect(meta).not.toBeNull();
    expect(meta?.cudnn_allow_tf32).toBe('False');
    expect(meta?.matmul_allow_tf32).toBe('False');
    expect(JSON.parse(meta?.cases ?? '[]')).toEqual(CONFIGS.map((c) => c.name));
    if (DEVICE === 'cuda') expect(Number(meta?.cudnn)).toBeGreaterThan(0);
  });

  withTorch.each(CONFIGS.map((c) => [c.name, c] as [string, Config]))('%s: output, h_n (c_n) and every gradient match torch', (name, cfg) => {
    const o = ours.find((x) => x.cfg.name === name) as Ours;
    const tol = TOL[cfg.dtype];
    const fails: string[] = [];
    const expectedKeys = Object.keys(theirs).filter((k) => k.startsWith(`${name}.`)).map((k) => k.slice(name.length + 1)).sort();
    const ourKeys = Object.keys(o.values).filter((k) => !k.startsWith('inference ')).sort();
    expect(expectedKeys).toEqual(ourKeys);
    for (const [key, v] of Object.entries(o.values)) {
      const ref = theirs[`${name}.${key.replace(/^inference /, '')}`];
      if (ref === undefined) {
        fails.push(`${key}: torch did not return it`);
        continue;
      }
      if (ref.dtype !== cfg.dtype) fails.push(`${key}: torch dtype ${ref.dtype}`);
      if (JSON.stringify([...ref.shape]) !== JSON.stringify(v.shape)) {
        fails.push(`${key}: shape [${v.shape}], torch [${ref.shape}]`);
        continue;
      }
      fails.push(...compareArrays(key, v.data, ref.dataSync(), tol));
    }
    expect(fails).toEqual([]);
  });
});
