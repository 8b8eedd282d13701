// GPU suite: nn.RNN / nn.GRU / nn.LSTM on a PackedSequence with cuDNN
// (SEQ_MAJOR_PACKED data descriptors with the real lengths, PADDED_IO_DISABLED,
// STANDARD algorithm), on the grid of test/fixtures/packed_rnn.json
// (gen_packed_rnn.py, PyTorch 1.13): packed output data, h_n, c_n and the
// gradients of the padded input, h0, c0 and every parameter against the
// fixture's PyTorch values, the forward also through forwardAsync.
// Tolerances as the other GPU suites: float64 5e-5 absolute (PyTorch's own
// cuDNN test tolerance), float32 1e-4 relative.
//
// Skipped, with the reason printed, where 'cuda' is not usable.
import * as fs from 'fs';
import * as path from 'path';

import * as cr from '../lib';
import type { Tensor } from '../lib';
import { toTensor } from './helpers/lstm-fixture';
import type { DT, FixtureTensor } from './helpers/lstm-fixture';
import { compareTensors, gpuDescribe, Tol } from './gpu/common';

const { nn } = cr;

interface Case {
  name: string;
  mode: 'RNN' | 'GRU' | 'LSTM';
  nonlinearity: 'tanh' | 'relu' | null;
  lengths: number[];
  layers: number;
  bidir: boolean;
  sorted: boolean;
  batch_first: boolean;
  dtype: DT;
  I: number;
  H: number;
  P: number;
  state_dict: Record<string, FixtureTensor>;
  input: FixtureTensor;
  h0: FixtureTensor | null;
  c0: FixtureTensor | null;
  grad_data: FixtureTensor;
  grad_h_n: FixtureTensor;
  grad_c_n: FixtureTensor | null;
  data: FixtureTensor;
  h_n: FixtureTensor;
  c_n: FixtureTensor | null;
  grad_input: FixtureTensor;
  grad_h0: FixtureTensor | null;
  grad_c0: FixtureTensor | null;
  grad_params: Record<string, FixtureTensor>;
}

const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'packed_rnn.json'), 'utf8')) as { cases: Case[] };
const GPU_TOL: Record<DT, Tol> = { float64: { abs: 5e-5 }, float32: { rel: 1e-4 } };
const onGpu = gpuDescribe('cuda-gpu-packed');

type AnyRnn = cr.nn.RNN | cr.nn.GRU | cr.nn.LSTM;

const ref = (t: FixtureTensor, dtype: DT) => ({ shape: t.shape, data: dtype === 'float64' ? Float64Array.from(t.data) : Float32Array.from(t.data), dtype });

function buildOnGpu(c: Case): AnyRnn {
  const common = { numLayers: c.layers, bidirectional: c.bidir, batchFirst: c.batch_first, dtype: c.dtype, device: 'cpu' };
  const m: AnyRnn = c.mode === 'RNN' ? new nn.RNN(c.I, c.H, { ...common, nonlinearity: c.nonlinearity as 'tanh' | 'relu' })
    : c.mode === 'GRU' ? new nn.GRU(c.I, c.H, common) : new nn.LSTM(c.I, c.H, { ...common, projSize: c.P });
  const sd: Record<string, Tensor> = {};
  for (const [k, v] of Object.entries(c.state_dict)) sd[k] = toTensor(v, c.dtype);
  try {
    m.loadStateDict(sd);
  } finally {
    for (const t of Object.values(sd)) t.dispose();
  }
  m.to('cuda');
  return m;
}

async function run(m: AnyRnn, packed: cr.nn.utils.rnn.PackedSequence, h0: Tensor | null, c0: Tensor | null, useAsync: boolean): Promise<[cr.nn.utils.rnn.PackedSequence, Tensor, Tensor | null]> {
  if (m instanceof nn.LSTM) {
    const hx = h0 === null || c0 === null ? null : [h0, c0] as [Tensor, Tensor];
    const [o, [h, c]] = useAsync ? await m.forwardAsync(packed, hx) : m.forward(packed, hx);
    return [o, h, c];
  }
  const [o, h] = useAsync ? await (m as cr.nn.GRU).forwardAsync(packed, h0) : (m as cr.nn.GRU).forward(packed, h0);
  return [o, h, null];
}

onGpu.each(fixture.cases.map((c) => [c.name, c] as [string, Case]))('%s on cuDNN', (_name, c) => {
  test('forward (sync and async) and every gradient match PyTorch', async () => {
    const tol = GPU_TOL[c.dtype];
    const m = buildOnGpu(c);
    const x = toTensor(c.input, c.dtype, 'cuda');
    x.requiresGrad = true;
    const h0 = c.h0 === null ? null : toTensor(c.h0, c.dtype, 'cuda');
    const c0 = c.c0 === null ? null : toTensor(c.c0, c.dtype, 'cuda');
    if (h0) h0.requiresGrad = true;
    if (c0) c0.requiresGrad = true;
    const pack = () => nn.utils.rnn.packPaddedSequence(x, c.lengths, { batchFirst: c.batch_first, enforceSorted: c.sorted });
    const fails: string[] = [];
    for (const useAsync of [false, true]) {
      const [o, h, cc] = await run(m, pack(), h0, c0, useAsync);
      fails.push(...compareTensors(`data (async ${useAsync})`, o.data, ref(c.data, c.dtype), tol));
      fails.push(...compareTensors(`h_n (async ${useAsync})`, h, ref(c.h_n, c.dtype), tol));
      if (c.c_n !== null) fails.push(...compareTensors(`c_n (async ${useAsync})`, cc, ref(c.c_n, c.dtype), tol));
      if (useAsync) continue;
      let loss = cr.add(cr.sum(cr.mul(o.data, toTensor(c.grad_data, c.dtype, 'cuda'))), cr.sum(cr.mul(h, toTensor(c.grad_h_n, c.dtype, 'cuda'))));
      if (cc !== null && c.grad_c_n !== null) loss = cr.add(loss, cr.sum(cr.mul(cc, toTensor(c.grad_c_n, c.dtype, 'cuda'))));
      loss.backward();
    }
    fails.push(...compareTensors('input.grad', x.grad, ref(c.grad_input, c.dtype), tol));
    if (h0 && c.grad_h0) fails.push(...compareTensors('h0.grad', h0.grad, ref(c.grad_h0, c.dtype), tol));
    if (c0 && c.grad_c0) fails.push(...compareTensors('c0.grad', c0.grad, ref(c.grad_c0, c.dtype), tol));
    for (const [name, p] of m.namedParameters()) fails.push(...compareTensors(`${name}.grad`, p.grad, ref(c.grad_params[name], c.dtype), tol));
    expect(fails).toEqual([]);
    m.dispose();
  });
});
