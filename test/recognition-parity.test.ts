// End to end against the official pipelines: official-layout checkpoints (test/fixtures/str-checkpoints, written by
// tools/str_torch/make_fixtures.py) converted by `convert`, then read by Recognizer from the word images (no regions:
// the whole image is one line). DTRB demo.py (PIL L, BICUBIC squash or --PAD, CTC / attention greedy decoding,
// cumprod confidence) and EasyOCR's CPU recogniser path (keep ratio to height 64, pad per crop, custom_mean
// confidence) must give the same strings, and confidences within 1e-4.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { convertWithInfo } from '../lib/convert';
import * as api from '../lib';

const DIR = path.join(__dirname, 'fixtures', 'str-checkpoints');
const TOL = 1e-4;

interface Case { image: string; pad: boolean; text: string; confidence: number }
interface Model { name: string; pipeline: string; checkpoints: { file: string }[]; cases: Case[] }
const manifest = JSON.parse(fs.readFileSync(path.join(DIR, 'manifest.json'), 'utf8')) as { models: Model[] };

type RecognizerLike = {
  recognize(input: string, regions?: undefined, options?: Record<string, unknown>): Promise<{ text: string; confidence: number; characters?: number[] }[]>;
  dispose(): Promise<void>;
};
const Recognizer = (api as unknown as { Recognizer?: { create(o: { model: Uint8Array; threads?: number }): Promise<RecognizerLike> } }).Recognizer;

if (!Recognizer) {
  test('recognition parity (skipped: Recognizer is not exported by lib/index.ts yet)', () => {
    console.log('  (skipped: Recognizer is not exported yet; the converter itself is covered by convert-recognizer.test.ts)');
  });
} else {
  const report: string[] = [];
  for (const m of manifest.models) {
    // DTRB --PAD is a pipeline option: those cases need a model converted with --pad
    for (const pad of [false, true]) {
      const cases = m.cases.filter((c) => c.pad === pad);
      if (!cases.length) continue;
      const ck = m.checkpoints[0].file;
      test(`${m.name} (${ck}${pad && m.pipeline === 'dtrb' ? ', --pad' : ''}): Recognizer = the official ${m.pipeline} pipeline`, async () => {
        const { onnx } = await convertWithInfo(path.join(DIR, ck), m.pipeline === 'dtrb' && pad ? { pad: true } : {});
        const r = await Recognizer.create({ model: onnx, threads: 1 });
        try {
          let worst = 0;
          for (const c of cases) {
            const [got] = await r.recognize(path.join(DIR, 'images', c.image), undefined,
              { decoder: 'greedy', rotationRetryThreshold: 0, stretchRetryThreshold: 0, characterProbabilities: true });
            assert.is(got.text, c.text, `${c.image}: text`);
            const d = Math.abs(got.confidence - c.confidence);
            worst = Math.max(worst, d);
            assert.ok(d <= TOL, `${c.image}: confidence ${got.confidence} vs ${c.confidence} (|diff| ${d})`);
            // the confidence is made of the per-character probabilities' run: it can never exceed the smallest
            if (got.characters && got.characters.length) assert.is(got.characters.length, Array.from(got.text).length);
          }
          report.push(`${m.name}${pad ? ' pad' : ''}: ${cases.length} images, strings identical, max |confidence diff| ${worst.toExponential(2)}`);
        } finally {
          await r.dispose();
        }
      });
    }
  }
  test.after(() => {
    if (process.env.CONVERT_VERBOSE) console.log(`\n  ${report.join('\n  ')}`);
  });
}

test.run();
