// `npx cudnn-rnn doctor`: a verdict first, then the CPU BLAS; details only
// with --verbose; --json for scripts; --help and --version.
import * as fs from 'fs';
import * as path from 'path';

import { root, runNode } from './helpers/package-copy';

const bin = path.join(root, 'bin', 'cudnn-rnn.js');
const doctor = (...args: string[]) => runNode(root, [bin, ...args]);
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));

const VERDICTS = [
  /^No NVIDIA GPU: running on the CPU \(expected on this machine\)$/,
  /^GPU ready: .+, cuDNN \d+\.\d+\.\d+, cuBLAS \d+\.\d+\.\d+/,
  /^NVIDIA GPU found but not usable: .+\. Running on the CPU\. Fix: .+/,
];

// What the doctor's JSON says about this machine, asked once.
const report = JSON.parse(doctor('--json').stdout) as {
  verdict: { status: string; message: string };
  addon: { gpuBackend: boolean; path: string };
  blas: { available: boolean };
  cuda: { driver: { found: boolean } };
};

test('the first line is a verdict; the second the CPU path', () => {
  const r = doctor();
  expect(r.status).toBe(0);
  const lines = r.stdout.trim().split('\n');
  expect(VERDICTS.some((v) => v.test(lines[0] ?? ''))).toBe(true);
  expect(lines[0]).toBe(report.verdict.message);
  expect(lines[1]).toMatch(report.blas.available ? /^CPU: .+: the fast path$/ : /^CPU: built-in GEMM, the slow path/);
  expect(lines[2]).toMatch(report.addon.gpuBackend ? /^Addon: .+, with the GPU backend/ : /^Addon: .+, CPU only .+npm rebuild cudnn-rnn --build-from-source/);
  // The searched folders are for --verbose.
  expect(r.stdout).not.toContain('searched');
});

test('without an NVIDIA GPU it says so plainly and suggests no pip install, even with --verbose', () => {
  if (report.verdict.status !== 'cpu-expected') return;
  for (const args of [[], ['--verbose']]) {
    const r = doctor(...args);
    expect(r.stdout.split('\n')[0]).toBe('No NVIDIA GPU: running on the CPU (expected on this machine)');
    expect(r.stdout).not.toMatch(/pip install/);
  }
});

test('--verbose adds every folder searched and the driver', () => {
  const r = doctor('doctor', '--verbose');
  expect(r.status).toBe(0);
  expect(r.stdout).toContain('searched');
  expect(r.stdout).toMatch(/\n {2}driver {2,}\S/);
});

test('--json is one JSON document with the verdict and everything versions() reports', () => {
  expect(['cpu-expected', 'gpu-ready', 'gpu-unusable']).toContain(report.verdict.status);
  expect(typeof report.cuda.driver.found).toBe('boolean');
  expect(report.addon.path).toMatch(/\.node$/);
});

test('--help, -h and --version answer; an unknown command exits 2 with the usage', () => {
  for (const flag of ['--help', '-h']) {
    const r = doctor(flag);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Usage: cudnn-rnn/);
    expect(r.stdout).toContain('--build-from-source');
  }
  const v = doctor('--version');
  expect(v.status).toBe(0);
  expect(v.stdout.trim()).toBe(pkg.version);
  const bad = doctor('frobnicate');
  expect(bad.status).toBe(2);
  expect(bad.stderr).toContain('unknown command "frobnicate"');
  expect(bad.stderr).toContain('Usage: cudnn-rnn');
});
