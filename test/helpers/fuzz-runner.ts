// Runs fuzz cases in a child node process (lib/ loaded from its TypeScript
// sources, as in child.ts), so that a crash or a hang is a failure naming the
// case that caused it instead of taking jest down. Each case is the body of a
// function of (cr, h, native) and says what must happen:
//   'ok'     it returns (its own h.assert checks the values);
//   'error'  it throws a clean error (an Error, no raw JS/native message) whose
//            message matches `arg`: the argument must be named;
//   'either' it returns or throws a clean error (broad fuzzing).
import { spawnSync } from 'child_process';
import * as path from 'path';

export interface FuzzCase {
  id: string;
  code: string;
  expect: 'ok' | 'error' | 'either';
  /** Regex source the error message must match (expect 'error'). */
  arg?: string;
  /** Native messages are expected (direct calls into the addon). */
  native?: boolean;
}

export interface FuzzReport {
  ran: number;
  failures: string[];
}

const root = path.join(__dirname, '..', '..');

const childScript = `
const ts = require(${JSON.stringify(require.resolve('typescript'))});
const fs = require('fs');
require.extensions['.ts'] = (m, file) => m._compile(ts.transpileModule(fs.readFileSync(file, 'utf8'), {
  compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true }, fileName: file }).outputText, file);
const cr = require(${JSON.stringify(path.join(root, 'lib', 'index.ts'))});
const { native } = require(${JSON.stringify(path.join(root, 'lib', 'native.ts'))});
process.on('warning', () => {});
// Messages that mean an argument reached code that never checked it.
const RAW = /Cannot read prop|Cannot set prop|is not a function|is not iterable|is not a constructor|Maximum call stack|Invalid array length|Invalid typed array length|Cannot convert|of undefined|of null|cudnn-rnn native|A native exception|std::/;
class CheckFailed extends Error {}
const h = {
  assert(cond, what) { if (!cond) throw new CheckFailed(what); },
  finite(t) { return Array.from(t.dataSync()).every(Number.isFinite); },
  sane(t) { return t.dataSync().length === t.shape.reduce((a, b) => a * b, 1) && t.shape.every((s) => Number.isInteger(s) && s >= 0); },
  same(a, b) { return a.length === b.length && Array.from(a).every((v, i) => Object.is(v, b[i])); },
  disposed(shape = [2]) { const t = cr.zeros(shape); t.dispose(); return t; },
  fake() { return { shape: [2], strides: [1], dtype: 'float32', offset: 0, dataSync: () => new Float32Array(2) }; },
  protoFake() { return Object.create(cr.Tensor.prototype); },
  deep(n) { let a = [1]; for (let i = 1; i < n; ++i) a = [a]; return a; },
};
const cases = JSON.parse(fs.readFileSync(0, 'utf8'));
const say = (o) => fs.writeSync(1, JSON.stringify(o) + '\\n');
(async () => {
  for (const c of cases) {
    say({ start: c.id });
    let value, error = null;
    try {
      value = new Function('cr', 'h', 'native', c.code)(cr, h, native);
      if (value instanceof Promise) value = await value;
    } catch (e) {
      error = e;
    }
    let why = null;
    if (error instanceof CheckFailed) why = 'wrong result: ' + error.message;
    else if (error === null && c.expect === 'error') why = 'no error (a silent result instead)';
    else if (error !== null && c.expect === 'ok') why = 'unexpected error: ' + (error && error.message);
    else if (error !== null) {
      const msg = String(error && error.message);
      if (!(error instanceof Error)) why = 'threw a non-Error: ' + String(error);
      else if (!c.native && RAW.test(msg)) why = 'raw error: ' + error.name + ': ' + msg;
      else if (c.expect === 'error' && c.arg && !new RegExp(c.arg).test(msg)) why = 'error does not name ' + c.arg + ': ' + msg;
    }
    if (why !== null) say({ fail: c.id, why: why.slice(0, 400) });
  }
  say({ done: cases.length });
})().catch((e) => { say({ fatal: String(e && e.stack) }); process.exitCode = 1; });
`;

/** Runs the cases in one child process; crashes, hangs and wrong outcomes come back as failures. */
export function runFuzzChild(cases: FuzzCase[], env: NodeJS.ProcessEnv = process.env, timeoutMs = 90000): FuzzReport {
  const r = spawnSync(process.execPath, ['-e', childScript], {
    cwd: root, env, input: JSON.stringify(cases), encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024,
  });
  const failures: string[] = [];
  let last: string | null = null;
  let done = false;
  for (const line of (r.stdout ?? '').split('\n')) {
    if (!line.startsWith('{')) continue;
    const o = JSON.parse(line) as { start?: string; fail?: string; why?: string; done?: number; fatal?: string };
    if (o.start !== undefined) last = o.start;
    if (o.fail !== undefined) failures.push(`${o.fail}: ${o.why}`);
    if (o.fatal !== undefined) failures.push(`runner: ${o.fatal}`);
    if (o.done !== undefined) done = true;
  }
  if (!done) {
    const how = r.error !== undefined && (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT' ? 'hang (timed out)' : `crash (status ${r.status}, signal ${r.signal})`;
    const code = cases.find((c) => c.id === last)?.code ?? '';
    failures.push(`${last ?? 'before the first case'}: ${how} in\n${code}\n${(r.stderr ?? '').slice(-2000)}`);
  }
  return { ran: cases.length, failures };
}
