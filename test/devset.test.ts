// bench/devset.js: the training tools' dev split (tools/train/recdata.py is_dev) in JS, and the in-memory inversion.
// The expected split is what recdata.py's is_dev returned for these names (UTF-8 names included); the counts are the
// dev pages of the shared sets (skipped without ../shared/data).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ROOT } from './helpers';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { isDev, loadDevPages, invert } = require('../bench/devset');

test('isDev is recdata.py is_dev on the basename', () => {
  const expected: Record<string, boolean> = {
    'img_1.jpg': false, 'img_21.png': true, 'img_22.png': true, 'img_23.png': false, '00836816.png': true,
    '00040534.png': false, '0000971160.png': true, 'word_1.png': false, 'ü.png': false, 'ö4.png': true,
  };
  for (const [name, dev] of Object.entries(expected)) {
    assert.is(isDev(name), dev, name);
    assert.is(isDev(path.join('some', 'dir', name)), dev, `${name} in a folder`);
  }
});

test('dev pages of the shared sets: about one in five, in the dataset order', async () => {
  const data = path.join(ROOT, '..', 'shared', 'data');
  if (!fs.existsSync(path.join(data, 'funsd_train'))) {
    console.log('  (skipped: ../shared/data not present)');
    return;
  }
  const funsd = await loadDevPages(path.join(data, 'funsd_train'));
  assert.is(funsd.length, 27);
  assert.ok(funsd.every((p: { imagePath: string }) => isDev(p.imagePath)));
  assert.is((await loadDevPages(path.join(data, 'funsd_train'), 5)).length, 5);
  if (fs.existsSync(path.join(data, 'icdar2013_born_digital'))) {
    assert.is((await loadDevPages(path.join(data, 'icdar2013_born_digital'))).length, 81);
  }
});

test('invert is 255 - v and leaves the input alone', () => {
  const img = { data: Buffer.from([0, 10, 255, 128]), width: 2, height: 2, channels: 1 };
  const out = invert(img);
  assert.equal([...out.data], [255, 245, 0, 127]);
  assert.equal([...img.data], [0, 10, 255, 128]);
  assert.is(out.width, 2);
});

test.run();
