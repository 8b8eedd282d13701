#!/usr/bin/env node
// Copies the cmake-js build into prebuildify's layout, where node-gyp-build
// finds it: prebuilds/<platform>-<arch>/cudnn-rnn.node (prebuildify itself
// cannot drive cmake-js; see shared/reference/node-addon.md §2).
'use strict';
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');

const root = path.join(__dirname, '..');
const built = path.join(root, 'build', 'Release', 'cudnn_rnn.node');
if (!fs.existsSync(built)) {
  console.error(`prebuild: ${built} does not exist; run "npx cmake-js compile" first`);
  process.exit(1);
}
const dir = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`);
fs.mkdirSync(dir, { recursive: true });
const target = path.join(dir, 'cudnn-rnn.node');
fs.copyFileSync(built, target);
try {
  execFileSync('strip', ['--strip-unneeded', target]);
} catch {
  console.warn('prebuild: strip is not available; the prebuild keeps its symbols');
}
console.log(`prebuild: wrote ${path.relative(root, target)} (${fs.statSync(target).size} bytes)`);
