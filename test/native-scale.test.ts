// The native known-answer tests of scale 'auto''s planning and the character split (test/native/scale_test.cc):
// PlanScales / PlanUpscale on hand-made height lists (one size, tiny, huge, headline over body, clamps), ScoreWords on
// hand-made region maps (separated Gaussian peaks -> that many character boxes in reading order, horizontal, vertical,
// rotated; calibrated scores). Built here with cmake (the target alone); skipped with a message without cmake or
// nlohmann-json (test/native needs it).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ROOT } from './helpers';

test('scale planning and the character split pass their known-answer checks', () => {
  const build = path.join(ROOT, 'build', 'native');
  // test/native's CMakeLists.txt needs nlohmann-json for its other targets.
  const json = ['/usr/include/nlohmann/json.hpp', '/usr/local/include/nlohmann/json.hpp'].some((f) => fs.existsSync(f));
  if (spawnSync('cmake', ['--version']).status !== 0 || !json) {
    console.log('  (skipped: cmake or nlohmann-json3-dev not installed; see tools/setup-system.sh)');
    return;
  }
  const configure = spawnSync('cmake', ['-S', path.join(ROOT, 'test', 'native'), '-B', build, '-DCMAKE_BUILD_TYPE=Release'],
    { encoding: 'utf8' });
  assert.is(configure.status, 0, configure.stderr);
  const compile = spawnSync('cmake', ['--build', build, '--target', 'scale_test', '-j2'], { encoding: 'utf8' });
  assert.is(compile.status, 0, compile.stdout + compile.stderr);
  const run = spawnSync(path.join(build, 'scale_test'), [], { encoding: 'utf8' });
  assert.is(run.status, 0, run.stdout + run.stderr);
  const m = /(\d+) checks, 0 failures/.exec(run.stdout);
  assert.ok(m && Number(m[1]) >= 50, run.stdout);
});

test.run();
