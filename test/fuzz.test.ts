// The reliability fuzz suite: a few thousand seeded calls through the public
// API, most of them wrong, in child processes so that a crash or a hang is a
// failure naming its case. Every call must return PyTorch's result or throw
// an Error naming its argument (never a raw JS or native message, never a
// silently wrong value). Plus the scenarios a single call cannot express:
// training across to(), memory reclaimed without tidy(), concurrent
// forwardAsync, tidy() given async work, and a save that fails half-way.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runChild } from './helpers/child';
import { FuzzCase, runFuzzChild } from './helpers/fuzz-runner';
import { generateCases, GENERATORS } from './fuzz/cases';

const SEED = 20261207;
const CHUNK = 800;

const cases = generateCases(SEED);
const chunks: FuzzCase[][] = [];
for (let i = 0; i < cases.length; i += CHUNK) chunks.push(cases.slice(i, i + CHUNK));

test('the suite covers every class and makes a few thousand calls', () => {
  expect(cases.length).toBeGreaterThanOrEqual(3000);
  const names = new Set(cases.map((c) => c.id.split('#')[0]));
  expect([...names]).toEqual(GENERATORS.map(([name]) => name));
  expect(cases.filter((c) => c.expect === 'error').length).toBeGreaterThan(1000);
});

describe.each(chunks.map((c, i) => [i, c] as const))('fuzz chunk %i', (_i, chunk) => {
  test(`${chunk[0].id} .. ${chunk[chunk.length - 1].id}: no crash, no hang, no silent wrong result, every error names its argument`, () => {
    const report = runFuzzChild(chunk);
    expect(report.failures.slice(0, 20)).toEqual([]);
  }, 120_000);
});

test('without tidy(), a training loop that never yields stays bounded and memory() shows what the GC reclaimed', () => {
  const { out } = runChild(`
const { nn, optim, randn, memory } = cr;
const gru = new nn.GRU(16, 32, 2);
const opt = new optim.Adam(gru.parameters());
const samples = [];
for (let i = 1; i <= 150; ++i) {
  const [y] = gru.forward(randn([20, 8, 16]));
  const loss = y.square().mean();
  opt.zeroGrad();
  loss.backward();
  opt.step();
  if (i % 30 === 0) samples.push(memory());
}
out.samples = samples;
`, { ...process.env, CUDNN_RNN_GC_PRESSURE_MB: '8' });
  const samples = out.samples as Array<{ numBytes: number; numTensors: number; reclaimedByGc: number }>;
  // Each step leaves ~1.2 MB behind; 150 steps without reclaim would hold ~180 MB.
  for (const s of samples) expect(s.numBytes).toBeLessThan(40 * 1024 * 1024);
  expect(samples[samples.length - 1].reclaimedByGc).toBeGreaterThan(100);
  // Tensor counts follow what was reclaimed (no growth from the first sample on).
  expect(samples[samples.length - 1].numTensors).toBeLessThan(samples[0].numTensors * 2 + 200);
}, 120_000);

test('tidy() refuses async work at once, and the abandoned forwardAsync neither crashes nor leaks', () => {
  const { out } = runChild(`
const gru = new cr.nn.GRU(4, 8, { batchFirst: true });
const before = cr.memory().numTensors;
attempt('tidy', () => cr.tidy(() => gru.forwardAsync(cr.randn([2, 3, 4]))));
setTimeout(() => { out.leaked = cr.memory().numTensors - before; console.log(JSON.stringify(out)); }, 300);
`, process.env);
  expect((out.tidy as { message: string }).message).toMatch(/tidy: fn must not return a Promise/);
  expect(out.leaked).toBe(0);
});

test('200 concurrent forwardAsync calls give the synchronous results', () => {
  const { out } = runChild(`
cr.manualSeed(1);
const gru = new cr.nn.GRU(8, 16, 2).eval();
const xs = Array.from({ length: 200 }, () => cr.randn([5, 2, 8]));
const expected = xs.map((x) => cr.noGrad(() => cr.tidy(() => Array.from(gru.forward(x)[0].dataSync()))));
Promise.all(xs.map((x) => cr.noGrad(() => gru.forwardAsync(x)))).then((results) => {
  out.mismatches = results.filter(([y], i) => y.dataSync().some((v, k) => v !== expected[i][k])).length;
  results.forEach((r) => r.forEach((t) => t.dispose()));
  out.count = results.length;
  console.log(JSON.stringify(out));
});
`, process.env);
  expect(out.count).toBe(200);
  expect(out.mismatches).toBe(0);
});

describe('a failed save keeps the previous checkpoint', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cudnn-rnn-save-'));
  const file = path.join(dir, 'model.safetensors');
  const libIndex = JSON.stringify(path.join(__dirname, '..', 'lib', 'index.ts'));
  const loader = `const ts = require(${JSON.stringify(require.resolve('typescript'))}); const fs = require('fs');
require.extensions['.ts'] = (m, file) => m._compile(ts.transpileModule(fs.readFileSync(file, 'utf8'), { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true }, fileName: file }).outputText, file);
const cr = require(${libIndex});`;
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  function writeOld(): Buffer {
    const r = spawnSync(process.execPath, ['-e', `${loader} cr.save({ old: cr.arange(10) }, ${JSON.stringify(file)});`], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    return fs.readFileSync(file);
  }
  function expectOldIntact(old: Buffer): void {
    expect(fs.readFileSync(file).equals(old)).toBe(true);
    expect(fs.readdirSync(dir).filter((f) => f !== 'model.safetensors')).toEqual([]);
  }

  test('over a file-size limit', () => {
    const old = writeOld();
    // ulimit -f counts 512-byte blocks: the new file (4 MB) cannot be written.
    const script = `${loader} cr.save({ big: cr.zeros([1000000]) }, ${JSON.stringify(file)});`;
    const r = spawnSync('/bin/sh', ['-c', `ulimit -f 64; exec "${process.execPath}" -e "$SCRIPT"`], { env: { ...process.env, SCRIPT: script }, encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expectOldIntact(old);
  });

  test('killed mid-write', () => {
    const old = writeOld();
    // Each tensor is written after the previous one: a kill lands between or inside writes.
    const script = `${loader} const t = {}; for (let i = 0; i < 400; ++i) t['w' + i] = cr.zeros([250000]);
process.stdout.write('ready\\n'); cr.save(t, ${JSON.stringify(file)});`;
    const r = spawnSync('/bin/sh', ['-c', `"${process.execPath}" -e "$SCRIPT" & pid=$!; sleep 1.5; kill -9 $pid; wait $pid; exit 0`], { env: { ...process.env, SCRIPT: script }, encoding: 'utf8' });
    expect(r.status).toBe(0);
    // A kill before rename leaves the temporary file behind (never the target half-written); the target is the old file.
    expect(fs.readFileSync(file).equals(old)).toBe(true);
    for (const f of fs.readdirSync(dir)) if (f !== 'model.safetensors') fs.rmSync(path.join(dir, f));
  });
});
