/*! craft-text | MIT */
import { Detector } from '../detector';
import { checkImageArgs, DETECT_FLAGS, detectOptionsFromFlags, forEachImage, num, parse, printable } from './args';
import { pictureTarget, writeDetectionsPicture, writeHeatmapPicture } from './draw';

export const DETECT_USAGE = 'craft-text detect <image...|-> [--model m.onnx] [--json] [--polygons] [--refine] [--text-threshold n] [--link-threshold n] [--low-text n] [--canvas-size n] [--mag-ratio n] [--scale auto|fixed] [--threads n] [--out boxes.png] [--heatmap heat.png]';

/** `craft-text detect`: one JSON line per image with --json, a short summary otherwise. `-` reads an image from stdin. */
export async function runDetect(argv: string[], out: NodeJS.WritableStream = process.stdout,
  stdin: NodeJS.ReadableStream = process.stdin): Promise<number> {
  const { values, positionals } = parse(argv, {
    ...DETECT_FLAGS, json: { type: 'boolean' }, out: { type: 'string' }, heatmap: { type: 'string' },
  });
  checkImageArgs('detect', positionals);
  // --out / --heatmap: a file for one image; a folder (NAME.boxes.EXT / NAME.heatmap.EXT inside) for several.
  const outFile = pictureTarget(values.out as string | undefined, 'out', positionals, 'boxes');
  const heatmapFile = pictureTarget(values.heatmap as string | undefined, 'heatmap', positionals, 'heatmap');
  const options = { ...detectOptionsFromFlags(values), ...(heatmapFile ? { heatmaps: true } : {}) };
  const threads = num('threads', values.threads as string | undefined, 0, 1024, true);
  const detector = await Detector.create({ model: values.model as string | undefined, ...(threads !== undefined ? { threads } : {}) });
  try {
    return await forEachImage(positionals, stdin, out, Boolean(values.json), async (image, input) => {
      const r = await detector.detect(input, options);
      const written: { out?: string; heatmap?: string } = {};
      if (outFile) await writeDetectionsPicture(input, r.words, written.out = outFile(image));
      if (heatmapFile && r.heatmaps) await writeHeatmapPicture(r.heatmaps, written.heatmap = heatmapFile(image));
      if (values.json) {
        out.write(JSON.stringify({ image, width: r.width, height: r.height, words: r.words, ...written }) + '\n');
      } else {
        const t = r.timings;
        out.write(`${printable(image)}: ${r.width}x${r.height}, ${r.words.length} words ` +
          `(decode ${t.decode.toFixed(1)} ms, preprocess ${t.preprocess.toFixed(1)} ms, ` +
          `inference ${t.inference.toFixed(1)} ms, postprocess ${t.postprocess.toFixed(1)} ms)\n`);
        for (const w of r.words) {
          out.write(`  ${w.score.toFixed(3)}  ${w.box.map(([x, y]) => `${Math.round(x)},${Math.round(y)}`).join(' ')}\n`);
        }
        for (const [kind, file] of Object.entries(written)) out.write(`  wrote ${kind === 'out' ? 'boxes' : 'heatmaps'}: ${printable(file)}\n`);
      }
    });
  } finally {
    await detector.dispose();
  }
}
