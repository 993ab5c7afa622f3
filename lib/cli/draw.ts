/*! craft-text | MIT */
// Pictures for the CLI: detections drawn on the image (detect --out), the heatmaps (detect --heatmap) and the
// evaluation overlays (eval --out-dir). The drawing, decoding and encoding run natively, off the JS thread
// (binding/render.cc -> binding/craft/draw.cc).
import * as fs from 'node:fs';
import { readRegularFile } from '../files';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { binding, type CaptionPiece, type ImageFormat, type NativeLabel, type NativeStroke } from '../binding';
import type { Heatmaps, OcrWord, Word } from '../types';
import type { GtWord, ImageResult, Point } from '../eval';
import { STDIN, UsageError } from './args';

type RGB = [number, number, number];

/** Colours of the pictures (RGB). */
export const COLORS = {
  box: [230, 25, 75] as RGB,           // detect --out: word boxes (red, as CRAFT's saveResult)
  polygon: [0, 130, 200] as RGB,       // detect --out: polygons (blue)
  gtMatched: [0, 170, 0] as RGB,       // eval: ground truth found (green)
  gtMissed: [255, 140, 0] as RGB,      // eval: ground truth missed (orange)
  dontCare: [150, 150, 150] as RGB,    // eval: don't-care regions and the detections they discard (grey)
  detMatched: [0, 90, 255] as RGB,     // eval: detection that matched (blue)
  detFalse: [230, 0, 0] as RGB,        // eval: detection that matched nothing (red)
};

const FORMATS: Record<string, ImageFormat> = {
  '.png': 'png', '.jpg': 'jpg', '.jpeg': 'jpg', '.webp': 'webp', '.bmp': 'bmp', '.tif': 'tiff', '.tiff': 'tiff',
};

/** The image format of an output file, from its extension; a UsageError for anything else. @private */
export function outputFormat(file: string, flag: string): ImageFormat {
  const f = FORMATS[path.extname(file).toLowerCase()];
  if (!f) throw new UsageError(`--${flag} must end in ${Object.keys(FORMATS).join(', ')}: ${file}`);
  return f;
}

/**
 * Where a picture flag (`--out`, `--heatmap`) writes an image's picture: the file it names for one image; for several,
 * NAME.SUFFIX.png inside the folder it names, which must exist. Checked before any work is done; undefined without
 * the flag. @private
 */
export function pictureTarget(target: string | undefined, flag: string, images: string[], suffix: string):
  ((image: string) => string) | undefined {
  if (target === undefined) return undefined;
  if (images.length === 1) {
    outputFormat(target, flag);
    checkWritable(target, flag);
    return () => target;
  }
  if (!fs.existsSync(target) || !fs.statSync(target).isDirectory()) {
    throw new UsageError(`--${flag} must be an existing folder when several images are given: ${target}`);
  }
  return (image) => path.join(target, `${image === STDIN ? 'stdin' : path.parse(image).name}.${suffix}.png`);
}

/** Checks an output file can be created (its folder exists) before any work is done. @private */
export function checkWritable(file: string, flag: string): void {
  const dir = path.dirname(path.resolve(file));
  let ok = false;
  try {
    ok = fs.statSync(dir).isDirectory();
  } catch { /* missing */ }
  if (!ok) throw new UsageError(`--${flag}: no such folder: ${dir}`);
}

async function imageBytes(image: string | Uint8Array): Promise<Uint8Array> {
  return typeof image === 'string' ? readRegularFile(image) : image;
}

/**
 * Draws detected words on the image and writes the picture: boxes in red, polygons (when present) in blue.
 * @returns the picture's size (the image's).
 */
export async function writeDetectionsPicture(image: string | Uint8Array, words: readonly Word[], outFile: string):
  Promise<{ width: number; height: number }> {
  const strokes: NativeStroke[] = [];
  for (const w of words) {
    strokes.push({ points: w.box, color: COLORS.box });
    if (w.polygon && w.polygon.length > 4) strokes.push({ points: w.polygon, color: COLORS.polygon });
  }
  const r = await binding().renderOverlay(await imageBytes(image), strokes, [], { format: outputFormat(outFile, 'out') });
  await fsp.writeFile(outFile, r.data);
  return { width: r.width, height: r.height };
}

/**
 * Draws read words on the image: each box in red, its text just above it on a white band, at the word's height.
 * @returns the picture's size (the image's).
 */
export async function writeReadingPicture(image: string | Uint8Array, words: readonly OcrWord[], outFile: string):
  Promise<{ width: number; height: number }> {
  const strokes: NativeStroke[] = words.map((w) => ({ points: w.polygon && w.polygon.length > 4 ? w.polygon : w.box, color: COLORS.box }));
  const labels: NativeLabel[] = words.filter((w) => w.text.length > 0).map((w) => {
    const xs = w.box.map((p) => p[0]), ys = w.box.map((p) => p[1]);
    const h = Math.max(6, Math.min(40, (Math.max(...ys) - Math.min(...ys)) * 0.6));
    return { text: w.text, x: Math.min(...xs), y: Math.max(0, Math.min(...ys) - h * 1.5), height: h,
      color: [0, 0, 0] as RGB, background: [255, 255, 210] as RGB };
  });
  const r = await binding().renderOverlay(await imageBytes(image), strokes, labels, { format: outputFormat(outFile, 'out') });
  await fsp.writeFile(outFile, r.data);
  return { width: r.width, height: r.height };
}

/**
 * Writes CRAFT's picture of the maps: region score left, affinity score right, JET colour map
 * (as CRAFT-pytorch's res_*_mask.jpg), at heatmap resolution (half the network input).
 */
export async function writeHeatmapPicture(heatmaps: Heatmaps, outFile: string): Promise<{ width: number; height: number }> {
  const r = await binding().renderHeatmaps(heatmaps.region, heatmaps.affinity, heatmaps.width, heatmaps.height,
    { format: outputFormat(outFile, 'heatmap') });
  await fsp.writeFile(outFile, r.data);
  return { width: r.width, height: r.height };
}

/**
 * Writes an evaluation picture: ground truth (green found, orange missed, grey don't-care) and detections
 * (blue matched, red false, grey discarded by a don't-care region), under a caption band (title + legend).
 */
export async function writeEvalPicture(
  image: string, gt: readonly GtWord[], det: readonly { points: Point[] }[], result: ImageResult, title: string,
  outFile: string,
): Promise<{ width: number; height: number }> {
  const ignoredGt = new Set(result.ignoredGt), missedGt = new Set(result.unmatchedGt);
  const ignoredDet = new Set(result.ignoredDet), falseDet = new Set(result.unmatchedDet);
  const strokes: NativeStroke[] = [];
  gt.forEach((g, i) => {
    const color = ignoredGt.has(i) ? COLORS.dontCare : missedGt.has(i) ? COLORS.gtMissed : COLORS.gtMatched;
    strokes.push({ points: g.points, color });
  });
  det.forEach((d, i) => {
    const color = ignoredDet.has(i) ? COLORS.dontCare : falseDet.has(i) ? COLORS.detFalse : COLORS.detMatched;
    strokes.push({ points: d.points, color });
  });
  const white: RGB = [255, 255, 255];
  const caption: CaptionPiece[][] = [
    [{ text: title, color: white }],
    [{ text: 'GT:', color: white }, { text: 'found', color: COLORS.gtMatched }, { text: 'missed', color: COLORS.gtMissed },
      { text: "don't care", color: COLORS.dontCare }, { text: ' detections:', color: white },
      { text: 'matched', color: COLORS.detMatched }, { text: 'false', color: COLORS.detFalse },
      { text: 'discarded', color: COLORS.dontCare }],
  ];
  const r = await binding().renderOverlay(await imageBytes(image), strokes, [],
    { format: outputFormat(outFile, 'out-dir'), caption });
  await fsp.writeFile(outFile, r.data);
  return { width: r.width, height: r.height };
}
