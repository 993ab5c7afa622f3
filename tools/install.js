#!/usr/bin/env node
// npm install hook: use a prebuilt addon when one loads on this platform, otherwise install the system packages the
// build needs (tools/setup-system.sh) and compile with cmake-js.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const prebuild = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`, 'craft.node');

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`craft-text: '${cmd} ${args.join(' ')}' failed`);
    process.exit(r.status || 1);
  }
}

if (fs.existsSync(prebuild) && !process.env.CRAFT_TEXT_BUILD_FROM_SOURCE) {
  try {
    require(prebuild);
    process.exit(0);
  } catch (err) {
    console.error(`craft-text: prebuild ${prebuild} does not load (${err.message.split('\n')[0]}); building from source`);
  }
}
if (process.platform === 'linux') run('bash', [path.join(__dirname, 'setup-system.sh')]);
run(process.execPath, [require.resolve('cmake-js/bin/cmake-js'), 'compile', '--CDCMAKE_BUILD_TYPE=Release']);
