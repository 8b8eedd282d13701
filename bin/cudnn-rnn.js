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
  const line = (label, value) => console.log(`${label.padEnd(14)}${value}`);
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
  line('CUDA', v.cuda.available ? `${v.cuda.version} (${v.cuda.path})` : `not used: ${v.cuda.reason}`);
  line('default device', lib.getDefaultDevice().type);
}

const command = process.argv[2];
if (command === 'doctor' || command === undefined) {
  doctor();
} else {
  console.error(`cudnn-rnn: unknown command ${JSON.stringify(command)}; try "npx cudnn-rnn doctor"`);
  process.exitCode = 2;
}
