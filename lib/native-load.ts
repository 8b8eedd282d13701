// Finding and loading the compiled addon. node-gyp-build picks one binary
// (build/Release first, then prebuilds/<platform>-<arch>/); when that fails
// every other candidate is tried, and when none loads the error names the
// package, the platform, what was tried and the fixes, instead of
// node-gyp-build's bare "No native build was found".
import * as fs from 'fs';
import * as path from 'path';

import { CodedError } from './errors';

function nodeFiles(dir: string): string[] {
  try {
    return fs.readdirSync(dir).filter((f) => f.endsWith('.node')).sort().map((f) => path.join(dir, f));
  } catch {
    return [];
  }
}

/** Every binary this package could load here, in node-gyp-build's order. */
export function candidates(root: string): string[] {
  const prebuilds = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`);
  const local = process.env.PREBUILDS_ONLY ? [] : [...nodeFiles(path.join(root, 'build', 'Release')), ...nodeFiles(path.join(root, 'build', 'Debug'))];
  return [...local, ...nodeFiles(prebuilds)];
}

function glibcRuntime(): string {
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  return report?.header?.glibcVersionRuntime ?? '';
}

function firstLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n').find((l) => l.trim().length > 0)?.trim() ?? message;
}

/** The error thrown when no binary loads (code ERR_CUDNN_RNN_NO_BINARY). */
export function noBinaryError(root: string, tried: Array<[string, string]>): CodedError {
  const glibc = glibcRuntime();
  const where = `${process.platform}-${process.arch}${glibc ? `, glibc ${glibc}` : ''}, Node ${process.versions.node} (Node-API ${process.versions.napi ?? '?'})`;
  const lines = [`cudnn-rnn: no native binary loads on this machine (${where}).`];
  if (tried.length === 0) {
    lines.push(`Tried: nothing found: no build/Release/*.node and no prebuilds/${process.platform}-${process.arch}/*.node in ${root}`);
  } else {
    lines.push('Tried:');
    for (const [file, why] of tried) lines.push(`  - ${path.relative(root, file)}: ${why}`);
  }
  const supported = process.platform === 'linux' && process.arch === 'x64';
  lines.push('Fixes:');
  if (supported) {
    lines.push('  - reinstall the package (npm install cudnn-rnn): its prebuilt binary supports Linux x64 with glibc >= 2.28 and Node ^20.17.0 || >=22.9.0');
  } else {
    lines.push(`  - cudnn-rnn ships a prebuilt binary for Linux x64 (glibc) only; on ${process.platform}-${process.arch} it must be built from source`);
  }
  lines.push('  - or build it on this machine: npm rebuild cudnn-rnn --build-from-source (needs cmake >= 3.18 and a C++17 compiler: apt-get install cmake g++)');
  return new CodedError(lines.join('\n'), 'ERR_CUDNN_RNN_NO_BINARY');
}

/**
 * node-gyp-build's choice, else the first other candidate that loads (with a
 * warning naming what failed), else noBinaryError.
 */
export function loadAddon<T>(root: string): T {
  const tried: Array<[string, string]> = [];
  let chosen = '';
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const nodeGypBuild = require('node-gyp-build') as { (dir: string): T; resolve(dir: string): string };
    chosen = nodeGypBuild.resolve(root);
    return require(chosen) as T;
  } catch (err) {
    if (chosen) tried.push([chosen, firstLine(err)]);
  }
  for (const file of candidates(root)) {
    if (file === chosen) continue;
    try {
      const addon = require(file) as T;
      process.emitWarning(`cudnn-rnn: ${path.relative(root, chosen)} did not load (${tried[0]?.[1] ?? 'unknown error'}); using ${path.relative(root, file)}`,
        { code: 'CUDNN_RNN_BINARY_FALLBACK' });
      return addon;
    } catch (err) {
      tried.push([file, firstLine(err)]);
    }
  }
  throw noBinaryError(root, tried);
}
