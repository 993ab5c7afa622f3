// Reading order on hand-made pages with known answers (lib/layout.ts).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { pageSkew, readingOrder, type Point } from '../lib';

const Layout = suite('layout');

/** An axis-aligned word box. */
const box = (x: number, y: number, w: number, h = 20): Point[] => [[x, y], [x + w, y], [x + w, y + h], [x, y + h]];
/** A box rotated by `deg` about the page origin. */
const rotated = (b: Point[], deg: number): Point[] => {
  const a = (deg * Math.PI) / 180, c = Math.cos(a), s = Math.sin(a);
  return b.map(([x, y]) => [x * c - y * s, x * s + y * c]);
};
/** Words as named boxes; the reading order as lines of names. */
function read(words: [string, Point[]][], options?: Parameters<typeof readingOrder>[1]): string[] {
  return readingOrder(words.map((w) => w[1]), options).map((l) => l.words.map((i) => words[i][0]).join(' '));
}
function shuffle<T>(a: T[], seed = 3): T[] {
  const out = [...a];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

Layout('no words, no lines', () => {
  assert.equal(readingOrder([]), []);
});

Layout('one line, given in any order, reads left to right; its box surrounds the words', () => {
  const words: [string, Point[]][] = [['the', box(10, 10, 40)], ['quick', box(60, 12, 60)], ['fox', box(130, 9, 35)]];
  assert.equal(read(shuffle(words)), ['the quick fox']);
  const [line] = readingOrder(words.map((w) => w[1]));
  assert.equal(line.box, [[10, 9], [165, 9], [165, 32], [10, 32]]);
});

Layout('lines top to bottom; words jittered vertically stay on their line', () => {
  const words: [string, Point[]][] = [
    ['a1', box(10, 10, 50)], ['a2', box(70, 14, 50)], ['a3', box(130, 7, 50)],
    ['b1', box(10, 40, 50)], ['b2', box(70, 37, 50)],
    ['c1', box(10, 70, 80)],
  ];
  assert.equal(read(shuffle(words)), ['a1 a2 a3', 'b1 b2', 'c1']);
});

Layout('a skewed page (6°) reads line by line', () => {
  const lines = [0, 1, 2, 3].map((r) => [0, 1, 2, 3, 4].map((c) => [`${r}${c}`, rotated(box(20 + c * 90, 20 + r * 32, 80), 6)] as [string, Point[]]));
  assert.ok(Math.abs(pageSkew(lines.flat().map((w) => w[1])) - (6 * Math.PI) / 180) < 1e-9);
  assert.equal(read(shuffle(lines.flat())), lines.map((l) => l.map((w) => w[0]).join(' ')));
});

Layout('a two-column page: title, then the left column, then the right column', () => {
  const words: [string, Point[]][] = [['Title', box(300, 5, 120, 30)], ['of', box(430, 5, 40, 30)], ['page', box(480, 5, 100, 30)]];
  for (let r = 0; r < 4; r++) {
    // Rows of the two columns at the same heights (the hard case: a row-wise cut would interleave them).
    for (let c = 0; c < 4; c++) words.push([`L${r}${c}`, box(10 + c * 90, 60 + r * 30, 80)]);
    for (let c = 0; c < 4; c++) words.push([`R${r}${c}`, box(420 + c * 90, 60 + r * 30, 80)]);
  }
  const row = (side: string, r: number) => [0, 1, 2, 3].map((c) => `${side}${r}${c}`).join(' ');
  assert.equal(read(shuffle(words)), ['Title of page', ...[0, 1, 2, 3].map((r) => row('L', r)), ...[0, 1, 2, 3].map((r) => row('R', r))]);
  // Without column detection the rows would be read across.
  assert.equal(read(words, { columnGap: Infinity })[1], `${row('L', 0)} ${row('R', 0)}`);
});

Layout('a table or a form keeps its rows: narrow cells across wide gaps are not columns', () => {
  const words: [string, Point[]][] = [];
  for (let r = 0; r < 5; r++) {
    words.push([`key${r}`, box(10, 10 + r * 30, 80)], [`a${r}`, box(200, 10 + r * 30, 40)], [`b${r}`, box(400, 10 + r * 30, 50)]);
  }
  assert.equal(read(shuffle(words)), [0, 1, 2, 3, 4].map((r) => `key${r} a${r} b${r}`));
  // Asking for columns at one word per line reads them one after the other.
  assert.equal(read(words, { minColumnWords: 1 })[0], 'key0');
});

Layout('an ordinary word gap is not a column gutter', () => {
  const words: [string, Point[]][] = [];
  for (let r = 0; r < 3; r++) words.push([`${r}a`, box(10, 10 + r * 30, 60)], [`${r}b`, box(80, 10 + r * 30, 60)]);
  assert.equal(read(words), ['0a 0b', '1a 1b', '2a 2b']);
});

Layout('every word is in exactly one line', () => {
  const words: [string, Point[]][] = [];
  let s = 9;
  const rand = () => ((s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  for (let i = 0; i < 200; i++) words.push([`w${i}`, box(rand() * 1000, rand() * 1400, 20 + rand() * 100, 10 + rand() * 20)]);
  const lines = readingOrder(words.map((w) => w[1]));
  const seen = lines.flatMap((l) => l.words).sort((a, b) => a - b);
  assert.equal(seen, words.map((_, i) => i));
});

Layout.run();
