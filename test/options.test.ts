// Argument validation of the public API: every wrong type is a TypeError and every out-of-range value a RangeError,
// both naming the argument. These run without a model.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { detectOptions, createOptions, imageInput, metadataNumber, modelDefaults, postprocessArgs, CRAFT_DEFAULTS } from '../lib/options';

const D = { ...CRAFT_DEFAULTS };

function throws(fn: () => unknown, name: string, message: RegExp) {
  try {
    fn();
  } catch (err) {
    assert.is((err as Error).name, name, (err as Error).message);
    assert.match((err as Error).message, message);
    return;
  }
  assert.unreachable('should have thrown');
}

test('defaults equal CRAFT-pytorch test.py', () => {
  const o = detectOptions(undefined, D);
  assert.equal(
    { t: o.textThreshold, l: o.linkThreshold, low: o.lowText, c: o.canvasSize, m: o.magRatio, p: o.polygons },
    { t: 0.7, l: 0.4, low: 0.4, c: 1280, m: 1.5, p: false },
  );
  assert.is(o.maxPixels, 268402689);
});

test('out-of-range threshold is a RangeError with the exact wording', () => {
  throws(() => detectOptions({ textThreshold: 1.5 }, D), 'RangeError',
    /^Expected number between 0 and 1 for textThreshold but received 1\.5 of type number$/);
  throws(() => detectOptions({ lowText: -0.1 }, D), 'RangeError', /lowText/);
});

test('wrong types are TypeErrors naming the option', () => {
  throws(() => detectOptions({ linkThreshold: '0.4' }, D), 'TypeError', /for linkThreshold but received '0\.4' of type string/);
  throws(() => detectOptions({ polygons: 1 }, D), 'TypeError', /boolean for polygons/);
  throws(() => detectOptions('fast', D), 'TypeError', /plain object for options/);
});

test('NaN and Infinity are RangeErrors', () => {
  throws(() => detectOptions({ magRatio: NaN }, D), 'RangeError', /magRatio but received NaN/);
  throws(() => detectOptions({ canvasSize: Infinity }, D), 'RangeError', /canvasSize/);
  throws(() => detectOptions({ canvasSize: 100.5 }, D), 'RangeError', /integer between 32 and 32768 for canvasSize/);
});

test('unknown options are rejected with a did-you-mean hint', () => {
  throws(() => detectOptions({ textTreshold: 0.5 }, D), 'TypeError', /Unknown option 'textTreshold' \(did you mean 'textThreshold'\?\)/);
  throws(() => detectOptions({ zzzzzzzzzz: 1 }, D), 'TypeError', /^Unknown option 'zzzzzzzzzz'$/);
});

test('model defaults from metadata override test.py and bad metadata is ignored', () => {
  const d = modelDefaults({ 'craft.textThreshold': '0.6', 'craft.lowText': 'abc', 'craft.canvasSize': '2.5' });
  assert.is(d.textThreshold, 0.6);
  assert.is(d.lowText, 0.4);
  assert.is(d.canvasSize, 1280);
  assert.is(detectOptions({}, d).textThreshold, 0.6);
});

// binding/craft/metadata.h's ParseMetadataNumber, the addon's reading of the same metadata (test/scale-model.test.ts
// checks both on one model): what Number() takes beyond plain decimals is not a number here.
test('metadata numbers are plain decimals, as the addon reads them', () => {
  for (const [text, v] of [['0.5', 0.5], ['+0.5', 0.5], ['.5', 0.5], ['5.', 5], ['5e-1', 0.5], ['1E+2', 100], ['-0.25', -0.25],
    ['1e-7', 1e-7], ['0.'.padEnd(32, '1'), Number('0.'.padEnd(32, '1'))]] as const) {
    assert.is(metadataNumber(text), v, text);
  }
  for (const text of ['', ' 0.5', '0.5 ', '\t1', '0.5\n', '0x1', '0b1', '0o7', '1_000', 'Infinity', '-Infinity', 'NaN', '1e400',
    '-1e400', 'abc', '0.5px', '1e', '.', '+', '1.2.3', '1-2', '0x1p-3', '0.'.padEnd(33, '1')]) {
    assert.is(metadataNumber(text), undefined, JSON.stringify(text));
  }
  // each of these Number() reads as a usable threshold; the defaults stay test.py's
  for (const bad of ['0x1', ' 0.5', '0.5\n', '', '0b0']) {
    const d = modelDefaults({ 'craft.textThreshold': bad, 'craft.linkThreshold': bad, 'craft.lowText': bad });
    assert.equal([d.textThreshold, d.linkThreshold, d.lowText], [0.7, 0.4, 0.4], JSON.stringify(bad));
  }
  assert.is(modelDefaults({ 'craft.canvasSize': '0x400' }).canvasSize, 1280);
  assert.is(modelDefaults({ 'craft.canvasSize': '1.024e3' }).canvasSize, 1024);
});

test('image inputs: path, bytes, raw pixels', () => {
  assert.equal(imageInput('a.png'), { path: 'a.png' });
  const bytes = new Uint8Array(4);
  assert.is((imageInput(bytes) as { data: Uint8Array }).data, bytes, 'no copy of encoded bytes');
  assert.is((imageInput(Buffer.from([1, 2])) as { data: Uint8Array }).data.length, 2);
  const raw = { data: new Uint8ClampedArray(2 * 3 * 4), width: 3, height: 2, channels: 4 as const };
  assert.is((imageInput(raw) as { data: Uint8Array }).data, raw.data);
});

test('bad image inputs', () => {
  throws(() => imageInput(''), 'TypeError', /non-empty file path for input/);
  throws(() => imageInput(42), 'TypeError', /for input but received 42 of type number/);
  throws(() => imageInput({ data: new Uint8Array(3), width: 1, height: 1, channels: 2 }), 'RangeError', /one of 1, 3, 4 for input\.channels/);
  throws(() => imageInput({ data: new Uint8Array(3), width: 0, height: 1, channels: 3 }), 'RangeError', /input\.width/);
  throws(() => imageInput({ data: new Uint8Array(5), width: 2, height: 1, channels: 3 }), 'RangeError', /width\*height\*channels = 6 bytes but received 5/);
  throws(() => imageInput({ data: [1, 2, 3], width: 1, height: 1, channels: 3 }), 'TypeError', /input\.data/);
  throws(() => imageInput({ data: new Uint8Array(3), width: 1, height: 1, channels: 3, stride: 3 }), 'TypeError', /Unknown input property 'stride'/);
});

test('create options', () => {
  const o = createOptions({ threads: 2, executionProviders: ['cuda', 'cpu'] });
  assert.equal(o.executionProviders, ['cuda', 'cpu']);
  assert.is(o.threads, 2);
  throws(() => createOptions({ threads: -1 }), 'RangeError', /threads/);
  throws(() => createOptions({ executionProviders: ['gpu'] }), 'RangeError', /executionProviders\[0\]/);
  throws(() => createOptions({ executionProviders: [] }), 'TypeError', /executionProviders/);
  throws(() => createOptions({ model: 12 }), 'TypeError', /for model/);
  throws(() => createOptions({ modle: 'x' }), 'TypeError', /did you mean 'model'/);
});

test('postprocess arguments', () => {
  const region = new Float32Array(6);
  const ok = postprocessArgs({ region, affinity: new Float32Array(6), width: 3, height: 2 }, { polygons: true });
  assert.is(ok.opts.polygons, true);
  assert.is(ok.opts.textThreshold, 0.7);
  throws(() => postprocessArgs({ region, affinity: new Float32Array(5), width: 3, height: 2 }, {}), 'RangeError', /heatmaps\.affinity/);
  throws(() => postprocessArgs({ region: new Float64Array(6), affinity: region, width: 3, height: 2 }, {}), 'TypeError', /Float32Array for heatmaps\.region/);
  throws(() => postprocessArgs({ region, affinity: region, width: 3, height: 2 }, { lowText: 2 }), 'RangeError', /lowText/);
});

test.run();
