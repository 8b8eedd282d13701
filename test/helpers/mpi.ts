// Runs a snippet under `mpirun -np N`: every rank loads lib/ from its
// TypeScript sources (as helpers/child.ts does), runs the body, and writes
// `out` as JSON to a file of its own (mpirun interleaves long stdout lines of
// several ranks). Tests assert on every rank's results.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export function mpirunPath(): string | null {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const p = path.join(dir, 'mpirun');
    if (dir && fs.existsSync(p)) return p;
  }
  return null;
}

export interface MpiRun {
  status: number | null;
  timedOut: boolean;
  ms: number;
  results: Array<Record<string, unknown>>;
  stdout: string;
  stderr: string;
}

/** mpirun's own flags for this machine: oversubscribed 2-core CI, root in containers. */
export function mpirunFlags(np: number): string[] {
  const flags = ['--oversubscribe', '-np', String(np)];
  if (process.getuid?.() === 0) flags.unshift('--allow-run-as-root');
  return flags;
}

export function runMpi(np: number, body: string, timeoutMs = 120000): MpiRun {
  const root = path.join(__dirname, '..', '..');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cudnn-rnn-mpi-'));
  const script = path.join(dir, 'rank.js');
  fs.writeFileSync(script, `
const ts = require(${JSON.stringify(require.resolve('typescript'))});
const fs = require('fs');
require.extensions['.ts'] = (m, file) => m._compile(ts.transpileModule(fs.readFileSync(file, 'utf8'), {
  compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true }, fileName: file }).outputText, file);
const cr = require(${JSON.stringify(path.join(root, 'lib', 'index.ts'))});
const out = {};
const attempt = (name, fn) => { try { fn(); out[name] = null; } catch (e) { out[name] = { code: e.code, message: e.message }; } };
const done = () => fs.writeFileSync(require('path').join(${JSON.stringify(dir)}, 'result-' + process.pid + '.json'), JSON.stringify(out));
(async () => {
${body}
})().then(done);
`);
  const started = Date.now();
  const r = spawnSync('mpirun', [...mpirunFlags(np), process.execPath, script], { cwd: root, encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL', env: { ...process.env, OMPI_MCA_btl_vader_single_copy_mechanism: 'none' } });
  const ms = Date.now() - started;
  const stdout = r.stdout ?? '';
  const results = fs
    .readdirSync(dir)
    .filter((f) => f.startsWith('result-'))
    .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as Record<string, unknown>)
    .sort((a, b) => (a.rank as number) - (b.rank as number));
  fs.rmSync(dir, { recursive: true, force: true });
  return { status: r.status, timedOut: r.error !== undefined && (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT', ms, results, stdout, stderr: r.stderr ?? '' };
}
