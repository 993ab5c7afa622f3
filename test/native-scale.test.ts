// The native known-answer tests of scale 'auto''s planning and the character split (test/native/scale_test.cc):
// PlanScales / PlanUpscale on hand-made height lists (one size, tiny, huge, headline over body, clamps), ScoreWords on
// hand-made region maps (separated Gaussian peaks -> that many character boxes in reading order, horizontal, vertical,
// rotated; calibrated scores). Built here with cmake (the target alone); skipped with a message without cmake or
// nlohmann-json (test/native needs it).
import { test } from 'uvu';
import { runNativeTest } from './helpers';

test('scale planning and the character split pass their known-answer checks', () => {
  runNativeTest('scale_test', [], 50);
});

test.run();
