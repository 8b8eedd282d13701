#!/usr/bin/env node
// The one-call GPU report: reads what scripts/gpu-check.sh left in a folder
// and writes <folder>/gpu.json (and prints it):
//   versions.json   versions() of the addon under test (device, driver, cuDNN, cuBLAS, self-test)
//   jest-gpu.json   `jest --json` of the GPU suites
//   bench-cuda.json `bench/run.js --device cuda --json` (every config it printed)
//   commit          the commit tested (written where git is at hand)
// Any missing piece is reported as { error } in its place, never a crash:
// the summary is what a person reads when the GPU run went wrong.
'use strict';
const fs = require('fs');
const path = require('path');

function readJson(file) {
  try {
    return { value: JSON.parse(fs.readFileSync(file, 'utf8')) };
  } catch (e) {
    return { error: `${path.basename(file)}: ${e.code === 'ENOENT' ? 'not written (the step did not finish; see its .txt log)' : e.message}` };
  }
}

function readText(file) {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return '';
  }
}

function library(lib) {
  if (!lib) return null;
  return lib.found
    ? { version: lib.version, cudaVersion: lib.cudaVersion, path: lib.path, source: lib.source, skipped: lib.tried.filter((l) => l.includes('(skipped)')) }
    : { error: lib.reason, skipped: lib.tried.filter((l) => l.includes('(skipped)')) };
}

function system(v) {
  if (v.error) return { error: v.error };
  const c = v.value.cuda;
  return {
    device: c.devices[0] ?? null,
    driver: { version: c.driver.version, cudaVersion: c.driver.cudaVersion, reason: c.driver.reason },
    runtime: c.runtime.version,
    cudnn: library(c.cudnn),
    cublas: library(c.cublas),
    available: c.available,
    reason: c.reason,
    probe: c.probe ?? null,
  };
}

function tests(j) {
  if (j.error) return { error: j.error };
  const r = j.value;
  const failures = [];
  for (const file of r.testResults ?? []) {
    for (const a of file.assertionResults ?? []) {
      if (a.status === 'failed') failures.push(`${path.basename(file.name)}: ${a.fullName}`);
    }
    if (file.status === 'failed' && (file.assertionResults ?? []).length === 0) failures.push(`${path.basename(file.name)}: ${(file.message || 'failed to run').split('\n')[0]}`);
  }
  return {
    passed: r.numPassedTests,
    failed: r.numFailedTests,
    skipped: r.numPendingTests + (r.numTodoTests ?? 0),
    total: r.numTotalTests,
    suitesFailed: r.numFailedTestSuites,
    failures: failures.slice(0, 30),
  };
}

function median(xs) {
  const s = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return null;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function bench(b) {
  if (b.error) return { error: b.error };
  const configs = b.value.configs.map((c) => ({
    name: c.name,
    forwardMs: c.forwardMs,
    torchForwardMs: c.torch?.forwardMs ?? null,
    forwardRatio: c.ratio?.forward ?? null,
    trainMs: c.trainMs,
    torchTrainMs: c.torch?.trainMs ?? null,
    trainRatio: c.ratio?.train ?? null,
    overheadUs: c.overheadUs ?? null,
  }));
  const overheads = configs.map((c) => c.overheadUs);
  return {
    torch: b.value.torch,
    targets: b.value.targets ?? null,
    configs,
    overheadUs: { median: median(overheads), max: overheads.some((x) => typeof x === 'number') ? Math.max(...overheads.filter((x) => typeof x === 'number')) : null },
  };
}

function summarize(dir) {
  return {
    commit: readText(path.join(dir, 'commit')) || 'unknown',
    date: new Date().toISOString(),
    ...system(readJson(path.join(dir, 'versions.json'))),
    tests: tests(readJson(path.join(dir, 'jest-gpu.json'))),
    bench: bench(readJson(path.join(dir, 'bench-cuda.json'))),
  };
}

if (require.main === module) {
  const dir = process.argv[2] || process.env.OUT || '/tmp/gpu-check';
  const summary = summarize(dir);
  const text = `${JSON.stringify(summary, null, 2)}\n`;
  fs.writeFileSync(path.join(dir, 'gpu.json'), text);
  process.stdout.write(text);
}

module.exports = { summarize };
