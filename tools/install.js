#!/usr/bin/env node
// npm install hook. Does nothing when the prebuilt addon for this runtime loads (the usual case: no compiler, no root,
// no system OpenCV needed). Compiles with cmake-js only when no prebuild loads here, or when asked to
// (--build-from-source, i.e. npm_config_build_from_source, or CRAFT_TEXT_BUILD_FROM_SOURCE=1). It never installs
// system packages: that is `npm run setup-system` (tools/setup-system.sh), run explicitly by whoever builds.
// With --ignore-scripts this never runs; the prebuild is then used as is (lib/binding.ts loads it).
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const truthy = (v) => v !== undefined && v !== '' && v !== '0' && v !== 'false';

// Same runtime names as runtimePlatform() in lib/binding.ts (dist/ may not exist yet in a fresh clone).
function runtimePlatform() {
  let musl = false;
  if (process.platform === 'linux') {
    const header = process.report.getReport().header;
    musl = !header.glibcVersionRuntime;
  }
  return `${process.platform}${musl ? 'musl' : ''}-${process.arch}`;
}

function prebuildLoads() {
  const file = path.join(root, 'prebuilds', runtimePlatform(), 'craft.node');
  if (!fs.existsSync(file)) return `no prebuild for ${runtimePlatform()}`;
  // In a child process: a binary that crashes on load (wrong CPU) must not take the installer down with it.
  const r = spawnSync(process.execPath, ['-e', 'require(process.argv[1])', file], { encoding: 'utf8' });
  return r.status === 0 ? true : `${file} does not load: ${(r.stderr.trim().split('\n').find((l) => /Error/.test(l)) || r.stderr.trim()).slice(0, 300)}`;
}

function missingTools() {
  const have = (cmd) => spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
  const missing = [];
  if (!have('cmake')) missing.push('cmake (>= 3.18)');
  if (process.platform !== 'win32' && !have('c++') && !have('g++') && !have('clang++')) missing.push('a C++17 compiler');
  return missing;
}

function main() {
  const fromSource = truthy(process.env.npm_config_build_from_source) || truthy(process.env.CRAFT_TEXT_BUILD_FROM_SOURCE);
  if (!fromSource) {
    const ok = prebuildLoads();
    if (ok === true) return 0;
    console.error(`craft-text: ${ok}; building from source`);
  }
  const missing = missingTools();
  if (missing.length) {
    console.error([
      `craft-text: cannot build the native addon from source: ${missing.join(' and ')} not found.`,
      'Building needs CMake >= 3.18, a C++17 compiler, OpenCV >= 4.2 (core, imgproc, imgcodecs) and giflib.',
      'On Debian/Ubuntu, as root: npm run setup-system (in a clone) or npm explore craft-text -- npm run setup-system,',
      'then npm rebuild craft-text. See docs/install.md.',
    ].join('\n'));
    return 1;
  }
  let cmakeJs;
  try {
    cmakeJs = require.resolve('cmake-js/bin/cmake-js');
    require.resolve('node-addon-api');
  } catch {
    console.error('craft-text: building from source needs cmake-js and node-addon-api (optional peer dependencies):\n' +
      '  npm install --save-dev cmake-js node-addon-api && npm rebuild craft-text --build-from-source');
    return 1;
  }
  const r = spawnSync(process.execPath, [cmakeJs, 'compile', '--CDCMAKE_BUILD_TYPE=Release'],
    { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error('craft-text: the build failed. Missing OpenCV or giflib headers? On Debian/Ubuntu, as root: ' +
      'npm run setup-system (or npm explore craft-text -- npm run setup-system). See docs/install.md.');
    return r.status || 1;
  }
  return 0;
}

process.exitCode = main();
