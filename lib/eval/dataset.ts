/*! craft-text | MIT */
// Dataset readers: a folder with images/ + gt.jsonl, raw ICDAR gt_img_*.txt (2013 and 2015 formats), FUNSD JSON.

import { promises as fsp } from 'fs';
import * as path from 'path';
import type { GtWord, Point } from './types';

/** One image of a dataset. */
export interface DatasetSample {
  /** Absolute path of the image. */
  imagePath: string;
  words: GtWord[];
}

export interface LoadDatasetOptions {
  /**
   * Treat axis-aligned boxes as inclusive pixel ranges (xmin..xmax, ymin..ymax) and convert them to the continuous
   * box [xmin, xmax + 1] x [ymin, ymax + 1]. Default: true when the boxes come from ICDAR 2013 (documented
   * inclusive) or FUNSD (inclusive as measured from the ink at the box edges, docs/eval.md): raw
   * `xmin, ymin, xmax, ymax, "text"` files, FUNSD `*.json`, or a gt.jsonl whose folder's `gt/` holds such
   * files (gt.jsonl keeps the coordinates as written). false leaves every coordinate as written.
   */
  inclusiveBoxes?: boolean;
}

const IMAGE_EXTS = ['.jpg', '.jpeg', '.png', '.gif', '.bmp', '.tif', '.tiff', '.webp'];

/** Natural order: img_2 before img_10. */
const natural = new Intl.Collator('en', { numeric: true, sensitivity: 'base' }).compare;

// ---------------------------------------------------------------------------------------------------------
// Parsers (pure, on text or parsed JSON)

/**
 * Parses one `gt.jsonl` text: one `{"image": "images/NAME", "words": [{"points", "text", "ignore"}]}` per
 * line (blank lines skipped). `ignore: true` or the text "###" marks a don't-care region.
 * Image paths are resolved against `baseDir`.
 */
export function parseGtJsonl(text: string, baseDir: string, source = 'gt.jsonl'): DatasetSample[] {
  const out: DatasetSample[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const where = `${source}:${i + 1}`;
    let rec: unknown;
    try {
      rec = JSON.parse(line);
    } catch (e) {
      throw new Error(`${where}: invalid JSON (${(e as Error).message})`);
    }
    if (typeof rec !== 'object' || rec === null || typeof (rec as { image?: unknown }).image !== 'string') {
      throw new Error(`${where}: expected an object with an "image" string`);
    }
    const r = rec as { image: string; words?: unknown };
    if (r.words !== undefined && !Array.isArray(r.words)) throw new Error(`${where}: "words" must be an array`);
    const words = ((r.words as unknown[] | undefined) ?? []).map((w, j) => jsonWord(w, `${where} words[${j}]`));
    out.push({ imagePath: path.resolve(baseDir, r.image), words });
  });
  return out;
}

function jsonWord(w: unknown, where: string): GtWord {
  if (typeof w !== 'object' || w === null) throw new Error(`${where}: expected an object`);
  const { points, text, ignore } = w as { points?: unknown; text?: unknown; ignore?: unknown };
  if (!Array.isArray(points) || !points.every((p) => Array.isArray(p) && p.length === 2 &&
      p.every((c) => typeof c === 'number' && Number.isFinite(c)))) {
    throw new Error(`${where}: "points" must be an array of [x, y] number pairs`);
  }
  if (text !== undefined && text !== null && typeof text !== 'string') throw new Error(`${where}: "text" must be a string`);
  if (ignore !== undefined && typeof ignore !== 'boolean') throw new Error(`${where}: "ignore" must be a boolean`);
  const t = typeof text === 'string' ? text : '';
  return { points: (points as Point[]).map(([x, y]) => [x, y] as Point), text: t, ignore: ignore === true || t === '###' };
}

const NUM = String.raw`[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?`;
// ICDAR 2015 (and MLT / 4-point RRC): x1,y1,x2,y2,x3,y3,x4,y4,transcription (the transcription may hold commas)
const RE_2015 = new RegExp(String.raw`^\s*(${NUM})` + String.raw`\s*,\s*(${NUM})`.repeat(7) + String.raw`\s*(?:,(.*))?$`);
// ICDAR 2013: xmin, ymin, xmax, ymax, "transcription" (Challenge 1, commas) or xmin ymin xmax ymax "t" (Challenge 2)
const RE_2013 = new RegExp(String.raw`^\s*(${NUM})` + String.raw`(?:\s*,\s*|\s+)(${NUM})`.repeat(3) + String.raw`(?:(?:\s*,\s*|\s+)(.*))?$`);

function unquote2013(t: string): string {
  const s = t.trim();
  if (s.length >= 2 && s.startsWith('"') && s.endsWith('"')) return s.slice(1, -1).replace(/\\(["\\])/g, '$1');
  return s;
}

/**
 * Parses an ICDAR ground-truth text file (`gt_img_*.txt`). Each line is either the 2015 format
 * `x1,y1,...,x4,y4,text` or the 2013 format `xmin, ymin, xmax, ymax, "text"` (`\"` unescaped). A BOM and
 * CRLF are accepted; blank lines skipped. The text "###" marks a don't-care region. 2013 boxes are
 * inclusive unless `inclusiveBoxes: false` (see LoadDatasetOptions).
 */
export function parseIcdarGt(text: string, options: LoadDatasetOptions = {}, source = 'gt'): GtWord[] {
  const inclusive = options.inclusiveBoxes ?? true;
  const words: GtWord[] = [];
  text.replace(/^\uFEFF/, '').split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    let m = RE_2015.exec(line);
    if (m) {
      const c = m.slice(1, 9).map(Number);
      const t = (m[9] ?? '').trim();
      words.push({ points: [[c[0], c[1]], [c[2], c[3]], [c[4], c[5]], [c[6], c[7]]], text: t, ignore: t === '###' });
      return;
    }
    m = RE_2013.exec(line);
    if (m) {
      const [x0, y0, x1, y1] = m.slice(1, 5).map(Number);
      const t = unquote2013(m[5] ?? '');
      words.push({ points: rect(x0, y0, x1, y1, inclusive), text: t, ignore: t === '###' });
      return;
    }
    throw new Error(`${source}:${i + 1}: not an ICDAR 2013 or 2015 ground-truth line: ${JSON.stringify(line.slice(0, 80))}`);
  });
  return words;
}

/** True when the text looks like the ICDAR 2013 LTRB format (its first non-blank line does). */
export function isIcdar2013Text(text: string): boolean {
  const line = text.replace(/^\uFEFF/, '').split(/\r?\n/).find((l) => l.trim() !== '');
  return line !== undefined && !RE_2015.test(line) && RE_2013.test(line);
}

/**
 * Parses a FUNSD annotation (`{"form": [{"words": [{"box": [x1, y1, x2, y2], "text"}]}]}`), one GtWord per word.
 * The boxes are inclusive pixel ranges unless `inclusiveBoxes: false` (see LoadDatasetOptions).
 */
export function parseFunsd(json: unknown, options: LoadDatasetOptions = {}, source = 'funsd'): GtWord[] {
  const inclusive = options.inclusiveBoxes ?? true;
  const form = (json as { form?: unknown } | null)?.form;
  if (!Array.isArray(form)) throw new Error(`${source}: expected an object with a "form" array`);
  const words: GtWord[] = [];
  form.forEach((entity: unknown, i) => {
    const ws = (entity as { words?: unknown } | null)?.words;
    if (!Array.isArray(ws)) throw new Error(`${source}: form[${i}].words must be an array`);
    ws.forEach((w: unknown, j) => {
      const box = (w as { box?: unknown } | null)?.box;
      if (!Array.isArray(box) || box.length !== 4 || !box.every((c) => typeof c === 'number' && Number.isFinite(c))) {
        throw new Error(`${source}: form[${i}].words[${j}].box must be [x1, y1, x2, y2]`);
      }
      const text = (w as { text?: unknown }).text;
      words.push({ points: rect(box[0], box[1], box[2], box[3], inclusive), text: typeof text === 'string' ? text : '', ignore: false });
    });
  });
  return words;
}

/** Corners clockwise from the top-left; `inclusive` widens the far edges by one pixel. */
function rect(x0: number, y0: number, x1: number, y1: number, inclusive: boolean): Point[] {
  const l = Math.min(x0, x1), r = Math.max(x0, x1) + (inclusive ? 1 : 0);
  const t = Math.min(y0, y1), b = Math.max(y0, y1) + (inclusive ? 1 : 0);
  return [[l, t], [r, t], [r, b], [l, b]];
}

/**
 * An axis-aligned 4-point box taken as inclusive pixel ranges -> continuous box (see LoadDatasetOptions).
 * Anything that is not an axis-aligned 4-point box is returned unchanged.
 */
export function widenInclusiveBox(points: Point[]): Point[] {
  if (points.length !== 4) return points;
  const xs = points.map((p) => p[0]), ys = points.map((p) => p[1]);
  const l = Math.min(...xs), r = Math.max(...xs), t = Math.min(...ys), b = Math.max(...ys);
  if (!points.every(([x, y]) => (x === l || x === r) && (y === t || y === b))) return points;
  // each corner must be a distinct corner of the box (or the box is degenerate in that direction)
  const corners = new Set(points.map(([x, y]) => `${x === l ? 'l' : 'r'}${y === t ? 't' : 'b'}`));
  if (corners.size !== 4 && l !== r && t !== b) return points;
  return rect(l, t, r, b, true);
}

// ---------------------------------------------------------------------------------------------------------
// Folders

async function exists(p: string): Promise<boolean> {
  try {
    await fsp.access(p);
    return true;
  } catch {
    return false;
  }
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return (await fsp.readdir(dir, { withFileTypes: true })).filter((d) => d.isFile()).map((d) => d.name);
  } catch {
    return [];
  }
}

/** The image for a GT file: same stem (with a leading `gt_` removed), any image extension. */
function findImage(imageFiles: Map<string, string>, gtName: string, imageDir: string, source: string): string {
  const stem = path.parse(gtName).name;
  for (const s of [stem.replace(/^gt_/, ''), stem]) {
    const hit = imageFiles.get(s.toLowerCase());
    if (hit) return path.join(imageDir, hit);
  }
  throw new Error(`${source}: no image named ${stem.replace(/^gt_/, '')}.{${IMAGE_EXTS.map((e) => e.slice(1)).join(',')}} in ${imageDir}`);
}

async function imageIndex(imageDir: string): Promise<Map<string, string>> {
  const m = new Map<string, string>();
  for (const f of (await listDir(imageDir)).sort(natural)) {
    const p = path.parse(f);
    if (IMAGE_EXTS.includes(p.ext.toLowerCase()) && !m.has(p.name.toLowerCase())) m.set(p.name.toLowerCase(), f);
  }
  return m;
}

/** Where a folder's original annotation files are: `gt/`, `annotations/`, or the folder itself. */
async function annotationFiles(dir: string, ext: string): Promise<{ dir: string; files: string[] } | undefined> {
  for (const d of [path.join(dir, 'gt'), path.join(dir, 'annotations'), dir]) {
    const files = (await listDir(d)).filter((f) => f.toLowerCase().endsWith(ext) && (ext !== '.txt' || /^gt_/i.test(f)));
    if (files.length > 0) return { dir: d, files: files.sort(natural) };
  }
  return undefined;
}

/**
 * Loads a dataset folder, in this order of preference:
 * 1. `gt.jsonl` (+ `images/`), or a path to a `.jsonl` file itself;
 * 2. ICDAR `gt_img_*.txt` files in `gt/` or the folder itself, images `img_*.*` in `images/` or the folder;
 * 3. FUNSD `*.json` annotations in `gt/`, `annotations/` or the folder, images with the same stem.
 * Samples are in file order (gt.jsonl) or natural file-name order. Image paths are absolute.
 */
export async function loadDataset(dir: string, options: LoadDatasetOptions = {}): Promise<DatasetSample[]> {
  if (typeof dir !== 'string' || dir === '') throw new TypeError(`Expected a folder path for dir but received ${typeof dir}`);
  if (options.inclusiveBoxes !== undefined && typeof options.inclusiveBoxes !== 'boolean') {
    throw new TypeError('Expected boolean for inclusiveBoxes');
  }
  const stat = await fsp.stat(dir).catch(() => undefined);
  if (!stat) throw new Error(`Dataset not found: ${dir}`);
  if (stat.isFile()) {
    if (!dir.endsWith('.jsonl')) throw new Error(`Expected a dataset folder or a .jsonl file: ${dir}`);
    return readJsonl(dir, path.dirname(dir), options);
  }

  const jsonl = path.join(dir, 'gt.jsonl');
  if (await exists(jsonl)) return readJsonl(jsonl, dir, options);

  const txt = await annotationFiles(dir, '.txt');
  if (txt) {
    const imageDir = (await exists(path.join(dir, 'images'))) ? path.join(dir, 'images') : dir;
    const images = await imageIndex(imageDir);
    return Promise.all(txt.files.map(async (f) => {
      const source = path.join(txt.dir, f);
      const words = parseIcdarGt(await fsp.readFile(source, 'utf8'), options, source);
      return { imagePath: path.resolve(findImage(images, f, imageDir, source)), words };
    }));
  }

  const json = await annotationFiles(dir, '.json');
  if (json) {
    const imageDir = (await exists(path.join(dir, 'images'))) ? path.join(dir, 'images') : dir;
    const images = await imageIndex(imageDir);
    return Promise.all(json.files.map(async (f) => {
      const source = path.join(json.dir, f);
      let parsed: unknown;
      try {
        parsed = JSON.parse(await fsp.readFile(source, 'utf8'));
      } catch (e) {
        throw new Error(`${source}: invalid JSON (${(e as Error).message})`);
      }
      return { imagePath: path.resolve(findImage(images, f, imageDir, source)), words: parseFunsd(parsed, options, source) };
    }));
  }

  throw new Error(`No ground truth in ${dir}: expected gt.jsonl, gt/gt_img_*.txt (ICDAR) or gt/*.json (FUNSD)`);
}

async function readJsonl(file: string, baseDir: string, options: LoadDatasetOptions): Promise<DatasetSample[]> {
  const samples = parseGtJsonl(await fsp.readFile(file, 'utf8'), baseDir, file);
  const inclusive = options.inclusiveBoxes ?? (await hasInclusiveOriginals(baseDir));
  if (inclusive) for (const s of samples) for (const w of s.words) w.points = widenInclusiveBox(w.points);
  return samples;
}

/**
 * Whether `dir/gt/` holds the originals of an inclusive-box set (gt.jsonl of such a set keeps the coordinates as
 * written): ICDAR 2013-format `gt_*.txt` files (the first line of the first file is checked) or FUNSD `*.json`
 * annotations (the first file must parse with a "form" array).
 */
async function hasInclusiveOriginals(dir: string): Promise<boolean> {
  const gtDir = path.join(dir, 'gt');
  const files = await listDir(gtDir);
  const txt = files.filter((f) => /^gt_.*\.txt$/i.test(f)).sort(natural)[0];
  if (txt) return isIcdar2013Text(await fsp.readFile(path.join(gtDir, txt), 'utf8'));
  const json = files.filter((f) => f.toLowerCase().endsWith('.json')).sort(natural)[0];
  if (!json) return false;
  try {
    return Array.isArray((JSON.parse(await fsp.readFile(path.join(gtDir, json), 'utf8')) as { form?: unknown } | null)?.form);
  } catch {
    return false;
  }
}
