// The published shape: CommonJS and ESM entry points by package name, and a
// prebuild in prebuildify's layout that node-gyp-build finds on its own.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const root = path.join(__dirname, '..');
const node = (args: string[], env: NodeJS.ProcessEnv = {}): string =>
  execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8', env: { ...process.env, ...env } }).trim();

test('ESM: named imports and the default export', () => {
  const out = node(['--input-type=module', '-e',
    "import { tensor, nn, manualSeed } from 'cudnn-rnn'; import lib from 'cudnn-rnn'; manualSeed(0); " +
    "console.log(tensor([1, 2]).toString(), typeof nn.GRU, typeof lib.rand)"]);
  expect(out).toBe('tensor([1., 2.]) function function');
});

test('CommonJS: require by name, with types beside it', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  expect(pkg.exports['.'].types).toBe('./dist/cjs/index.d.ts');
  expect(fs.existsSync(path.join(root, pkg.exports['.'].types))).toBe(true);
  expect(node(['-e', "console.log(typeof require('cudnn-rnn').nn.RNN)"])).toBe('function');
});

test('npm run prebuild writes prebuilds/<platform>-<arch>/cudnn-rnn.node, which loads alone', () => {
  const dir = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`);
  const existed = fs.existsSync(dir);
  try {
    node([path.join(root, 'scripts', 'prebuild.js')]);
    expect(fs.existsSync(path.join(dir, 'cudnn-rnn.node'))).toBe(true);
    // PREBUILDS_ONLY makes node-gyp-build ignore build/Release.
    const out = node(['-e', "const c = require('cudnn-rnn'); const g = new c.nn.GRU(2, 3); console.log(g.forward(c.ones([4, 1, 2]))[0].shape.join('x'))"], { PREBUILDS_ONLY: '1' });
    expect(out).toBe('4x1x3');
  } finally {
    if (!existed) fs.rmSync(path.join(root, 'prebuilds'), { recursive: true, force: true });
  }
});
