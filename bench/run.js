#!/usr/bin/env node
// `npm run bench [-- --device cpu|cuda|cuda:N] [--runs N] [--rounds N] [--only name,name] [--no-peers] [--json PATH]`
// Times nn.RNN/nn.GRU/nn.LSTM forward (inference) and forward+backward on the shapes
// of bench/configs.json (a copy of shared/bench/configs.json), beside the
// peers measured in the same run. Prints medians and ratios.
//   cpu:  PyTorch (Debian's python3-torch, tuned) and onnxruntime-node (forward) when installed.
//   cuda: the "cuda" configs on the GPU, beside PyTorch's cuDNN (the first of
//         /usr/bin/python3, python3 whose torch has CUDA) and raw cuDNN
//         (cudnnRNNForward alone, timed by CUDA events) for our per-call overhead.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');

const lib = require('../dist/cjs/index.js');
const { native } = require('../dist/cjs/native.js');
const { nn, tidy, noGrad, manualSeed, randn, zeros, versions } = lib;

function parseArgs(argv) {
  const args = { device: 'cpu', runs: 30, only: null, peers: true, rounds: 3, json: null };
  for (let i = 0; i < argv.length; ++i) {
    const a = argv[i];
    if (a === '--device') args.device = argv[++i];
    else if (a === '--runs') args.runs = Number(argv[++i]);
    else if (a === '--only') args.only = argv[++i].split(',');
    else if (a === '--no-peers') args.peers = false;
    else if (a === '--rounds') args.rounds = Number(argv[++i]);
    else if (a === '--json') args.json = argv[++i];
    else throw new Error(`bench: unknown argument ${a}`);
  }
  return args;
}

// Every party's CPU forward warms up for at least this long as well as for as
// many calls as it then times: onnxruntime's LSTM runs ~40% slower for its
// first ~30 calls (16 ms, then 11.3 ms on lstm-train), which a count-only
// warm-up of 10 calls left in its median.
const CPU_MIN_WARM_MS = 1000;

function median(xs) {
  const s = xs.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

// With `sync` (the GPU), each call is timed up to the end of its device work:
// synchronised wall-clock time.
function timeMs(fn, runs, warmup, sync = null, minWarmMs = 0) {
  const w0 = process.hrtime.bigint();
  for (let i = 0; i < warmup || Number(process.hrtime.bigint() - w0) / 1e6 < minWarmMs; ++i) fn();
  if (sync) sync();
  const times = [];
  for (let i = 0; i < runs; ++i) {
    const t0 = process.hrtime.bigint();
    fn();
    if (sync) sync();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return median(times);
}

/** Forward FLOPs: per layer and direction, input and recurrent GEMMs (packed: the real steps x rows). */
function forwardFlops(c) {
  const rows = c.lengths === 'linear' ? linearLengths(c).reduce((a, b) => a + b, 0) : c.L * c.N;
  const G = c.mode === 'LSTM' ? 4 : c.mode === 'GRU' ? 3 : 1;
  const D = c.bidirectional ? 2 : 1;
  let flops = 0;
  for (let l = 0; l < c.layers; ++l) {
    const inSize = l === 0 ? c.I : D * c.H;
    flops += D * 2 * rows * G * c.H * (inSize + c.H);
  }
  return flops;
}

function runsFor(c, base) {
  // Small configs get many runs (noise), big ones fewer (time).
  const gflop = forwardFlops(c) / 1e9;
  return Math.max(10, Math.min(base * 20, Math.round(base / Math.max(gflop, 0.05))));
}

/** A "lengths": "linear" config's lengths: sequence i runs max(1, round(L*(N-i)/N)) steps. */
function linearLengths(c) {
  return Array.from({ length: c.N }, (_, i) => Math.max(1, Math.round((c.L * (c.N - i)) / c.N)));
}

/** The input as forward takes it: packed (enforceSorted) for a packed config, else x itself. */
function prepInput(c, x) {
  return c.lengths === 'linear' ? nn.utils.rnn.packPaddedSequence(x, linearLengths(c)) : x;
}

function buildModule(c, device) {
  const opts = { numLayers: c.layers, bidirectional: c.bidirectional };
  if (device) opts.device = device;
  if (c.mode === 'GRU') return new nn.GRU(c.I, c.H, opts);
  if (c.mode === 'LSTM') return new nn.LSTM(c.I, c.H, opts);
  return new nn.RNN(c.I, c.H, { ...opts, nonlinearity: c.mode === 'RNN_TANH' ? 'tanh' : 'relu' });
}

/** The zero initial state forward takes: h0, or [h0, c0] for an LSTM. */
function initialState(c, device) {
  const D = c.bidirectional ? 2 : 1;
  const opts = device ? { device } : {};
  const h0 = zeros([c.layers * D, c.N, c.H], opts);
  return c.mode === 'LSTM' ? [h0, zeros([c.layers * D, c.N, c.H], opts)] : h0;
}

const stateTensors = (s) => (Array.isArray(s) ? s : [s]);

/** One forward+backward (grads of input, h0 (c0) and every weight), all freed by tidy(). */
function trainStep(m, x, state, prep = (t) => t) {
  const xg = x.clone().requiresGrad_();
  const sg = stateTensors(state).map((t) => t.clone().requiresGrad_());
  const step = () => tidy(() => {
    m.zeroGrad();
    for (const t of [xg, ...sg]) {
      t.grad?.dispose();
      t.grad = null;
    }
    const [y, hy] = m.forward(prep(xg), Array.isArray(state) ? sg : sg[0]);
    let loss = (y instanceof nn.utils.rnn.PackedSequence ? y.data : y).sum();
    for (const t of stateTensors(hy)) loss = loss.add(t.sum());
    loss.backward();
  });
  return { step, xg, hg: sg };
}

function benchOurs(c, runs) {
  manualSeed(0);
  const m = buildModule(c);
  const x = randn([c.L, c.N, c.I]);
  const h0 = initialState(c);
  m.eval();
  // tidy() must not return the outputs, or they escape it and pile up until GC.
  // Warm-up long enough for the JIT to settle on the small configs.
  const prep = (t) => prepInput(c, t);
  const forwardMs = timeMs(() => noGrad(() => tidy(() => { m.forward(prep(x), h0); })), runs, Math.max(3, Math.min(runs, 2000)), null, CPU_MIN_WARM_MS);
  m.train();
  const { step, xg, hg } = trainStep(m, x, h0, prep);
  const trainMs = timeMs(step, Math.max(5, runs >> 1), 3);
  // A packed config: our own padded run on the same batch, for comparison.
  let paddedForwardMs = NaN;
  let paddedTrainMs = NaN;
  if (c.lengths === 'linear') {
    m.eval();
    paddedForwardMs = timeMs(() => noGrad(() => tidy(() => { m.forward(x, h0); })), runs, 3);
    m.train();
    paddedTrainMs = timeMs(trainStep(m, x, h0).step, Math.max(5, runs >> 1), 3);
  }
  m.dispose();
  [x, ...stateTensors(h0), xg, ...hg].forEach((t) => t.dispose());
  return { forwardMs, trainMs, paddedForwardMs, paddedTrainMs };
}

function torchPeer(configs, device, onnxDir, runs) {
  const python = '/usr/bin/python3';
  if (!fs.existsSync(python)) return { error: `${python} not found` };
  const blas = versions().blas;
  const env = {
    ...process.env,
    OMP_NUM_THREADS: String(blas.threads || 2),
    BENCH_THREADS: String(blas.threads || 2),
    OMP_WAIT_POLICY: 'PASSIVE',
    BENCH_DEVICE: device,
  };
  // Give PyTorch's OpenBLAS the same kernels ours uses, so the peer is at its best.
  if (blas.vendor === 'OpenBLAS' && blas.core && !process.env.OPENBLAS_CORETYPE) env.OPENBLAS_CORETYPE = blas.core;
  try {
    const payload = JSON.stringify(configs.map((c) => ({ ...c, runs: runsFor(c, runs) })));
    const out = execFileSync(python, [path.join(__dirname, 'peers', 'torch_rnn.py'), payload, onnxDir || ''], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 24 });
    return JSON.parse(out.trim().split('\n').pop());
  } catch (err) {
    return { error: (err.stderr || err.message || String(err)).toString().trim().split('\n').slice(-2).join(' ') };
  }
}

async function ortPeer(configs, torchResults, runs) {
  let ort;
  try {
    ort = require('onnxruntime-node');
  } catch {
    return { error: 'onnxruntime-node is not installed (npm install --no-save onnxruntime-node)' };
  }
  const out = { results: {} };
  for (const c of configs) {
    const file = torchResults?.results?.[c.name]?.onnx;
    if (!file || !fs.existsSync(file)) continue;
    const session = await ort.InferenceSession.create(file, { intraOpNumThreads: versions().blas.threads || 2, interOpNumThreads: 1 });
    const D = c.bidirectional ? 2 : 1;
    const x = new ort.Tensor('float32', new Float32Array(c.L * c.N * c.I).fill(0.1), [c.L, c.N, c.I]);
    const h0 = new ort.Tensor('float32', new Float32Array(c.layers * D * c.N * c.H), [c.layers * D, c.N, c.H]);
    // An LSTM's export takes the cell state too (bench/peers/torch_rnn.py).
    const feeds = c.mode === 'LSTM' ? { x, h0, c0: new ort.Tensor('float32', new Float32Array(c.layers * D * c.N * c.H), [c.layers * D, c.N, c.H]) } : { x, h0 };
    const n = runsFor(c, runs);
    // The same forward warm-up as ours (benchOurs).
    const w0 = process.hrtime.bigint();
    for (let i = 0; i < Math.max(3, Math.min(n, 2000)) || Number(process.hrtime.bigint() - w0) / 1e6 < CPU_MIN_WARM_MS; ++i) await session.run(feeds);
    const times = [];
    for (let i = 0; i < n; ++i) {
      const t0 = process.hrtime.bigint();
      await session.run(feeds);
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    out.results[c.name] = { forward_ms: median(times) };
    await session.release?.();
  }
  out.version = require('onnxruntime-node/package.json').version;
  return out;
}

/** For packed configs: our packed time beside our own padded time on the same batch. */
function packedLines(configs, ours) {
  for (const c of configs) {
    if (c.lengths !== 'linear') continue;
    const o = ours[c.name];
    const total = linearLengths(c).reduce((a, b) => a + b, 0);
    console.log(`${c.name}: ${total} of ${c.L * c.N} steps x rows; ours packed / ours padded: forward ${fmt(o.forwardMs)} / ${fmt(o.paddedForwardMs)} ms = ${fmt(o.forwardMs / o.paddedForwardMs)}, ` +
      `f+b ${fmt(o.trainMs)} / ${fmt(o.paddedTrainMs)} ms = ${fmt(o.trainMs / o.paddedTrainMs)}`);
  }
}

function fmt(x, digits = 3) {
  if (x === undefined || x === null || Number.isNaN(x)) return '-';
  return x >= 100 ? x.toFixed(1) : x >= 1 ? x.toFixed(2) : x.toPrecision(digits);
}

function table(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  return rows.map((r) => r.map((v, i) => String(v).padStart(widths[i])).join('  ')).join('\n');
}

// ---- GPU -------------------------------------------------------------------------

/**
 * cudnnRNNForward alone (inference, CUDA events, no allocation in the loop):
 * mean ms per call on the module's weights and these tensors, or null when
 * this build has no raw timer. Accepts the module method or the ops function
 * of dist/cjs/ops/rnn.js.
 */
function rawCudnnTimer() {
  let ops = {};
  try {
    ops = require('../dist/cjs/ops/rnn.js');
  } catch {
    // no ops module: the module method alone
  }
  const fn = ops.rawCudnnForwardMs;
  return (m, x, state, iters) => {
    const [hx, cx] = stateTensors(state);
    if (typeof m.rawCudnnForwardMs === 'function') return m.rawCudnnForwardMs(x, hx, iters, cx ?? null);
    if (typeof fn !== 'function') return null;
    // rawCudnnForwardMs(spec, x, hx, flat, iters), or rawCudnnForwardMs(module, x, hx, iters).
    return fn.length >= 5 ? fn(m.spec(), x, hx, m.flat, iters) : fn(m, x, hx, iters);
  };
}

function benchOursCuda(c, runs, device, rawTimer) {
  const { cuda } = lib;
  const sync = () => cuda.synchronize(device);
  manualSeed(0);
  const m = buildModule(c, device);
  const x = randn([c.L, c.N, c.I], { device });
  const h0 = initialState(c, device);
  m.eval();
  // Inference: eval + noGrad, outputs freed inside the timed call (tidy), as the CPU bench.
  const prep = (t) => prepInput(c, t);
  const forwardMs = timeMs(() => noGrad(() => tidy(() => { m.forward(prep(x), h0); })), runs, Math.max(10, Math.min(runs, 200)), sync);
  // cudnnRNNForward alone on the same module and tensors (inference, CUDA
  // events, no allocation); padded input only.
  const rawMs = c.lengths === 'linear' ? null : rawTimer(m, x, h0, Math.max(runs, 20));
  m.train();
  const { step, xg, hg } = trainStep(m, x, h0, prep);
  const trainMs = timeMs(step, Math.max(5, runs >> 1), 5, sync);
  let paddedForwardMs = NaN;
  let paddedTrainMs = NaN;
  if (c.lengths === 'linear') {
    m.eval();
    paddedForwardMs = timeMs(() => noGrad(() => tidy(() => { m.forward(x, h0); })), runs, 10, sync);
    m.train();
    paddedTrainMs = timeMs(trainStep(m, x, h0).step, Math.max(5, runs >> 1), 5, sync);
  }
  m.dispose();
  [x, ...stateTensors(h0), xg, ...hg].forEach((t) => t.dispose());
  sync();
  return { forwardMs, trainMs, rawMs: rawMs ?? NaN, paddedForwardMs, paddedTrainMs };
}

/** The first python3 whose torch runs on CUDA: /usr/bin/python3, then python3 on PATH. */
function cudaPython() {
  const tried = [];
  for (const py of ['/usr/bin/python3', 'python3']) {
    try {
      const out = execFileSync(py, ['-c', 'import torch; assert torch.cuda.is_available(), "torch " + torch.__version__ + " has no usable CUDA"; print(torch.__version__)'],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120000 });
      return { python: py, version: out.trim() };
    } catch (err) {
      const msg = (err.stderr || err.message || String(err)).toString().trim().split('\n').pop();
      tried.push(`${py}: ${msg}`);
    }
  }
  return { error: `no python3 with a CUDA-enabled torch (${tried.join('; ')})` };
}

function torchCudaPeer(configs, device, runs, python) {
  const env = { ...process.env, BENCH_DEVICE: device };
  try {
    const payload = JSON.stringify(configs.map((c) => ({ ...c, runs: runsFor(c, runs) })));
    const out = execFileSync(python, [path.join(__dirname, 'peers', 'torch_rnn.py'), payload, ''], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 24 });
    return JSON.parse(out.trim().split('\n').pop());
  } catch (err) {
    return { error: (err.stderr || err.message || String(err)).toString().trim().split('\n').slice(-2).join(' ') };
  }
}

/**
 * --json PATH: the run as data, one entry per config printed (whatever the
 * configs file holds), for scripts/gpu-summary.js. Times in ms; NaN (not
 * measured) becomes null; ratio = peer time / ours (higher is better for us).
 */
function writeJson(args, head, configs, row) {
  if (!args.json) return;
  const out = { ...head, device: args.device, rounds: args.rounds, configs: configs.map((c) => ({ name: c.name, shape: c, ...row(c) })) };
  fs.writeFileSync(args.json, `${JSON.stringify(out, null, 2)}\n`);
}

function ratio(peer, ours) {
  return peer === undefined || peer === null || !Number.isFinite(peer / ours) ? null : peer / ours;
}

async function mainCuda(args, configs) {
  const { cuda } = lib;
  const device = args.device;
  const v = versions();
  if (!cuda.isAvailable()) throw new Error(`bench: device ${device} is not usable here: ${v.cuda.reason}`);
  const index = device.includes(':') ? Number(device.split(':')[1]) : 0;
  const dev = cuda.devices()[index];
  if (!dev) throw new Error(`bench: no device ${device} (${cuda.deviceCount()} CUDA device(s) found)`);
  console.log(`cudnn-rnn ${v.cudnnRnn} on ${dev.name} (${(dev.totalMemory / 2 ** 30).toFixed(0)} GiB, compute capability ${dev.computeCapability}), node ${v.node}`);
  console.log(`NVIDIA driver ${v.cuda.driver.version} (CUDA ${v.cuda.driver.cudaVersion}), CUDA runtime ${v.cuda.runtime.version || '-'}, cuDNN ${v.cuda.cudnn.version}, cuBLAS ${v.cuda.cublas.version}; float32, TF32 ${cuda.getAllowTF32() ? 'ON' : 'off'}`);
  const rawTimer = rawCudnnTimer();
  const py = args.peers ? cudaPython() : { error: 'skipped (--no-peers)' };

  // Whole rounds (ours, then the peer) repeated, keeping each party's best median per config.
  const ours = {};
  let torchRes = { error: py.error || 'not run' };
  const keepBest = (best, got, keys) => {
    if (!best) return got;
    for (const k of keys) {
      const x = best[k];
      const y = got[k];
      best[k] = Number.isNaN(x) ? y : Number.isNaN(y) ? x : Math.min(x, y);
    }
    return best;
  };
  for (let round = 0; round < args.rounds; ++round) {
    for (const c of configs) ours[c.name] = keepBest(ours[c.name], benchOursCuda(c, runsFor(c, args.runs), device, rawTimer), ['forwardMs', 'trainMs', 'rawMs', 'paddedForwardMs', 'paddedTrainMs']);
    if (py.error) continue;
    cuda.emptyCache(); // leave the device's memory to the peer
    const t = torchCudaPeer(configs, device, args.runs, py.python);
    if (t.error) { if (!torchRes.results) torchRes = t; }
    else if (!torchRes.results) torchRes = t;
    else for (const c of configs) torchRes.results[c.name] = keepBest(torchRes.results[c.name], t.results[c.name], ['forward_ms', 'train_ms']);
  }
  console.log(`PyTorch peer: ${torchRes.error ? `unavailable (${torchRes.error})` : `torch ${torchRes.torch} (${py.python}), cuDNN ${torchRes.cudnn}, ${torchRes.device_name}, TF32 off, cudnn.benchmark ${torchRes.cudnn_benchmark}`}`);
  if (configs.some((c) => c.lengths !== 'linear' && Number.isNaN(ours[c.name].rawMs))) console.log('raw cuDNN: unavailable (this build has no rawCudnnForwardMs)');
  console.log('');

  const rows = [['config', 'fwd ms', 'torch', 'x torch', 'f+b ms', 'torch', 'x torch', 'raw cuDNN fwd ms', 'overhead us']];
  const misses = [];
  for (const c of configs) {
    const o = ours[c.name];
    const t = torchRes.results?.[c.name];
    const fwdRatio = t ? t.forward_ms / o.forwardMs : NaN;
    const trainRatio = t ? t.train_ms / o.trainMs : NaN;
    const overheadUs = (o.forwardMs - o.rawMs) * 1000;
    rows.push([
      c.name, fmt(o.forwardMs), fmt(t?.forward_ms), t ? fmt(fwdRatio) : '-',
      fmt(o.trainMs), fmt(t?.train_ms), t ? fmt(trainRatio) : '-',
      fmt(o.rawMs), Number.isNaN(overheadUs) ? '-' : overheadUs.toFixed(1),
    ]);
    if (fwdRatio < 1) misses.push(`${c.name} forward ${fmt(fwdRatio)}x torch`);
    if (trainRatio < 1) misses.push(`${c.name} f+b ${fmt(trainRatio)}x torch`);
    if (c.lengths !== 'linear' && overheadUs >= 20) misses.push(`${c.name} overhead ${overheadUs.toFixed(1)} us`);
  }
  console.log(table(rows));
  packedLines(configs, ours);
  console.log(`\nx torch = PyTorch's time / our time (higher is better for us); each time is the best of ${args.rounds} rounds' medians of wall-clock time with a device synchronisation after each call, after warm-up.`);
  console.log('f+b = forward + backward (grads of input, h0, all weights). overhead = (our forward - raw cudnnRNNForward) in microseconds per call.');
  const complete = Object.keys(torchRes.results || {}).length === configs.length && configs.every((c) => c.lengths === 'linear' || !Number.isNaN(ours[c.name].rawMs));
  const targets = misses.length ? `missed: ${misses.join('; ')}` : complete ? 'met' : 'not all measured';
  console.log(`Targets: >= 1.0x PyTorch on every config, overhead < 20 us: ${targets}`);
  writeJson(args, {
    gpu: dev,
    torch: torchRes.error ? { error: torchRes.error } : { version: torchRes.torch, cudnn: torchRes.cudnn, device: torchRes.device_name },
    targets,
  }, configs, (c) => {
    const o = ours[c.name];
    const t = torchRes.results?.[c.name];
    return {
      forwardMs: o.forwardMs, trainMs: o.trainMs, rawMs: o.rawMs, overheadUs: (o.forwardMs - o.rawMs) * 1000,
      torch: t ? { forwardMs: t.forward_ms, trainMs: t.train_ms } : null,
      ratio: { forward: ratio(t?.forward_ms, o.forwardMs), train: ratio(t?.train_ms, o.trainMs) },
    };
  });
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const all = JSON.parse(fs.readFileSync(path.join(__dirname, 'configs.json'), 'utf8'));
  const isCuda = /^cuda(:\d+)?$/.test(args.device);
  let configs = all[isCuda ? 'cuda' : args.device];
  if (!configs) throw new Error(`bench: no configs for device ${args.device}`);
  if (args.only) configs = configs.filter((c) => args.only.includes(c.name));
  if (isCuda) return mainCuda(args, configs);

  const v = versions();
  // The peak is the best of several trials: a noisy neighbour only ever lowers it.
  let peakSeconds = Infinity;
  for (let i = 0; i < 7; ++i) peakSeconds = Math.min(peakSeconds, native.gemmBench(0, 1024, 5, false));
  const peak = (5 * 2 * 1024 ** 3) / peakSeconds / 1e9;
  console.log(`cudnn-rnn ${v.cudnnRnn} on ${os.cpus()[0].model.trim()} x${os.cpus().length}, node ${v.node}`);
  console.log(`BLAS: ${v.blas.vendor} ${v.blas.version} core=${v.blas.core || '-'} threads=${v.blas.threads}; sgemm 1024^3 peak ${peak.toFixed(0)} GFLOP/s`);
  if (process.env.OPENBLAS_CORETYPE) {
    console.log(`note: OPENBLAS_CORETYPE=${process.env.OPENBLAS_CORETYPE} is set in the environment and is respected; unset it to let cudnn-rnn pick the kernels for this CPU`);
  }

  // Whole rounds (ours, then each peer) repeated, keeping each party's best
  // median per config: on a noisy shared machine a slow moment then hurts
  // nobody more than the others.
  const ours = {};
  let torchRes = { error: 'skipped (--no-peers)' };
  let ortRes = { error: 'skipped (--no-peers)' };
  const keepBest = (best, got, keys) => {
    if (!best) return got;
    for (const k of keys) best[k] = Math.min(best[k], got[k]);
    return best;
  };
  for (let round = 0; round < args.rounds; ++round) {
    for (const c of configs) ours[c.name] = keepBest(ours[c.name], benchOurs(c, runsFor(c, args.runs)), ['forwardMs', 'trainMs', 'paddedForwardMs', 'paddedTrainMs']);
    if (!args.peers) continue;
    const onnxDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cudnn-rnn-bench-'));
    const t = torchPeer(configs, args.device, onnxDir, args.runs);
    const r = t.error ? { error: t.error } : await ortPeer(configs, t, args.runs);
    fs.rmSync(onnxDir, { recursive: true, force: true });
    if (t.error) { if (!torchRes.results) torchRes = t; }
    else if (!torchRes.results) torchRes = t;
    else for (const c of configs) torchRes.results[c.name] = keepBest(torchRes.results[c.name], t.results[c.name], ['forward_ms', 'train_ms']);
    if (r.error) ortRes = ortRes.results ? ortRes : r;
    else if (!ortRes.results) ortRes = r;
    else for (const c of configs) if (r.results[c.name]) ortRes.results[c.name] = keepBest(ortRes.results[c.name], r.results[c.name], ['forward_ms']);
  }
  console.log(`PyTorch peer: ${torchRes.error ? `unavailable (${torchRes.error})` : `${torchRes.torch}, ${torchRes.threads} threads`}`);
  console.log(`onnxruntime-node peer: ${ortRes.error ? `unavailable (${ortRes.error})` : ortRes.version}`);
  console.log('');

  const rows = [['config', 'fwd ms', 'torch', 'ort', 'x torch', 'x ort', 'x best', 'GFLOP/s', '% peak', 'f+b ms', 'torch', 'x torch']];
  for (const c of configs) {
    const o = ours[c.name];
    const t = torchRes.results?.[c.name];
    const r = ortRes.results?.[c.name];
    const best = Math.min(t?.forward_ms ?? Infinity, r?.forward_ms ?? Infinity);
    const gflops = forwardFlops(c) / (o.forwardMs / 1e3) / 1e9;
    rows.push([
      c.name, fmt(o.forwardMs), fmt(t?.forward_ms), fmt(r?.forward_ms),
      t ? fmt(t.forward_ms / o.forwardMs) : '-', r ? fmt(r.forward_ms / o.forwardMs) : '-',
      Number.isFinite(best) ? fmt(best / o.forwardMs) : '-',
      gflops.toFixed(1), `${((100 * gflops) / peak).toFixed(0)}%`,
      fmt(o.trainMs), fmt(t?.train_ms), t ? fmt(t.train_ms / o.trainMs) : '-',
    ]);
  }
  console.log(table(rows));
  packedLines(configs, ours);
  console.log(`\nx peer = peer time / our time (higher is better for us); each time is the best of ${args.rounds} rounds' medians; f+b = forward + backward (grads of input, h0, all weights).`);
  writeJson(args, {
    cpu: os.cpus()[0].model.trim(),
    torch: torchRes.error ? { error: torchRes.error } : { version: torchRes.torch },
    ort: ortRes.error ? { error: ortRes.error } : { version: ortRes.version },
  }, configs, (c) => {
    const o = ours[c.name];
    const t = torchRes.results?.[c.name];
    const r = ortRes.results?.[c.name];
    return {
      forwardMs: o.forwardMs, trainMs: o.trainMs,
      torch: t ? { forwardMs: t.forward_ms, trainMs: t.train_ms } : null,
      ort: r ? { forwardMs: r.forward_ms } : null,
      ratio: { forward: ratio(t?.forward_ms, o.forwardMs), train: ratio(t?.train_ms, o.trainMs) },
    };
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
