// A copy of the built package in a temporary folder (package.json, dist/,
// bin/ and a link to node_modules), so that tests can try binary layouts
// without writing into this checkout's build/ or prebuilds/.
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export const root = path.join(__dirname, '..', '..');

export function packageCopy(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cudnn-rnn-pkg-'));
  fs.copyFileSync(path.join(root, 'package.json'), path.join(dir, 'package.json'));
  fs.cpSync(path.join(root, 'dist'), path.join(dir, 'dist'), { recursive: true });
  fs.cpSync(path.join(root, 'bin'), path.join(dir, 'bin'), { recursive: true });
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  return dir;
}

/** The binary this checkout loads (what node-gyp-build picks). */
export function loadedBinary(): string {
  return execFileSync(process.execPath, ['-p', "require('node-gyp-build').resolve(process.argv[1])", root], { encoding: 'utf8' }).trim();
}

/** Runs `node args` in dir; never throws. */
export function runNode(dir: string, args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, args, { cwd: dir, encoding: 'utf8', env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
