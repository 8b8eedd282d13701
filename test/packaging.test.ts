// The published shape: CommonJS and ESM entry points by package name with
// types for each, package.json fields, the tarball's files, prebuilds in
// prebuildify's layout that node-gyp-build finds, our own error when no
// binary loads, and when the install step compiles. Nothing here writes into
// this checkout's build/ or prebuilds/ (test/helpers/package-copy.ts).
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { loadedBinary, packageCopy, root, runNode } from './helpers/package-copy';

// eslint-disable-next-line @typescript-eslint/no-var-requires
const install = require('../scripts/install.js') as {
  buildFromSourceRequested(env: NodeJS.ProcessEnv): boolean;
  cpuOnlyRequested(env: NodeJS.ProcessEnv): boolean;
  decide(env: NodeJS.ProcessEnv, loadError: string | null): { action: 'keep' | 'compile'; why: string };
};

const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const node = (args: string[], env: NodeJS.ProcessEnv = {}): string =>
  execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8', env: { ...process.env, ...env } }).trim();
const GRU_STEP = "const c = require('cudnn-rnn'); const g = new c.nn.GRU(2, 3); console.log(g.forward(c.ones([4, 1, 2]))[0].shape.join('x'))";

const copies: string[] = [];
afterAll(() => copies.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
function copy(): string {
  const d = packageCopy();
  copies.push(d);
  return d;
}

test('ESM: named imports and the default export', () => {
  const out = node(['--input-type=module', '-e',
    "import { tensor, nn, manualSeed } from 'cudnn-rnn'; import lib from 'cudnn-rnn'; manualSeed(0); " +
    "console.log(tensor([1, 2]).toString(), typeof nn.GRU, typeof lib.rand)"]);
  expect(out).toBe('tensor([1., 2.]) function function');
});

test('CommonJS: require by name; each condition has its own types (.d.ts for require, .d.mts for import)', () => {
  const entry = pkg.exports['.'];
  expect(entry.require).toEqual({ types: './dist/cjs/index.d.ts', default: './dist/cjs/index.js' });
  expect(entry.import).toEqual({ types: './dist/esm/index.d.mts', default: './dist/esm/index.mjs' });
  for (const f of [entry.require.types, entry.require.default, entry.import.types, entry.import.default]) {
    expect(fs.existsSync(path.join(root, f))).toBe(true);
  }
  expect(node(['-e', "console.log(typeof require('cudnn-rnn').nn.RNN)"])).toBe('function');
});

test('package.json: engines as cmake-js 8 needs, os/cpu, bin path, license, no npm `prebuild` hook', () => {
  expect(pkg.engines.node).toBe('^20.17.0 || >=22.9.0');
  expect(pkg.os).toEqual(['linux']);
  expect(pkg.cpu).toEqual(['x64']);
  expect(pkg.bin['cudnn-rnn']).toBe('bin/cudnn-rnn.js');
  expect(pkg.license).toBe('MIT');
  expect(fs.readFileSync(path.join(root, 'LICENSE'), 'utf8')).toMatch(/^MIT License/);
  // npm runs a script named `prebuild` before `build`.
  expect(pkg.scripts.prebuild).toBeUndefined();
  expect(pkg.scripts['build:prebuild']).toMatch(/^prebuildify --napi --strip --tag-libc --node-gyp true --preinstall "cmake-js compile/);
  expect(pkg.scripts.prepack).toBe('node scripts/check-prebuild.js');
  expect(pkg.scripts.install).toBe('node scripts/install.js');
});

test('the tarball: LICENSE and the install script in, source maps only where their sources ship', () => {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' });
  const files = new Set<string>((JSON.parse(out)[0].files as Array<{ path: string }>).map((f) => f.path));
  for (const f of ['LICENSE', 'README.md', 'package.json', 'scripts/install.js', 'bin/cudnn-rnn.js', 'dist/cjs/index.js', 'dist/cjs/index.d.ts', 'dist/esm/index.mjs', 'dist/esm/index.d.mts', 'CMakeLists.txt']) {
    expect(files.has(f)).toBe(true);
  }
  expect([...files].filter((f) => f.startsWith('test/') || f.startsWith('build/'))).toEqual([]);
  const maps = [...files].filter((f) => f.endsWith('.map'));
  expect(maps.length).toBeGreaterThan(0);
  const unshipped: string[] = [];
  for (const m of maps) {
    const map = JSON.parse(fs.readFileSync(path.join(root, m), 'utf8')) as { sources: string[]; sourceRoot?: string };
    for (const s of map.sources) {
      const source = path.posix.normalize(path.posix.join(path.posix.dirname(m), map.sourceRoot ?? '', s));
      if (!files.has(source)) unshipped.push(`${m} -> ${source}`);
    }
  }
  expect(unshipped).toEqual([]);
});

test('are-the-types-wrong finds no problem in the packed package', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cudnn-rnn-attw-'));
  copies.push(dir);
  const name = execFileSync('npm', ['pack', '--ignore-scripts', '--pack-destination', dir], { cwd: root, encoding: 'utf8' }).trim().split('\n').pop() as string;
  const attw = path.join(root, 'node_modules', '@arethetypeswrong', 'cli', 'dist', 'index.js');
  const r = runNode(root, [attw, path.join(dir, name), '--format', 'json']);
  const report = JSON.parse(r.stdout) as { analysis: { problems: unknown[] } };
  expect(report.analysis.problems).toEqual([]);
  expect(r.status).toBe(0);
}, 120000);

test("a prebuild in prebuildify's layout (prebuilds/linux-x64/cudnn-rnn.glibc.node) loads alone", () => {
  const dir = copy();
  const target = path.join(dir, 'prebuilds', `${process.platform}-${process.arch}`, 'cudnn-rnn.glibc.node');
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.copyFileSync(loadedBinary(), target);
  const r = runNode(dir, ['-e', GRU_STEP], { PREBUILDS_ONLY: '1' });
  expect(r.stderr).toBe('');
  expect(r.stdout.trim()).toBe('4x1x3');
});

test('no binary at all: require throws our error naming the package, the platform, what was tried and the fixes', () => {
  const dir = copy();
  const r = runNode(dir, ['-e', "try { require('cudnn-rnn') } catch (e) { console.log(e.code); console.log(e.message) }"]);
  const [code, ...message] = r.stdout.trim().split('\n');
  expect(code).toBe('ERR_CUDNN_RNN_NO_BINARY');
  const text = message.join('\n');
  expect(text).toMatch(/^cudnn-rnn: no native binary loads on this machine \(linux-x64, glibc [\d.]+, Node [\d.]+ \(Node-API \d+\)\)/);
  expect(text).toContain('Tried: nothing found: no build/Release/*.node and no prebuilds/linux-x64/*.node');
  expect(text).toContain('npm rebuild cudnn-rnn --build-from-source');
  expect(text).not.toContain('No native build was found');
});

test('a binary that does not load: the error names it and the loader message', () => {
  const dir = copy();
  const target = path.join(dir, 'prebuilds', `${process.platform}-${process.arch}`, 'cudnn-rnn.glibc.node');
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.writeFileSync(target, 'not an ELF file');
  const r = runNode(dir, ['-e', "try { require('cudnn-rnn') } catch (e) { console.log(e.message) }"]);
  expect(r.stdout).toContain('Tried:\n  - prebuilds/linux-x64/cudnn-rnn.glibc.node: ');
  expect(r.stdout).toMatch(/invalid ELF header|file too short/);
});

test('a broken local build falls back to a prebuild that loads, with a warning', () => {
  const dir = copy();
  fs.mkdirSync(path.join(dir, 'build', 'Release'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'build', 'Release', 'cudnn_rnn.node'), 'not an ELF file');
  const target = path.join(dir, 'prebuilds', `${process.platform}-${process.arch}`, 'cudnn-rnn.glibc.node');
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.copyFileSync(loadedBinary(), target);
  const r = runNode(dir, ['-e', GRU_STEP]);
  expect(r.stdout.trim()).toBe('4x1x3');
  expect(r.stderr).toContain('CUDNN_RNN_BINARY_FALLBACK');
});

describe('the install step (scripts/install.js)', () => {
  test('keeps a binary that loads, compiles when none does', () => {
    expect(install.decide({}, null).action).toBe('keep');
    const plan = install.decide({}, 'Error: GLIBC_2.34 not found');
    expect(plan.action).toBe('compile');
    expect(plan.why).toContain('GLIBC_2.34 not found');
  });

  test("compiles on request, node-gyp-build's convention (--build-from-source, npm_config_build_from_source)", () => {
    expect(install.decide({ npm_config_build_from_source: 'true' }, null).action).toBe('compile');
    expect(install.decide({ npm_config_build_from_source: 'cudnn-rnn' }, null).action).toBe('compile');
    expect(install.decide({ npm_config_build_from_source: 'sharp,cudnn-rnn' }, null).action).toBe('compile');
    expect(install.decide({ npm_config_build_from_source: 'sharp' }, null).action).toBe('keep');
    expect(install.decide({ npm_config_build_from_source: 'false' }, null).action).toBe('keep');
    expect(install.decide({ npm_config_build_from_source: '' }, null).action).toBe('keep');
  });

  test('CUDNN_RNN_CPU_ONLY is the one switch for a CPU-only build', () => {
    for (const v of ['1', 'ON', 'true', 'yes']) expect(install.cpuOnlyRequested({ CUDNN_RNN_CPU_ONLY: v })).toBe(true);
    for (const v of ['', '0', 'OFF', 'false']) expect(install.cpuOnlyRequested({ CUDNN_RNN_CPU_ONLY: v })).toBe(false);
    expect(install.cpuOnlyRequested({})).toBe(false);
  });
});

describe('the prepack check (scripts/check-prebuild.js)', () => {
  // A copy of what the check reads: the scripts, the native sources and the prebuild.
  function checkCopy(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cudnn-rnn-prepack-'));
    copies.push(dir);
    for (const p of ['scripts', 'src', 'binding', 'CMakeLists.txt', 'package.json']) fs.cpSync(path.join(root, p), path.join(dir, p), { recursive: true });
    return dir;
  }
  const check = (dir: string) => runNode(dir, [path.join(dir, 'scripts', 'check-prebuild.js')]);

  test('refuses to pack without a prebuild', () => {
    const r = check(checkCopy());
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('prebuilds/linux-x64/cudnn-rnn.glibc.node is missing');
  });

  test('refuses a prebuild older than the sources; accepts a current one built with CUDA', () => {
    const dir = checkCopy();
    const target = path.join(dir, 'prebuilds', 'linux-x64', 'cudnn-rnn.glibc.node');
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.copyFileSync(loadedBinary(), target);
    const old = new Date(Date.now() - 3600e3);
    fs.utimesSync(target, old, old);
    let r = check(dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/cudnn-rnn\.glibc\.node is older than /);
    const now = new Date(Date.now() + 60e3);
    fs.utimesSync(target, now, now);
    r = check(dir);
    const withCuda = runNode(root, ['-p', "require('./dist/cjs/index.js').cuda.backendHasKernels()"]).stdout.trim() === 'true';
    if (withCuda) {
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    } else {
      expect(r.stderr).toContain('was built without the CUDA backend');
    }
  });
});
