// Runs a snippet in a fresh node process that loads lib/ from its TypeScript
// sources (transpiled on the fly: no build needed, and the sources under test
// are what runs), with its own environment: for what is decided once per
// process (GPU discovery, the 'auto' device, warnings). The snippet sees `cr`
// (the package), `out` (printed back as JSON, with the warnings the process
// emitted) and `attempt(name, fn)` (records fn's error, or null).
import { spawnSync } from 'child_process';
import * as path from 'path';

export function runChild(body: string, env: NodeJS.ProcessEnv, timeoutMs = 120000): { out: Record<string, unknown>; stderr: string } {
  const root = path.join(__dirname, '..', '..');
  const script = `
const ts = require(${JSON.stringify(require.resolve('typescript'))});
const fs = require('fs');
require.extensions['.ts'] = (m, file) => m._compile(ts.transpileModule(fs.readFileSync(file, 'utf8'), {
  compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true }, fileName: file }).outputText, file);
const cr = require(${JSON.stringify(path.join(root, 'lib', 'index.ts'))});
const warnings = [];
process.on('warning', (w) => warnings.push({ name: w.name, code: w.code, message: w.message }));
const out = { warnings };
const attempt = (name, fn) => { try { fn(); out[name] = null; } catch (e) { out[name] = { code: e.code, name: e.name, message: e.message }; } };
${body}
setImmediate(() => process.stdout.write(JSON.stringify(out) + '\\n'));
`;
  const r = spawnSync(process.execPath, ['-e', script], { cwd: root, env, encoding: 'utf8', timeout: timeoutMs });
  if (r.status !== 0) throw new Error(`child failed (${r.status}):\n${r.stderr}`);
  return { out: JSON.parse(r.stdout.trim().split('\n').pop() as string) as Record<string, unknown>, stderr: r.stderr };
}
