#!/usr/bin/env node
// `npx cudnn-rnn doctor`: what cudnn-rnn found on this machine, for a person.
// The first line is the verdict; then the CPU BLAS; --verbose adds every
// folder searched and every cause, --json prints it all for scripts.
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));

const USAGE = `Usage: cudnn-rnn [doctor] [--verbose] [--json]
       cudnn-rnn --help | --version

  doctor      (the default) says whether the GPU is used and why, and how
              fast the CPU path is; with a fix for what can be fixed
  --verbose   also every library tried and every folder searched
  --json      everything as JSON, for scripts
  --help, -h  this text
  --version   the package version

Rebuilding the addon: npm rebuild cudnn-rnn --build-from-source
(cmake >= 3.18, a C++17 compiler, and nvcc on PATH for the GPU backend;
CUDNN_RNN_CPU_ONLY=1 builds without it).`;

const REBUILD_GPU = 'npm rebuild cudnn-rnn --build-from-source (on a machine with the CUDA toolkit, nvcc on PATH, and CUDNN_RNN_CPU_ONLY unset)';

/** NVIDIA display/3D controllers on the PCI bus: the hardware, whatever the driver says. */
function nvidiaPciDevices() {
  const dir = '/sys/bus/pci/devices';
  let entries = [];
  try {
    entries = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return entries.filter((d) => {
    try {
      const vendor = fs.readFileSync(path.join(dir, d, 'vendor'), 'utf8').trim();
      const cls = fs.readFileSync(path.join(dir, d, 'class'), 'utf8').trim();
      return vendor === '0x10de' && cls.startsWith('0x03');
    } catch {
      return false;
    }
  });
}

function trimDot(s) {
  return String(s).trim().replace(/[.;]+$/, '');
}

/** { status, message, reason?, fix? }: the one line a person reads first. */
function verdict(c) {
  if (c.available) {
    const d = c.devices[0];
    const more = c.devices.length > 1 ? ` (+${c.devices.length - 1} more)` : '';
    return { status: 'gpu-ready', message: `GPU ready: ${d ? d.name : 'cuda:0'}${more}, cuDNN ${c.cudnn.version}, cuBLAS ${c.cublas.version}` };
  }
  const probe = c.probe && typeof c.probe === 'object' ? c.probe : null;
  const hardware = c.driver.found || c.devices.length > 0 || nvidiaPciDevices().length > 0;
  if (!hardware) return { status: 'cpu-expected', message: 'No NVIDIA GPU: running on the CPU (expected on this machine)' };
  let reason;
  let fix;
  if (probe && probe.ran && !probe.ok && probe.reason) {
    reason = probe.step ? `${trimDot(probe.reason)} (at ${probe.step})` : trimDot(probe.reason);
    fix = probe.fix || (c.causes[0] && c.causes[0].fix) || '';
  } else if (c.causes.length > 0) {
    reason = trimDot(c.causes[0].reason);
    fix = c.causes[0].fix;
  } else {
    reason = trimDot(c.reason || 'unknown');
    fix = '';
  }
  if (!c.driver.found && c.devices.length === 0) {
    reason = `an NVIDIA GPU is on the PCI bus but ${trimDot(c.driver.reason || 'the NVIDIA driver was not found')}`;
  }
  const more = c.causes.length > 1 ? ` (${c.causes.length} causes; --verbose lists them)` : '';
  return {
    status: 'gpu-unusable', reason, fix,
    message: `NVIDIA GPU found but not usable: ${reason}. Running on the CPU.${fix ? ` Fix: ${trimDot(fix)}` : ''}${more}`,
  };
}

function addonInfo(lib) {
  let file = '';
  try {
    file = require('node-gyp-build').resolve(root);
  } catch {
    file = '';
  }
  const gpuBackend = lib.cuda.backendHasKernels();
  return { path: file, source: file.includes(`${path.sep}prebuilds${path.sep}`) ? 'prebuilt' : 'built from source', gpuBackend };
}

function blasLine(b) {
  if (b.available) {
    return `CPU: ${b.vendor} ${b.version}, ${b.core || 'unknown'} kernels, ${b.threads} thread(s): the fast path`;
  }
  const reason = trimDot(String(b.reason).replace(/;?\s*see tried\.?$/, ''));
  return `CPU: built-in GEMM, the slow path (${reason}). For full speed install OpenBLAS: apt-get install libopenblas0-pthread`;
}

const GiB = 2 ** 30;

function verboseDetail(v, addon, hardware, line) {
  console.log('');
  line('cudnn-rnn', `${v.cudnnRnn} (${addon.source}: ${addon.path || 'unknown'})`);
  line('node', `${v.node} (Node-API ${v.napi})`);
  const b = v.blas;
  if (b.available) line('BLAS', `${b.vendor} ${b.version} (${b.path}), config ${b.config || '-'}`);
  if (b.reason && b.available) line('  note', b.reason);
  for (const t of b.tried) line('  tried', t);
  if (v.nccl) {
    const missing = hardware ? `not found (needed only for distributed training on GPUs): ${v.nccl.reason.split('\n')[0]}` : 'not found (needed only for distributed training on GPUs)';
    line('NCCL', v.nccl.available ? `${v.nccl.version} (${v.nccl.path})` : missing);
  }
  if (v.mpi) line('MPI', v.mpi.available ? `${v.mpi.version} (${v.mpi.flavor} ABI, ${v.mpi.path})` : `not found (needed only for distributed training): ${v.mpi.reason}`);
  const c = v.cuda;
  console.log('CUDA');
  const d = c.driver;
  if (d.found) {
    line('  driver', `${d.version || 'version unknown'}, runs CUDA ${d.cudaVersion || '?'} (${d.path})`);
    if (d.reason) line('    problem', d.reason);
  } else {
    line('  driver', `not found: ${d.reason}`);
  }
  for (const t of d.tried || []) line('    tried', t);
  for (const dev of c.devices) {
    line(`  device ${dev.index}`, `${dev.name}, ${(dev.totalMemory / GiB).toFixed(1)} GiB, compute capability ${dev.computeCapability}`);
  }
  line('  runtime', c.runtime.version || c.runtime.reason);
  for (const [label, l] of [['  cuDNN', c.cudnn], ['  cuBLAS', c.cublas]]) {
    if (l.found) {
      const built = l.cudaVersion ? ` for CUDA ${l.cudaVersion}` : '';
      line(label, `${l.version}${built} (${l.source}: ${l.path})`);
    } else {
      line(label, hardware ? l.reason : `not found (not needed without an NVIDIA GPU): ${l.reason}`);
    }
    for (const s of l.searched) line('    searched', s);
    for (const t of l.tried) line('    tried', t);
  }
  if (c.probe && typeof c.probe === 'object') {
    const p = c.probe;
    line('  probe', !p.ran ? 'not run' : p.ok ? 'a GPU forward and backward ran' : `failed${p.step ? ` at ${p.step}` : ''}: ${p.reason || ''}`);
    if (p.ran && !p.ok && p.fix && hardware) line('    fix', p.fix);
  }
  if (hardware && !c.available) {
    console.log('Why the GPU is not used:');
    for (const cause of c.causes) {
      console.log(`  - ${cause.reason}`);
      console.log(`    fix: ${cause.fix}`);
    }
  }
}

function doctor(flags) {
  let lib;
  try {
    lib = require('../dist/cjs/index.js');
  } catch (err) {
    const message = err && err.message ? err.message : String(err);
    if (flags.json) console.log(JSON.stringify({ verdict: { status: 'no-binary', message } }, null, 2));
    else console.error(message.startsWith('cudnn-rnn') ? message : `cudnn-rnn could not be loaded: ${message}`);
    process.exitCode = 1;
    return;
  }
  const v = lib.versions();
  const c = v.cuda;
  const addon = addonInfo(lib);
  const ver = verdict(c);
  const hardware = ver.status !== 'cpu-expected';
  if (flags.json) {
    console.log(JSON.stringify({ verdict: ver, addon, ...v }, null, 2));
    return;
  }
  const line = (label, value) => console.log(`${label.padEnd(13)} ${value}`);
  console.log(ver.message);
  console.log(blasLine(v.blas));
  if (addon.gpuBackend) {
    console.log(`Addon: ${addon.source}, with the GPU backend (CUDA ${c.runtime.version || '?'} runtime, linked statically)`);
  } else {
    console.log(`Addon: ${addon.source}, CPU only (no GPU backend). To build it with the GPU backend: ${REBUILD_GPU}`);
  }
  if (flags.verbose) verboseDetail(v, addon, hardware, line);
}

function main(argv) {
  const flags = { verbose: false, json: false };
  let command = 'doctor';
  for (const a of argv) {
    if (a === '--help' || a === '-h' || a === 'help') {
      console.log(USAGE);
      return;
    }
    if (a === '--version' || a === '-v' || a === 'version') {
      console.log(pkg.version);
      return;
    }
    if (a === '--verbose') flags.verbose = true;
    else if (a === '--json') flags.json = true;
    else if (a === 'doctor') command = 'doctor';
    else {
      console.error(`cudnn-rnn: unknown ${a.startsWith('-') ? 'option' : 'command'} ${JSON.stringify(a)}\n\n${USAGE}`);
      process.exitCode = 2;
      return;
    }
  }
  if (command === 'doctor') doctor(flags);
}

main(process.argv.slice(2));
