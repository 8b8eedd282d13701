#!/usr/bin/env node
// npm's install step (also run by `npm rebuild cudnn-rnn`). Keeps the prebuilt
// binary when it loads on this machine; compiles the addon with cmake-js when
// it does not, or when a build from source is asked for, following
// node-gyp-build's convention:
//   npm install --build-from-source
//   npm_config_build_from_source=true npm install
//   npm rebuild cudnn-rnn --build-from-source
// CUDNN_RNN_CPU_ONLY=1 builds without the GPU backend even where nvcc is found.
'use strict';
const { spawnSync } = require('child_process');
const path = require('path');

const root = path.join(__dirname, '..');
const NAME = 'cudnn-rnn';

/** npm passes --build-from-source[=name,...] on as npm_config_build_from_source. */
function buildFromSourceRequested(env) {
  const v = (env.npm_config_build_from_source || '').trim();
  if (v === '' || v === 'false') return false;
  return v === 'true' || v.split(',').map((s) => s.trim()).includes(NAME);
}

function cpuOnlyRequested(env) {
  return /^(1|on|true|yes)$/i.test((env.CUDNN_RNN_CPU_ONLY || '').trim());
}

/** What the install step will do: 'keep' the binary that loads, or 'compile' and why. */
function decide(env, loadError) {
  if (buildFromSourceRequested(env)) return { action: 'compile', why: 'a build from source was requested' };
  if (loadError === null) return { action: 'keep', why: 'the native binary loads' };
  return { action: 'compile', why: `no native binary loads here (${loadError})` };
}

/** null when node-gyp-build finds a binary that loads, else the error's first line. Run in a child: a bad binary must not take the installer down. */
function loadError() {
  const probe = "try { require('node-gyp-build')(process.argv[1]) } catch (e) { console.error(String(e && e.message).split('\\n')[0]); process.exit(1) }";
  const r = spawnSync(process.execPath, ['-e', probe, root], { encoding: 'utf8', cwd: root });
  if (r.status === 0) return null;
  const text = `${r.stderr || ''}`.split('\n').find((l) => l.trim().length > 0) || `exit code ${r.status}`;
  return text.trim();
}

function compile(env) {
  const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
  const cpuOnly = cpuOnlyRequested(env);
  const args = [cmakeJs, 'compile', `--CDCUDNN_RNN_CPU_ONLY=${cpuOnly ? 'ON' : 'OFF'}`];
  console.log(`cudnn-rnn: building the native addon from source${cpuOnly ? ' (CPU only: CUDNN_RNN_CPU_ONLY is set)' : ''}; needs cmake >= 3.18 and a C++17 compiler (apt-get install cmake g++), and nvcc on PATH for the GPU backend`);
  const r = spawnSync(process.execPath, args, { stdio: 'inherit', cwd: root, env });
  return r.status === null ? 1 : r.status;
}

if (require.main === module) {
  const env = process.env;
  const plan = decide(env, buildFromSourceRequested(env) ? null : loadError());
  if (plan.action === 'keep') process.exit(0);
  console.log(`cudnn-rnn: ${plan.why}`);
  process.exit(compile(env));
}

module.exports = { buildFromSourceRequested, cpuOnlyRequested, decide };
