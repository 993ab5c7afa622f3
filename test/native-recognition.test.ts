// The native recognition stages' known-answer tests (test/native/recognize_test.cc): PIL BICUBIC/L exactness against
// Pillow's outputs, CTC greedy/beam and attention decoding, confidences, crops. Built here with cmake (the target
// alone); skipped with a message when cmake or nlohmann-json (tools/setup-system.sh) is missing.
import * as path from 'node:path';
import { test } from 'uvu';
import { ROOT, runNativeTest } from './helpers';

test('native recognition stages pass their known-answer checks', () => {
  runNativeTest('recognize_test', [path.join(ROOT, 'test', 'fixtures', 'recognition')], 60);
});

test.run();
