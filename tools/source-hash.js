#!/usr/bin/env node
// Prints a SHA-256 over what the native addon is built from (binding/, CMakeLists.txt, the vendored ORT headers and
// the prebuild scripts), so a prebuild's craft.json can be checked against the working tree.
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const inputs = ['binding', 'third_party', 'CMakeLists.txt', 'tools/prebuild.sh', 'tools/prebuild-deps.sh'];

function files(rel) {
  const abs = path.join(root, rel);
  if (!fs.existsSync(abs)) return [];
  if (!fs.statSync(abs).isDirectory()) return [rel];
  return fs.readdirSync(abs).sort().flatMap((name) => files(path.posix.join(rel, name)));
}

function sourceHash() {
  const hash = crypto.createHash('sha256');
  for (const rel of inputs.flatMap(files)) {
    hash.update(`${rel}\0`);
    hash.update(fs.readFileSync(path.join(root, rel)));
    hash.update('\0');
  }
  return hash.digest('hex');
}

if (require.main === module) console.log(sourceHash());
module.exports = { sourceHash };
