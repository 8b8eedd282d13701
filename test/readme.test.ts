// The README's tour must run as written: extract its first js block and run
// it with node from the package root (require('cudnn-rnn') resolves to this
// package by name), checking the outputs its comments promise.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const root = path.join(__dirname, '..');

test('the README tour runs and prints what its comments say', () => {
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  const block = /```js\n([\s\S]*?)```/.exec(readme);
  expect(block).not.toBeNull();
  const out = execFileSync(process.execPath, ['-e', (block as RegExpExecArray)[1]], { cwd: root, encoding: 'utf8' });
  const lines = out.trim().split('\n');
  expect(lines[0]).toBe('GRU(8, 16, num_layers=2, batch_first=True)');
  expect(lines[1]).toBe('[ 48, 8 ]');
  expect(lines[2]).toBe('number');
});

test('the README\'s cell example runs and prints what its comments say', () => {
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  const block = /## Recurrent cells[\s\S]*?```js\n([\s\S]*?)```/.exec(readme);
  expect(block).not.toBeNull();
  const out = execFileSync(process.execPath, ['-e', (block as RegExpExecArray)[1]], { cwd: root, encoding: 'utf8' });
  expect(out.trim().split('\n')).toEqual(['[ 6, 3, 20 ]', '[ 80, 20 ]', 'RNNCell(4, 8, bias=False, nonlinearity=relu)']);
});

test("the README's packing snippet runs and prints what its comments say", () => {
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  const block = /## Packing variable-length sequences[\s\S]*?```js\n([\s\S]*?)```/.exec(readme);
  expect(block).not.toBeNull();
  const code = (block as RegExpExecArray)[1];
  const out = execFileSync(process.execPath, ['-e', code], { cwd: root, encoding: 'utf8' });
  // Each console.log line ends with a comment giving what it prints.
  const promised = code.split('\n').filter((l) => l.startsWith('console.log(')).map((l) => l.split('// ')[1].trim());
  expect(out.trim().split('\n')).toEqual(promised);
});

test("the README's packed-RNN example runs and prints what its comments say", () => {
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  const block = /## Packing variable-length sequences[\s\S]*?```js\n[\s\S]*?```[\s\S]*?```js\n([\s\S]*?)```/.exec(readme);
  expect(block).not.toBeNull();
  const code = (block as RegExpExecArray)[1];
  expect(code).toContain('lstm.forward(packed)');
  const out = execFileSync(process.execPath, ['-e', code], { cwd: root, encoding: 'utf8' });
  const promised = code.split('\n').filter((l) => l.startsWith('console.log(')).map((l) => l.split('// ')[1].trim());
  expect(out.trim().split('\n')).toEqual(promised);
});

test('the README nn.LSTM example runs and prints what its comments say', () => {
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('\n## nn.LSTM\n'));
  const block = /```js\n([\s\S]*?)```/.exec(section);
  expect(readme.includes('\n## nn.LSTM\n') && block !== null).toBe(true);
  const out = execFileSync(process.execPath, ['-e', (block as RegExpExecArray)[1]], { cwd: root, encoding: 'utf8' });
  expect(out.trim().split('\n')).toEqual([
    'LSTM(10, 20, proj_size=5, num_layers=2)',
    '[ 7, 3, 5 ] [ 2, 3, 5 ] [ 2, 3, 20 ]',
    '[ 5, 20 ]',
  ]);
});
