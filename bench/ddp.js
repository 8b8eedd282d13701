#!/usr/bin/env node
// Data-parallel bench (not in CI): steps/s of the char-GRU (Embedding 96x64 ->
// GRU(64, 256) -> Linear(256, 96), batch 32 x 64 characters per process, Adam)
// with 1 and 2 processes, and the all-reduce time per step, beside PyTorch's
// DDP with its Gloo backend on the same model, in the same run. The PyTorch
// processes are started as torchrun starts them (MASTER_ADDR/PORT, RANK,
// WORLD_SIZE, LOCAL_RANK in the environment): Debian's torch 1.13 torchrun
// fails on Python 3.11 before starting workers (its Std enum parsing).
// Needs `npm run build` (dist/), mpirun, and Debian's python3-torch.
//   node bench/ddp.js [--steps 30]
// Each configuration uses the machine's cores once over: 1 process with
// OMP_NUM_THREADS=<cores>, 2 processes with <cores>/2 each, for both libraries.
'use strict';
const { spawn, spawnSync } = require('child_process');
const os = require('os');
const path = require('path');

const root = path.join(__dirname, '..');
const VOCAB = 96, EMBED = 64, HIDDEN = 256, BATCH = 32, SEQ = 64, WARMUP = 3;

function worker(steps) {
  const { distributed, nn, optim, tensor, tidy, manualSeed } = require(path.join(root, 'dist/cjs/index.js'));
  distributed.initProcessGroup({ backend: 'mpi' });
  const rank = distributed.getRank();
  const worldSize = distributed.getWorldSize();
  manualSeed(0);
  class Char extends nn.Module {
    constructor() {
      super();
      this.embed = this.registerModule('embed', new nn.Embedding(VOCAB, EMBED));
      this.gru = this.registerModule('gru', new nn.GRU(EMBED, HIDDEN, { batchFirst: true }));
      this.head = this.registerModule('head', new nn.Linear(HIDDEN, VOCAB));
    }
    forward(x) {
      const [out] = this.gru.forward(this.embed.forward(x));
      return this.head.forward(out);
    }
  }
  const ddp = new nn.parallel.DistributedDataParallel(new Char());
  let reduceMs = 0;
  const sync = ddp.syncGradients.bind(ddp);
  ddp.syncGradients = () => {
    const t = process.hrtime.bigint();
    sync();
    reduceMs += Number(process.hrtime.bigint() - t) / 1e6;
  };
  const opt = new optim.Adam(ddp.parameters(), { lr: 3e-3 });
  let seed = 1 + rank;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) % VOCAB;
  const step = () => tidy(() => {
    const x = tensor(Int32Array.from({ length: BATCH * SEQ }, rand), { shape: [BATCH, SEQ], dtype: 'int32' });
    const y = tensor(Int32Array.from({ length: BATCH * SEQ }, rand), { shape: [BATCH * SEQ], dtype: 'int32' });
    opt.zeroGrad();
    const logits = ddp.forward(x);
    nn.functional.crossEntropy(logits.reshape(-1, VOCAB), y).backward();
    opt.step();
  });
  for (let i = 0; i < WARMUP; i++) step();
  distributed.barrier();
  reduceMs = 0;
  const t0 = Date.now();
  for (let i = 0; i < steps; i++) step();
  distributed.barrier();
  const s = (Date.now() - t0) / 1000;
  if (rank === 0) process.stdout.write(`RESULT ${JSON.stringify({ stepsPerSec: steps / s, reduceMsPerStep: reduceMs / steps, worldSize })}\n`);
}

function run(cmd, args, env) {
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 600_000 });
  const line = (r.stdout || '').split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return JSON.parse(line.slice(7));
}

// What torchrun --nproc_per_node np would do, without its agent.
function runTorch(np, steps, env) {
  const port = String(29500 + Math.floor(Math.random() * 1000));
  const procs = Array.from({ length: np }, (_, rank) => new Promise((resolve) => {
    const child = spawn('/usr/bin/python3', [path.join(__dirname, 'ddp_torch.py'), '--steps', String(steps)], {
      cwd: root, env: { ...process.env, ...env, MASTER_ADDR: '127.0.0.1', MASTER_PORT: port, RANK: String(rank), LOCAL_RANK: String(rank), WORLD_SIZE: String(np) },
    });
    let out = '', err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => resolve({ code, out, err }));
  }));
  return Promise.all(procs).then((rs) => {
    const line = rs[0].out.split('\n').find((l) => l.startsWith('RESULT '));
    if (!line) throw new Error(`PyTorch DDP failed:\n${rs.map((r) => r.err).join('\n')}`);
    return JSON.parse(line.slice(7));
  });
}

async function main() {
  const argv = process.argv.slice(2);
  const steps = argv.includes('--steps') ? Number(argv[argv.indexOf('--steps') + 1]) : 30;
  if (argv.includes('--worker')) return worker(steps);
  const cores = os.cpus().length;
  const root_ = process.getuid && process.getuid() === 0 ? ['--allow-run-as-root'] : [];
  const rows = [];
  for (const np of [1, 2]) {
    const threads = String(Math.max(1, Math.floor(cores / np)));
    const env = { OMP_NUM_THREADS: threads, OPENBLAS_NUM_THREADS: threads };
    const ours = run('mpirun', [...root_, '--oversubscribe', '--bind-to', 'none', '-np', String(np), process.execPath, __filename, '--worker', '--steps', String(steps)], env);
    const torch = await runTorch(np, steps, env);
    rows.push({ np, threads, ours, torch });
  }
  console.log(`char-GRU DDP, batch ${BATCH} x ${SEQ} per process, ${steps} timed steps, ${cores} cores`);
  console.log('processes  threads/proc  cudnn-rnn (MPI) steps/s  all-reduce ms/step  PyTorch (Gloo) steps/s  all-reduce ms/step');
  for (const r of rows) {
    console.log(`${String(r.np).padEnd(11)}${r.threads.padEnd(14)}${r.ours.stepsPerSec.toFixed(2).padEnd(25)}${r.ours.reduceMsPerStep.toFixed(2).padEnd(20)}${r.torch.stepsPerSec.toFixed(2).padEnd(24)}${r.torch.reduceMsPerStep.toFixed(2)}`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
