// The one-call GPU report (scripts/gpu-check.sh): the bench writes its run as
// JSON (--json PATH, every config it prints), and scripts/gpu-summary.js
// folds versions(), the GPU suites' jest JSON and the bench JSON into
// $OUT/gpu.json. Checked on the CPU: the summary from made-up inputs, the
// bench's JSON from a short CPU run where dist/ is built.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const root = path.join(__dirname, '..');
const hasDist = fs.existsSync(path.join(root, 'dist', 'cjs', 'index.js'));
if (!hasDist) console.log('gpu-report: dist/ is not built (npm run build:ts); the bench --json case is skipped');

let tmp = '';
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cudnn-rnn-report-'));
});
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

function runSummary(dir: string): Record<string, any> {
  const r = spawnSync(process.execPath, [path.join(root, 'scripts', 'gpu-summary.js'), dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`gpu-summary failed:\n${r.stderr}`);
  const written = JSON.parse(fs.readFileSync(path.join(dir, 'gpu.json'), 'utf8'));
  expect(JSON.parse(r.stdout)).toEqual(written);
  return written;
}

const lib = (version: string, cudaVersion: string, tried: string[] = []) => ({
  found: true, path: `/x/${version}.so`, version, major: Number(version.split('.')[0]), versionCode: 0, cudaVersion, source: 'pip wheel', reason: '', tried, searched: [],
});

describe('scripts/gpu-summary.js', () => {
  it('folds versions, the GPU suites and every bench config into gpu.json', () => {
    const dir = path.join(tmp, 'full');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'commit'), 'abc123\n');
    fs.writeFileSync(path.join(dir, 'versions.json'), JSON.stringify({
      cuda: {
        available: true, reason: '', causes: [],
        driver: { found: true, initialized: true, path: '', version: '580.65.06', cudaVersion: '13.0', reason: '', tried: [] },
        devices: [{ index: 0, name: 'NVIDIA H100 80GB HBM3', totalMemory: 85e9, computeCapability: '9.0' }],
        cudnn: lib('9.13.0', '13.0'),
        cublas: lib('13.0.2', '13.0', ['/y/libcublas.so.12: cuBLAS 12.8.4 (...) does not match any usable cuDNN (...) (skipped)']),
        runtime: { version: '13.0', reason: '' },
        probe: { ran: true, ok: true },
      },
    }));
    fs.writeFileSync(path.join(dir, 'jest-gpu.json'), JSON.stringify({
      numPassedTests: 40, numFailedTests: 1, numPendingTests: 2, numTodoTests: 0, numTotalTests: 43, numFailedTestSuites: 1,
      testResults: [{ name: '/r/test/cuda-gpu-rnn.test.ts', status: 'failed', message: '', assertionResults: [{ status: 'failed', fullName: 'GRU parity float32' }, { status: 'passed', fullName: 'ok' }] }],
    }));
    fs.writeFileSync(path.join(dir, 'bench-cuda.json'), JSON.stringify({
      device: 'cuda', rounds: 2, torch: { version: '2.8.0', cudnn: 91300 }, targets: 'met',
      configs: [
        { name: 'gru-small', forwardMs: 0.5, trainMs: 1.5, rawMs: 0.49, overheadUs: 10, torch: { forwardMs: 0.6, trainMs: 1.5 }, ratio: { forward: 1.2, train: 1 } },
        { name: 'lstm-large', forwardMs: 5, trainMs: 15, rawMs: 4.98, overheadUs: 20, torch: null, ratio: { forward: null, train: null } },
      ],
    }));
    const s = runSummary(dir);
    expect(s.commit).toBe('abc123');
    expect(s.device).toMatchObject({ name: 'NVIDIA H100 80GB HBM3', computeCapability: '9.0' });
    expect(s.driver).toMatchObject({ version: '580.65.06', cudaVersion: '13.0' });
    expect(s.cudnn).toMatchObject({ version: '9.13.0', cudaVersion: '13.0' });
    expect(s.cublas.skipped).toHaveLength(1);
    expect(s.probe).toEqual({ ran: true, ok: true });
    expect(s.tests).toEqual({ passed: 40, failed: 1, skipped: 2, total: 43, suitesFailed: 1, failures: ['cuda-gpu-rnn.test.ts: GRU parity float32'] });
    expect(s.bench.configs.map((c: { name: string }) => c.name)).toEqual(['gru-small', 'lstm-large']);
    expect(s.bench.configs[0]).toEqual({ name: 'gru-small', forwardMs: 0.5, torchForwardMs: 0.6, forwardRatio: 1.2, trainMs: 1.5, torchTrainMs: 1.5, trainRatio: 1, overheadUs: 10 });
    expect(s.bench.configs[1].torchForwardMs).toBeNull();
    expect(s.bench.overheadUs).toEqual({ median: 15, max: 20 });
  });

  it('a step that did not finish is an error in its place, not a crash', () => {
    const dir = path.join(tmp, 'empty');
    fs.mkdirSync(dir);
    const s = runSummary(dir);
    expect(s.commit).toBe('unknown');
    expect(s.error).toMatch(/versions\.json: not written/);
    expect(s.tests.error).toMatch(/jest-gpu\.json: not written/);
    expect(s.bench.error).toMatch(/bench-cuda\.json: not written/);
  });
});

describe('scripts/gpu-check.sh', () => {
  it('is valid bash, writes what the summary reads, and bounds each long step', () => {
    const file = path.join(root, 'scripts', 'gpu-check.sh');
    expect(spawnSync('bash', ['-n', file]).status).toBe(0);
    const text = fs.readFileSync(file, 'utf8');
    for (const piece of ['$OUT/versions.json', '--outputFile "$OUT/jest-gpu.json"', '--json "$OUT/bench-cuda.json"', '"$OUT/commit"', 'scripts/gpu-summary.js "$OUT"']) {
      expect(text).toContain(piece);
    }
    // Every bounded step together, plus 90 s to unpack node, within one 10-minute call.
    const jest = Number(/JEST_TIMEOUT_S:-(\d+)/.exec(text)?.[1]);
    const bench = Number(/BENCH_TIMEOUT_S:-(\d+)/.exec(text)?.[1]);
    const fixed = [...text.matchAll(/^timeout (\d+) /gm)].map((m) => Number(m[1]));
    expect(fixed).toHaveLength(2);
    expect(jest + bench + fixed.reduce((a, b) => a + b, 0) + 90).toBeLessThanOrEqual(600);
  });
});

describe('bench/run.js --json', () => {
  (hasDist ? it : it.skip)('writes every config it ran, with our times and the peers\' (none here)', () => {
    const file = path.join(tmp, 'bench.json');
    const r = spawnSync(process.execPath, [path.join(root, 'bench', 'run.js'), '--device', 'cpu', '--only', 'gru-latency', '--runs', '3', '--rounds', '1', '--no-peers', '--json', file],
      { encoding: 'utf8', cwd: root, timeout: 120000 });
    expect(r.status).toBe(0);
    const b = JSON.parse(fs.readFileSync(file, 'utf8'));
    expect(b.device).toBe('cpu');
    expect(b.torch).toEqual({ error: 'skipped (--no-peers)' });
    expect(b.configs).toHaveLength(1);
    expect(b.configs[0]).toMatchObject({ name: 'gru-latency', shape: { mode: 'GRU', H: 64 }, torch: null, ratio: { forward: null, train: null } });
    expect(b.configs[0].forwardMs).toBeGreaterThan(0);
    expect(b.configs[0].trainMs).toBeGreaterThan(0);
  }, 130000);
});
