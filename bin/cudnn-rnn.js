#!/usr/bin/env node
// `npx cudnn-rnn doctor`: what cudnn-rnn found on this machine, for a person.
'use strict';

function doctor() {
  let lib;
  try {
    lib = require('../dist/cjs/index.js');
  } catch (err) {
    console.error('cudnn-rnn could not be loaded:');
    console.error(`  ${err && err.message ? err.message : err}`);
    console.error('Fixes: run "npm rebuild cudnn-rnn" (needs cmake and a C++17 compiler), or reinstall so the prebuilt binary is used.');
    process.exitCode = 1;
    return;
  }
  const v = lib.versions();
  const line = (label, value) => console.log(`${label.padEnd(13)} ${value}`);
  line('cudnn-rnn', v.cudnnRnn);
  line('node', `${v.node} (Node-API ${v.napi})`);
  if (v.blas.available) {
    line('CPU BLAS', `${v.blas.vendor} ${v.blas.version} (${v.blas.path})`);
    line('  kernels', `${v.blas.core || 'unknown'}, ${v.blas.threads} thread(s)`);
  } else {
    line('CPU BLAS', `built-in GEMM (slow path): ${v.blas.reason}`);
    console.log('              Install OpenBLAS for full speed, e.g. "apt-get install libopenblas0-pthread".');
  }
  if (v.blas.reason && v.blas.available) line('  note', v.blas.reason);
  for (const t of v.blas.tried) line('  tried', t);
  cudaSection(v.cuda, line);
  // The default 'auto', resolved from the report: getDefaultDevice() would
  // repeat the causes above as a process warning.
  line('default device', v.cuda.available ? "cuda:0 ('auto')" : "cpu ('auto')");
}

const GiB = 2 ** 30;

// The NVIDIA side, each part with its path or the reason it is missing, and
// every place searched for what was not found.
function cudaSection(c, line) {
  console.log('CUDA');
  const d = c.driver;
  if (d.found) {
    line('  driver', `${d.version || 'version unknown'}, runs CUDA ${d.cudaVersion || '?'} (${d.path})`);
    if (d.reason) line('    problem', d.reason);
  } else {
    line('  driver', `not found: ${d.reason}`);
  }
  for (const dev of c.devices) {
    line(`  device ${dev.index}`, `${dev.name}, ${(dev.totalMemory / GiB).toFixed(1)} GiB, compute capability ${dev.computeCapability}`);
  }
  if (d.found && c.devices.length === 0) line('  devices', 'none');
  line('  runtime', c.runtime.version || c.runtime.reason);
  for (const [label, l] of [['  cuDNN', c.cudnn], ['  cuBLAS', c.cublas]]) {
    if (l.found) {
      const built = l.cudaVersion ? ` for CUDA ${l.cudaVersion}` : '';
      line(label, `${l.version}${built} (${l.source}: ${l.path})`);
      for (const t of l.tried) if (t.includes('(optional')) line('    note', t);
      continue;
    }
    line(label, l.reason);
    for (const s of l.searched) line('    searched', s);
    for (const t of l.tried) line('    tried', t);
  }
  if (c.available) {
    line('  usable', 'yes');
  } else {
    line('  usable', "no: device 'auto' runs on the CPU");
    for (const cause of c.causes) {
      console.log(`    - ${cause.reason}`);
      console.log(`      fix: ${cause.fix}`);
    }
  }
}

const command = process.argv[2];
if (command === 'doctor' || command === undefined) {
  doctor();
} else {
  console.error(`cudnn-rnn: unknown command ${JSON.stringify(command)}; try "npx cudnn-rnn doctor"`);
  process.exitCode = 2;
}
