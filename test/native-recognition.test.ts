// The native recognition stages' known-answer tests (test/native/recognize_test.cc): PIL BICUBIC/L exactness against
// Pillow's outputs, CTC greedy/beam and attention decoding, confidences, crops. Built here with cmake (the target
// alone); skipped with a message when cmake or nlohmann-json (tools/setup-system.sh) is missing.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ROOT } from './helpers';

test('native recognition stages pass their known-answer checks', () => {
  const build = path.join(ROOT, 'build', 'native');
  const json = ['/usr/include/nlohmann/json.hpp', '/usr/local/include/nlohmann/json.hpp'].some((f) => fs.existsSync(f));
  if (spawnSync('cmake', ['--version']).status !== 0 || !json) {
    console.log('  (skipped: cmake or nlohmann-json3-dev not installed; see tools/setup-system.sh)');
    return;
  }
  const configure = spawnSync('cmake', ['-S', path.join(ROOT, 'test', 'native'), '-B', build, '-DCMAKE_BUILD_TYPE=Release'],
    { encoding: 'utf8' });
  assert.is(configure.status, 0, configure.stderr);
  const compile = spawnSync('cmake', ['--build', build, '--target', 'recognize_test', '-j2'], { encoding: 'utf8' });
  assert.is(compile.status, 0, compile.stdout + compile.stderr);
  const run = spawnSync(path.join(build, 'recognize_test'), [path.join(ROOT, 'test', 'fixtures', 'recognition')],
    { encoding: 'utf8' });
  assert.is(run.status, 0, run.stdout + run.stderr);
  const m = /(\d+) checks, 0 failures/.exec(run.stdout);
  assert.ok(m && Number(m[1]) >= 60, run.stdout);
});

test.run();
