#!/usr/bin/env node
// Runs every uvu suite (test/*.test.ts) and ends with one summary line: "N passed, N failed".
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const dir = __dirname;
const only = process.argv.slice(2);
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.test.ts') && (only.length === 0 || only.some((o) => f.includes(o)))).sort();
let passed = 0, failed = 0, skipped = 0;
const failedFiles = [];
for (const file of files) {
  // Each file in its own process: suites that load ONNX Runtime or spawn workers stay isolated.
  const r = spawnSync(process.execPath, ['-r', 'tsx/cjs', path.join(dir, file)], { encoding: 'utf8', env: process.env });
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  const strip = (s) => s.replace(/\x1b\[[0-9;]*m/g, '');
  const out = strip(r.stdout);
  const p = /Passed:\s+(\d+)/.exec(out), s = /Skipped:\s+(\d+)/.exec(out), t = /Total:\s+(\d+)/.exec(out);
  const filePassed = p ? Number(p[1]) : 0;
  const fileTotal = t ? Number(t[1]) : 0;
  passed += filePassed;
  skipped += s ? Number(s[1]) : 0;
  let fileFailed = Math.max(0, fileTotal - filePassed - (s ? Number(s[1]) : 0));
  if (r.status !== 0 && fileFailed === 0) fileFailed = 1; // crashed or failed outside a test
  if (fileFailed > 0) failedFiles.push(file);
  failed += fileFailed;
}
if (failedFiles.length) console.log(`\nFailed: ${failedFiles.join(', ')}`);
console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || files.length === 0 ? 1 : 0);
