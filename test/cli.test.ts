// The craft-text CLI as a user runs it (node dist/cli/main.js, built by `npm test`): argument errors exit with 2
// and a clear message, detect --out/--heatmap write pictures, bench --json records what it measured and on what.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { IMAGES, ROOT, TINY_MODEL } from './helpers';

const CLI = path.join(ROOT, 'dist', 'cli', 'main.js');
const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: ROOT });
const HELLO = path.join(IMAGES, 'hello.png');

/** Decodes an 8-bit RGB/RGBA PNG far enough to prove it is whole: size from IHDR, inflated IDAT length. */
function decodePng(file: string): { width: number; height: number; channels: number } {
  const b = fs.readFileSync(file);
  assert.equal([...b.subarray(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10], `${file} has the PNG signature`);
  let off = 8, width = 0, height = 0, channels = 0;
  const idat: Buffer[] = [];
  let ended = false;
  while (off < b.length) {
    const len = b.readUInt32BE(off), type = b.toString('latin1', off + 4, off + 8);
    const data = b.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      assert.is(data[8], 8, 'bit depth');
      channels = ({ 0: 1, 2: 3, 6: 4 } as Record<number, number>)[data[9]];
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') ended = true;
    off += 12 + len;
  }
  assert.ok(ended, 'IEND present');
  const raw = zlib.inflateSync(Buffer.concat(idat));
  assert.is(raw.length, height * (1 + width * channels), 'inflated image data has one filter byte + pixels per row');
  return { width, height, channels };
}

const C = suite<{ tmp: string }>('cli');
C.before((ctx) => { ctx.tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'craft-cli-')); });
C.after((ctx) => { fs.rmSync(ctx.tmp, { recursive: true, force: true }); });

C('no command prints usage (exit 2); help exits 0; an unknown command exits 2', () => {
  let r = cli();
  assert.is(r.status, 2);
  assert.match(r.stdout, /craft-text detect/);
  assert.match(r.stdout, /craft-text eval/);
  assert.match(r.stdout, /craft-text bench/);
  r = cli('--help');
  assert.is(r.status, 0);
  for (const c of ['detect', 'eval', 'bench']) {
    r = cli(c, '--help');
    assert.is(r.status, 0);
    assert.match(r.stdout, new RegExp(`Usage: craft-text ${c}`));
  }
  r = cli('detecc', HELLO);
  assert.is(r.status, 2);
  assert.match(r.stderr, /unknown command 'detecc'/);
});

C('argument errors: clear message on stderr, usage line, exit code 2, nothing on stdout', (ctx) => {
  const cases: [string[], RegExp][] = [
    [['detect', HELLO, '--bogus'], /Unknown option '--bogus'/],
    [['detect'], /detect needs at least one image/],
    [['detect', path.join(ctx.tmp, 'missing.png')], /no such file: .*missing\.png/],
    [['detect', HELLO, '--text-threshold', 'abc'], /--text-threshold expects a number between 0 and 1, got 'abc'/],
    [['detect', HELLO, '--canvas-size', '100.5'], /--canvas-size expects an integer/],
    [['detect', HELLO, '--threads=-1'], /--threads expects an integer between 0 and 1024, got '-1'/],
    [['detect', HELLO, '--threads', '-1'], /'--threads' argument is ambiguous/],
    [['detect', HELLO, '--link-threshold'], /argument missing|--link-threshold/],
    [['detect', HELLO, '--out', path.join(ctx.tmp, 'boxes.gifx')], /--out must end in .png/],
    [['detect', HELLO, '--out', path.join(ctx.tmp, 'nope', 'boxes.png')], /--out: no such folder/],
    [['detect', HELLO, '--heatmap', path.join(ctx.tmp, 'h.txt')], /--heatmap must end in/],
    [['detect', HELLO, HELLO, '--out', path.join(ctx.tmp, 'x.png')], /--out must be an existing folder when several images/],
    [['bench', HELLO, '--runs', '0'], /--runs expects an integer between 1/],
    [['bench', HELLO, '--concurrency', '1,x'], /--concurrency expects an integer/],
    [['bench', HELLO, '--concurrency', ''], /--concurrency expects an integer/],
    [['bench', path.join(ctx.tmp, 'missing.png')], /no such file/],
    [['bench', '--warp'], /Unknown option '--warp'/],
    [['bench', HELLO, '--mag-ratio', 'NaN'], /--mag-ratio expects a number/],
    // decimal notation only (Number() would read hex, binary, octal and padded text; issue 12)
    [['detect', HELLO, '--text-threshold=0x1'], /--text-threshold expects a number between 0 and 1, got '0x1'/],
    [['detect', HELLO, '--low-text=0b1'], /--low-text expects a number/],
    [['detect', HELLO, '--canvas-size=0o777'], /--canvas-size expects an integer/],
    [['detect', HELLO, '--mag-ratio= 1.5'], /--mag-ratio expects a number/],
    [['detect', HELLO, '--mag-ratio=Infinity'], /--mag-ratio expects a number/],
    [['detect', '-', '-'], /standard input \(-\) can be read only once/],
  ];
  for (const [args, message] of cases) {
    const r = cli(...args);
    assert.is(r.status, 2, `${args.join(' ')}: exit ${r.status}, stderr ${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
    assert.match(r.stderr, new RegExp(`Usage: craft-text ${args[0]}`));
    assert.is(r.stdout, '', args.join(' '));
  }
});

C('decimal flags in every accepted notation still work (1, 0.5, .5, 5e-1)', () => {
  for (const v of ['0.5', '.5', '5e-1', '+0.5']) {
    const r = cli('detect', HELLO, '--model', TINY_MODEL, `--text-threshold=${v}`, '--json');
    assert.is(r.status, 0, `${v}: ${r.stderr}`);
  }
});

C('detect - reads the image from stdin (text, --json and --out)', (ctx) => {
  const png = fs.readFileSync(HELLO);
  const run = (...args: string[]) => spawnSync(process.execPath, [CLI, 'detect', ...args, '--model', TINY_MODEL], { encoding: 'utf8', cwd: ROOT, input: png });
  let r = run('-');
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /^-: 400x200, \d+ words/);
  r = run('-', '--json');
  assert.is(r.status, 0, r.stderr);
  const line = JSON.parse(r.stdout.trim());
  assert.is(line.image, '-');
  assert.is(line.width, 400);
  assert.ok(line.words.length > 0);
  const out = path.join(ctx.tmp, 'stdin.boxes.png');
  r = run('-', '--out', out);
  assert.is(r.status, 0, r.stderr);
  assert.equal(decodePng(out).width, 400);
  // a file and stdin together
  r = run(HELLO, '-', '--json');
  assert.is(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim().split('\n').map((l) => JSON.parse(l).image), [HELLO, '-']);
});

C('read - reads the image from stdin too; its failures quote names with control characters', (ctx) => {
  const rec = path.join(ROOT, 'test', 'models', 'crnn-tiny.onnx');
  const r = spawnSync(process.execPath, [CLI, 'read', '-', '--json', '--model', TINY_MODEL, '--recognizer', rec],
    { encoding: 'utf8', cwd: ROOT, input: fs.readFileSync(HELLO) });
  assert.is(r.status, 0, r.stderr);
  const line = JSON.parse(r.stdout.trim());
  assert.is(line.image, '-');
  assert.is(line.width, 400);
  const bad = path.join(ctx.tmp, 'c\nfake: ERR_NONE.png');
  fs.writeFileSync(bad, 'not an image');
  const f = spawnSync(process.execPath, [CLI, 'read', bad, '--model', TINY_MODEL, '--recognizer', rec], { encoding: 'utf8', cwd: ROOT });
  assert.is(f.status, 1, f.stderr);
  assert.is(f.stderr.trim().split('\n').length, 1, f.stderr);
});

C('file names with newlines or escape sequences can\'t forge output lines (printed quoted)', (ctx) => {
  const name = path.join(ctx.tmp, 'a\nforged.png: 1x1, 99 words\x1b[2J.png');
  fs.copyFileSync(HELLO, name);
  const r = cli('detect', name, '--model', TINY_MODEL);
  assert.is(r.status, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.ok(!lines.some((l) => l.startsWith('forged.png')), r.stdout);
  assert.ok(!r.stdout.includes('\x1b'), 'no raw escape sequence');
  assert.is(lines[0], `${JSON.stringify(name)}: ${lines[0].slice(JSON.stringify(name).length + 2)}`);
  assert.match(lines[0], /a\\nforged\.png.*\\u001b\[2J\.png": 400x200/);
  // failures (stderr) too
  const bad = path.join(ctx.tmp, 'b\nfake: ERR_NONE.png');
  fs.writeFileSync(bad, 'not an image');
  const f = cli('detect', bad, '--model', TINY_MODEL);
  assert.is(f.status, 1);
  assert.is(f.stderr.trim().split('\n').length, 1, f.stderr);
  // --json was always safe (JSON strings escape control characters)
  const j = cli('detect', name, '--model', TINY_MODEL, '--json');
  assert.is(JSON.parse(j.stdout.trim()).image, name);
});

C('a model that fails to load is a failure (exit 1), not a usage error', (ctx) => {
  const bad = path.join(ctx.tmp, 'bad.onnx');
  fs.writeFileSync(bad, 'not a model');
  const r = cli('detect', HELLO, '--model', bad);
  assert.is(r.status, 1);
  assert.match(r.stderr, /ERR_CRAFT_MODEL_LOAD/);
});

C('detect --out draws on the image (same size); --heatmap writes both maps side by side', (ctx) => {
  const out = path.join(ctx.tmp, 'boxes.png'), heat = path.join(ctx.tmp, 'heat.png');
  const r = cli('detect', HELLO, '--model', TINY_MODEL, '--out', out, '--heatmap', heat, '--polygons', '--json');
  assert.is(r.status, 0, r.stderr);
  const line = JSON.parse(r.stdout);
  assert.is(line.out, out);
  assert.is(line.heatmap, heat);
  const boxes = decodePng(out);
  assert.equal([boxes.width, boxes.height], [400, 200]);
  // hello.png 400x200, magRatio 1.5 -> 600x300, padded to 608x320, heatmaps half that: 304x160, two side by side.
  const hm = decodePng(heat);
  assert.equal([hm.width, hm.height], [608, 160]);
  assert.is(hm.channels, 3);
  assert.ok(!fs.readFileSync(out).equals(fs.readFileSync(HELLO)), 'the picture differs from the input');
});

C('detect --out with several images writes NAME.boxes.png into a folder; jpg output by extension', (ctx) => {
  const dir = path.join(ctx.tmp, 'many');
  fs.mkdirSync(dir);
  let r = cli('detect', HELLO, path.join(IMAGES, 'tall.png'), '--model', TINY_MODEL, '--out', dir, '--heatmap', dir);
  assert.is(r.status, 0, r.stderr);
  assert.equal(fs.readdirSync(dir).sort(), ['hello.boxes.png', 'hello.heatmap.png', 'tall.boxes.png', 'tall.heatmap.png']);
  assert.equal(Object.values(decodePng(path.join(dir, 'tall.boxes.png'))).slice(0, 2), [333, 1600]);
  const jpg = path.join(ctx.tmp, 'boxes.jpg');
  r = cli('detect', HELLO, '--model', TINY_MODEL, '--out', jpg);
  assert.is(r.status, 0, r.stderr);
  const b = fs.readFileSync(jpg);
  assert.equal([b[0], b[1], b[2]], [0xff, 0xd8, 0xff], 'JPEG signature');
  assert.match(r.stdout, /wrote boxes: .*boxes\.jpg/);
});

C('bench --json --runs 2 records stages, percentiles, throughput, RSS, machine, versions and threads', () => {
  const r = cli('bench', HELLO, '--model', TINY_MODEL, '--json', '--runs', '2', '--concurrency', '1,2', '--threads', '1');
  assert.is(r.status, 0, r.stderr);
  const rep = JSON.parse(r.stdout);
  assert.is(rep.runs, 2);
  assert.is(rep.images.length, 1);
  assert.equal([rep.images[0].width, rep.images[0].height, rep.images[0].networkWidth, rep.images[0].networkHeight], [400, 200, 608, 320]);
  const env = rep.environment;
  assert.ok(env.machine.cpu.length > 0);
  assert.ok(env.machine.logicalCpus >= 1);
  assert.match(env.node, /^v\d+/);
  assert.match(env.onnxruntime.version, /^1\.\d+/);
  assert.match(env.onnxruntimeNode, /^1\.\d+/);
  assert.is(env.threads.intraOp, 1);
  assert.is(env.threads.interOp, 1);
  assert.is(rep.bare.sessionOptions.intraOpNumThreads, 1);
  assert.type(env.threads.spinning, 'boolean');
  assert.ok(env.scheduler.concurrency >= 1, 'the scheduler settings are recorded');
  assert.is(rep.bare.sessionOptions.extra['session.intra_op.allow_spinning'], env.threads.spinning ? undefined : '0');
  assert.equal(rep.results.map((x: { concurrency: number }) => x.concurrency), [1, 2]);
  for (const res of rep.results) {
    const c = res.craftText;
    for (const k of ['p50', 'p95', 'p99']) assert.ok(c.latencyMs[k] > 0, `craft-text ${k}`);
    for (const k of ['p50', 'p95', 'p99']) assert.ok(res.bare.latencyMs[k] > 0, `bare ${k}`);
    assert.ok(c.latencyMs.p50 <= c.latencyMs.p95 && c.latencyMs.p95 <= c.latencyMs.p99);
    assert.is(c.latencyMs.n, 2 * Math.max(1, 2 * res.concurrency));
    for (const k of ['decode', 'preprocess', 'inference', 'postprocess']) assert.ok(c.stageMedianMs[k] >= 0, k);
    assert.ok(c.stageMedianMs.inference > 0);
    assert.ok(c.throughput > 0 && res.bare.throughput > 0);
    assert.ok(res.ratio.latencyP50 > 0 && res.ratio.throughput > 0);
  }
  assert.ok(rep.peakRssBytes >= rep.peakRssCraftOnlyBytes && rep.peakRssCraftOnlyBytes > 10e6);
});

C('bench --no-bare measures craft-text alone; the text report names the contenders', () => {
  let r = cli('bench', HELLO, '--model', TINY_MODEL, '--json', '--runs', '1', '--concurrency', '1', '--no-bare', '--warmup', '0');
  assert.is(r.status, 0, r.stderr);
  const rep = JSON.parse(r.stdout);
  assert.is(rep.bare, null);
  assert.not.ok('bare' in rep.results[0]);
  r = cli('bench', HELLO, '--model', TINY_MODEL, '--runs', '1', '--concurrency', '1');
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /craft-text detect\(\)\s+p50/);
  assert.match(r.stdout, /bare onnxruntime\s+p50/);
  assert.match(r.stdout, /peak RSS/);
});

C.run();
