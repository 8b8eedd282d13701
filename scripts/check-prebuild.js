#!/usr/bin/env node
// npm pack/publish's prepack step: refuses to pack unless the prebuilt binary
// is there, newer than every native source, built with the CUDA backend, and
// loadable on glibc >= 2.28. `npm run build:prebuild` makes one that passes.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const { maxGlibc, compareVersions } = require('./elf-glibc');

const root = path.join(__dirname, '..');
const MAX_GLIBC = '2.28';
const prebuild = path.join(root, 'prebuilds', 'linux-x64', 'cudnn-rnn.glibc.node');
const SOURCES = ['src', 'binding', 'CMakeLists.txt'];

function newestSource() {
  let newest = { file: '', mtime: 0 };
  const visit = (p) => {
    const st = fs.statSync(p);
    if (st.isDirectory()) return fs.readdirSync(p).forEach((e) => visit(path.join(p, e)));
    if (st.mtimeMs > newest.mtime) newest = { file: path.relative(root, p), mtime: st.mtimeMs };
  };
  SOURCES.forEach((s) => visit(path.join(root, s)));
  return newest;
}

function problems() {
  const rel = path.relative(root, prebuild);
  if (!fs.existsSync(prebuild)) return [`${rel} is missing`];
  const out = [];
  const newest = newestSource();
  if (fs.statSync(prebuild).mtimeMs < newest.mtime) out.push(`${rel} is older than ${newest.file}`);
  // Loaded in a child so that a broken binary cannot crash this script.
  const r = spawnSync(process.execPath, ['-p', 'require(process.argv[1]).cudaBuiltWithKernels === true', prebuild], { encoding: 'utf8' });
  if (r.status !== 0) out.push(`${rel} does not load: ${(r.stderr || '').trim().split('\n')[0]}`);
  else if (r.stdout.trim() !== 'true') out.push(`${rel} was built without the CUDA backend (nvcc was not found, or CUDNN_RNN_CPU_ONLY was set)`);
  const glibc = maxGlibc(prebuild);
  if (compareVersions(glibc, MAX_GLIBC) > 0) out.push(`${rel} needs GLIBC_${glibc}; the release must load on glibc ${MAX_GLIBC}`);
  return out;
}

const found = problems();
if (found.length > 0) {
  console.error('cudnn-rnn: not packing:');
  for (const p of found) console.error(`  - ${p}`);
  console.error('Run `npm run build:prebuild` on a machine with nvcc (the CUDA toolkit), then pack again.');
  process.exit(1);
}
console.log(`cudnn-rnn: ${path.relative(root, prebuild)} is current, has the CUDA backend and needs at most GLIBC_${maxGlibc(prebuild)}`);
