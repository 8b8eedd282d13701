#!/usr/bin/env node
// `npm run soak -- [--steps 10000] [--every 500] [--minutes M] [--mode both|tidy|no-tidy]`
// The memory soak of the reliability issue: a GRU 64->128 (2 layers, batch 32,
// seq 50) trained with Adam, once with tidy() around each step and once
// leaving every tensor to the garbage collector. Each mode runs in its own
// process so each has its own baseline. Prints RSS and memory() every
// --every steps, then checks the goals: with tidy, RSS within 2x of
// (live + cached + the process's baseline RSS); without, no growth after
// warm-up. Not part of CI (minutes to hours on a small machine).
'use strict';
const { spawn } = require('child_process');
const path = require('path');

const MB = 1024 * 1024;
const args = process.argv.slice(2);
function option(name, fallback) {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
}
const steps = Number(option('steps', 10000));
const every = Number(option('every', 500));
const mode = option('mode', 'both');
// A time budget per mode: on a shared machine 10,000 steps may take hours; the
// table then ends at the last report before the budget ran out.
const minutes = Number(option('minutes', Infinity));

function runMode(useTidy) {
  const lib = require(path.join(__dirname, '..', 'dist', 'cjs', 'index.js'));
  const { nn, optim, randn, tidy, memory, manualSeed } = lib;
  manualSeed(0);
  const gru = new nn.GRU(64, 128, 2);
  const head = new nn.Linear(128, 64);
  const opt = new optim.Adam([...gru.parameters(), ...head.parameters()], { lr: 1e-3 });
  const step = () => {
    const x = randn([50, 32, 64]);
    const target = randn([50, 32, 64]);
    const [y] = gru.forward(x);
    const loss = head.forward(y).sub(target).square().mean();
    opt.zeroGrad();
    loss.backward();
    opt.step();
    return loss.item();
  };
  const baseline = process.memoryUsage().rss;
  const rows = [];
  let last = Date.now();
  let peak = 0;
  const started = Date.now();
  for (let i = 1; i <= steps; ++i) {
    if (Date.now() - started > minutes * 60000 && rows.length > 0 && i % every === 1) break;
    const loss = useTidy ? tidy(step) : step();
    peak = Math.max(peak, process.memoryUsage().rss);
    if (i % every === 0 || i === steps) {
      const m = memory();
      const now = Date.now();
      const row = {
        step: i, rssMB: process.memoryUsage().rss / MB, heapMB: process.memoryUsage().heapUsed / MB, peakMB: peak / MB, liveMB: m.numBytes / MB, cachedMB: m.hostCachedBytes / MB,
        numTensors: m.numTensors, reclaimedByGc: m.reclaimedByGc, msPerStep: (now - last) / Math.min(every, i - (rows.length ? rows[rows.length - 1].step : 0)), loss,
      };
      last = now;
      rows.push(row);
      console.log(JSON.stringify(row));
    }
  }
  console.log(JSON.stringify({ done: true, baselineMB: baseline / MB, rows }));
}

function table(name, result) {
  console.log(`\n${name} (baseline RSS ${result.baselineMB.toFixed(0)} MB)`);
  console.log('  step    RSS MB  peak MB  JS heap MB  live MB  cached MB  tensors  reclaimedByGc  ms/step  loss');
  for (const r of result.rows) {
    console.log(`${String(r.step).padStart(6)} ${r.rssMB.toFixed(0).padStart(9)} ${r.peakMB.toFixed(0).padStart(8)} ${r.heapMB.toFixed(0).padStart(11)} ${r.liveMB.toFixed(1).padStart(8)} ${r.cachedMB.toFixed(1).padStart(10)} ${String(r.numTensors).padStart(8)} ${String(r.reclaimedByGc).padStart(14)} ${r.msPerStep.toFixed(1).padStart(8)}  ${r.loss.toFixed(4)}`);
  }
}

if (process.env.CUDNN_RNN_SOAK_CHILD) {
  runMode(process.env.CUDNN_RNN_SOAK_CHILD === 'tidy');
} else {
  const modes = mode === 'both' ? ['tidy', 'no-tidy'] : [mode];
  // The modes run side by side (each in its own process, so each has its own
  // baseline); progress lines stream to stderr as they come.
  const runs = modes.map((m) => new Promise((resolve) => {
    const child = spawn(process.execPath, [__filename, ...args], { env: { ...process.env, CUDNN_RNN_SOAK_CHILD: m }, stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    child.stdout.on('data', (chunk) => {
      text += chunk;
      const lines = text.split('\n');
      text = lines.pop();
      for (const l of lines) {
        if (l.includes('"done"')) resolve({ m, result: JSON.parse(l) });
        else process.stderr.write(`[${m}] ${l}\n`);
      }
    });
    child.on('close', (code, signal) => resolve({ m, failed: `status ${code}, signal ${signal}` }));
  }));
  Promise.all(runs).then((done) => report(done));
}

function report(done) {
  let ok = true;
  for (const { m, result, failed } of done) {
    if (failed !== undefined) {
      console.log(`${m}: the process failed (${failed})`);
      ok = false;
      continue;
    }
    table(m === 'tidy' ? 'with tidy()' : 'without tidy() (garbage collector only)', result);
    const rows = result.rows;
    const lastRow = rows[rows.length - 1];
    if (m === 'tidy') {
      const bound = 2 * (lastRow.liveMB + lastRow.cachedMB + result.baselineMB);
      const pass = lastRow.peakMB <= bound;
      console.log(`goal: peak RSS ${lastRow.peakMB.toFixed(0)} MB <= 2 x (live + cached + baseline) = ${bound.toFixed(0)} MB: ${pass ? 'met' : 'NOT met'}`);
      ok = ok && pass;
    } else {
      // Warm-up: the first quarter of the run (at least the first report).
      const warm = rows.slice(0, Math.max(1, Math.floor(rows.length / 4)));
      const after = rows.slice(warm.length);
      const warmPeak = Math.max(...warm.map((r) => r.peakMB));
      const laterPeak = after.length ? Math.max(...after.map((r) => r.rssMB)) : warmPeak;
      const pass = laterPeak <= warmPeak * 1.1;
      console.log(`goal: RSS after warm-up ${laterPeak.toFixed(0)} MB <= 1.1 x warm-up peak ${warmPeak.toFixed(0)} MB: ${pass ? 'met' : 'NOT met'}`);
      ok = ok && pass;
    }
  }
  process.exitCode = ok ? 0 : 1;
}
