// Installed the way users install it: `npm pack` with the prebuild, published to a local verdaccio (127.0.0.1, no
// uplinks, started and stopped here) together with the production dependencies taken from the npm cache, then
// `npm install craft-text` into an empty directory with no compiler or CMake on PATH, and used from CommonJS, ESM
// and TypeScript. Needs prebuilds/<runtime>/craft.node (npm run build:prebuild; .ci/run always builds it).
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { runtimePlatform } from '../lib/binding';
import { evaluate, type GtWord } from '../lib/eval';
import { ROOT } from './helpers';

const RUNTIME = runtimePlatform();
const PREBUILD = path.join(ROOT, 'prebuilds', RUNTIME, 'craft.node');
const IMAGE = path.join(ROOT, 'examples', 'images', 'hello.png');
const GT: GtWord[] = JSON.parse(fs.readFileSync(path.join(ROOT, 'examples', 'images', 'hello.gt.jsonl'), 'utf8')).words;
const MAX_TARBALL = 30 * 1024 * 1024; // the models (25.7 MB: detector 5.2 + INT8 1.4, recogniser 15.1 + INT8 3.9) + one self-contained binary per platform

interface Ctx {
  tmp: string;
  registry: string;
  verdaccio?: ChildProcess;
  env: NodeJS.ProcessEnv;
  tarball: string;
  files: string[];
  consumer: string;
  installMs: number;
}

const I = suite<Ctx>('install from a local registry');
const present = fs.existsSync(PREBUILD);
if (!present) {
  console.log(`  (skipped: ${path.relative(ROOT, PREBUILD)} not built; npm run build:prebuild builds it, .ci/run does)`);
}

function sh(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`.slice(0, 4000));
  }
  return r;
}

/** An asynchronous spawn, so several publishes run at once. */
function shAsync(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv }): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(' ')}: ${code}\n${out}`))));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

/** The environment without the npm_* variables `npm test` sets (they would override the registry and cache). */
function cleanEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k)) env[k] = v;
  return { ...env, ...extra };
}

/** A bin directory with node, npm, npx and sh (npm runs scripts with it) only: no cc, c++, g++, cmake, make. */
function bareBin(dir: string): string {
  fs.mkdirSync(dir);
  const which = (cmd: string) => fs.realpathSync(sh('sh', ['-c', `command -v ${cmd}`]).stdout.trim());
  fs.symlinkSync(process.execPath, path.join(dir, 'node'));
  fs.symlinkSync('/bin/sh', path.join(dir, 'sh'));
  for (const cmd of ['npm', 'npx']) fs.symlinkSync(which(cmd), path.join(dir, cmd));
  return dir;
}

I.before(async (ctx) => {
  if (!present) return;
  ctx.tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'craft-install-'));
  const port = await freePort();
  ctx.registry = `http://127.0.0.1:${port}/`;
  const storage = path.join(ctx.tmp, 'storage');
  const config = path.join(ctx.tmp, 'verdaccio.yaml');
  fs.writeFileSync(config, [
    `storage: ${storage}`,
    `auth:\n  htpasswd:\n    file: ${path.join(ctx.tmp, 'htpasswd')}\n    max_users: 10`,
    'uplinks: {}', // nothing is proxied: every package must be published here
    "packages:\n  '@*/*':\n    access: $all\n    publish: $authenticated\n  '**':\n    access: $all\n    publish: $authenticated",
    `listen: 127.0.0.1:${port}`,
    'max_body_size: 500mb', // onnxruntime-node's tarball is ~115 MB
    'log: { type: stdout, format: pretty, level: warn }',
    'publish:\n  allow_offline: true',
    '',
  ].join('\n'));
  const log = fs.openSync(path.join(ctx.tmp, 'verdaccio.log'), 'w');
  ctx.verdaccio = spawn(process.execPath, [require.resolve('verdaccio/bin/verdaccio'), '--config', config],
    { stdio: ['ignore', log, log], env: cleanEnv({}) });
  const t0 = Date.now();
  for (;;) {
    try {
      if ((await fetch(`${ctx.registry}-/ping`)).ok) break;
    } catch { /* not listening yet */ }
    if (Date.now() - t0 > 60_000) throw new Error(`verdaccio did not start: ${fs.readFileSync(path.join(ctx.tmp, 'verdaccio.log'), 'utf8')}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const user = await fetch(`${ctx.registry}-/user/org.couchdb.user:ci`, {
    method: 'PUT', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'ci', password: 'ci-pass-123' }),
  });
  const { token } = await user.json() as { token: string };
  const npmrc = path.join(ctx.tmp, 'npmrc');
  fs.writeFileSync(npmrc, `registry=${ctx.registry}\n//127.0.0.1:${port}/:_authToken=${token}\n`);
  ctx.env = cleanEnv({
    npm_config_userconfig: npmrc, npm_config_registry: ctx.registry, npm_config_cache: path.join(ctx.tmp, 'npm-cache'),
    npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false',
    // onnxruntime-node's postinstall downloads CUDA files from NuGet unless told not to (README, docs/install.md).
    ONNXRUNTIME_NODE_INSTALL: 'skip',
  });

  // craft-text itself, as `npm publish` would pack it (dist/ is built by `npm test`).
  const pack = sh('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', ctx.tmp], { cwd: ROOT, env: cleanEnv({}) });
  const info = JSON.parse(pack.stdout)[0] as { filename: string; files: { path: string }[] };
  ctx.tarball = path.join(ctx.tmp, info.filename);
  ctx.files = info.files.map((f) => f.path);

  // Its production dependencies (package-lock.json), packed from the local npm cache (--offline: never npmjs).
  const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as
    { packages: Record<string, { version: string; dev?: boolean; devOptional?: boolean }> };
  const deps = Object.entries(lock.packages)
    .filter(([k, v]) => k.startsWith('node_modules/') && !v.dev && !v.devOptional)
    .map(([k, v]) => ({ dir: path.join(ROOT, k), spec: `${k.replace(/^.*node_modules\//, '')}@${v.version}` }));
  const depDir = path.join(ctx.tmp, 'deps');
  fs.mkdirSync(depDir);
  let t1 = Date.now();
  const tarballs = await Promise.all(deps.map(async ({ dir, spec }) => {
    const args = ['pack', '--offline', '--ignore-scripts', '--json', '--pack-destination', depDir];
    const out = await shAsync('npm', [...args, spec], { env: cleanEnv({}) })
      .catch(() => shAsync('npm', [...args, dir], { env: cleanEnv({}) })); // not cached: pack the installed copy
    return path.join(depDir, JSON.parse(out.slice(out.indexOf('[')))[0].filename as string);
  }));
  console.log(`  packed craft-text and ${deps.length} dependencies in ${((Date.now() - t1) / 1000).toFixed(1)} s`);
  t1 = Date.now();
  // Publish a few at a time (onnxruntime-node alone is ~115 MB).
  const queue = [...tarballs, ctx.tarball];
  await Promise.all([0, 1, 2, 3].map(async () => {
    for (let t = queue.shift(); t; t = queue.shift()) {
      await shAsync('npm', ['publish', `./${path.basename(t)}`, '--ignore-scripts', '--tag', 'latest'], { cwd: path.dirname(t), env: ctx.env });
    }
  }));
  console.log(`  published in ${((Date.now() - t1) / 1000).toFixed(1)} s`);
});

I.after(async (ctx) => {
  if (!present) return;
  ctx.verdaccio?.kill();
  if (ctx.tmp) fs.rmSync(ctx.tmp, { recursive: true, force: true });
});

I('the tarball holds the prebuild, built from these sources, and no tests, fixtures, checkpoints or benches', (ctx) => {
  if (!present) return;
  const size = fs.statSync(ctx.tarball).size;
  console.log(`  tarball ${(size / 1e6).toFixed(2)} MB, ${ctx.files.length} files; prebuild ${(fs.statSync(PREBUILD).size / 1e6).toFixed(2)} MB`);
  assert.ok(size < MAX_TARBALL, `tarball ${size} bytes`);
  for (const f of [`prebuilds/${RUNTIME}/craft.node`, `prebuilds/${RUNTIME}/craft.json`, 'dist/index.js', 'dist/index.d.ts',
    'models/craft-text-default.onnx', 'tools/install.js', 'CMakeLists.txt', 'binding/exports.map']) {
    assert.ok(ctx.files.includes(f), `${f} in the tarball`);
  }
  const unwanted = ctx.files.filter((f) => /^(test|bench|examples|tools\/train|docs|\.ci|\.github|build)\//.test(f) ||
    /\.(pth|pt|ckpt|safetensors|tgz)$/.test(f) || f === 'binding.gyp' || /fixtures/.test(f));
  assert.equal(unwanted, []);
  // The binary matches the sources it ships with (CI rebuilds it; a stale committed or copied prebuild fails here).
  const meta = JSON.parse(fs.readFileSync(path.join(path.dirname(PREBUILD), 'craft.json'), 'utf8')) as { sourceHash: string };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { sourceHash } = require('../tools/source-hash.js') as { sourceHash(): string };
  assert.is(meta.sourceHash, sourceHash(), 'prebuild is stale: run npm run build:prebuild');
});

I('npm install craft-text from the registry: no compiler on PATH, nothing built, a self-contained binary', (ctx) => {
  if (!present) return;
  ctx.consumer = path.join(ctx.tmp, 'consumer');
  fs.mkdirSync(ctx.consumer);
  fs.writeFileSync(path.join(ctx.consumer, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
  const PATH = bareBin(path.join(ctx.tmp, 'bin'));
  const env = { ...ctx.env, PATH };
  const tools = spawnSync('/bin/sh', ['-c', 'command -v cc c++ g++ gcc clang++ cmake make'], { encoding: 'utf8', env });
  assert.is(tools.stdout.trim(), '', 'no compiler or CMake reachable');
  const t0 = Date.now();
  const r = sh('npm', ['install', 'craft-text'], { cwd: ctx.consumer, env });
  ctx.installMs = Date.now() - t0;
  console.log(`  npm install craft-text: ${(ctx.installMs / 1000).toFixed(1)} s (empty cache, local registry)`);
  assert.not.match(r.stderr, /building from source/);
  const pkg = path.join(ctx.consumer, 'node_modules', 'craft-text');
  assert.not.ok(fs.existsSync(path.join(pkg, 'build')), 'nothing was compiled');
  const installed = path.join(pkg, 'prebuilds', RUNTIME, 'craft.node');
  assert.ok(fs.existsSync(installed));
  if (process.platform !== 'linux') return;
  const needed = sh('readelf', ['-d', installed]).stdout.split('\n').filter((l) => l.includes('(NEEDED)'))
    .map((l) => /\[(.*)\]/.exec(l)![1]);
  console.log(`  NEEDED: ${needed.join(' ')}`);
  // No libopencv*, libgif, libstdc++ or libgcc_s: OpenCV, the codecs and the C++ runtime are inside the binary.
  assert.equal(needed.filter((l) => !/^(libc|libm|libdl|libpthread|librt)\.so\.\d+$|^ld-linux|^libc\.musl/.test(l)), []);
});

I('CommonJS and ESM detect the README example\'s words', (ctx) => {
  if (!present) return;
  fs.writeFileSync(path.join(ctx.consumer, 'cjs.cjs'), `
const { Detector } = require('craft-text');
(async () => {
  const detector = await Detector.create({ threads: 1 });
  const r = await detector.detect(process.argv[2]);
  await detector.dispose();
  console.log(JSON.stringify(r.words));
})().catch((err) => { console.error(err); process.exit(1); });
`);
  fs.writeFileSync(path.join(ctx.consumer, 'esm.mjs'), `
import { Detector } from 'craft-text';
const detector = await Detector.create({ threads: 1 });
const r = await detector.detect(process.argv[2]);
await detector.dispose();
console.log(JSON.stringify(r.words));
`);
  // Not CRAFT_TEXT_BINARY or anything else from this checkout: the installed package alone.
  const env = cleanEnv({ CRAFT_TEXT_BINARY: '', CRAFT_TEXT_ORT_LIBRARY: '' });
  const cjs = JSON.parse(sh(process.execPath, ['cjs.cjs', IMAGE], { cwd: ctx.consumer, env }).stdout) as { box: [number, number][] }[];
  const esm = JSON.parse(sh(process.execPath, ['esm.mjs', IMAGE], { cwd: ctx.consumer, env }).stdout);
  assert.equal(esm, cjs);
  const e = evaluate([{ id: 'hello', gt: GT, det: cjs.map((w) => ({ points: w.box })) }]);
  console.log(`  ${cjs.length} words, H-mean ${e.hmean.toFixed(3)} against the example's ground truth`);
  assert.ok(e.hmean >= 0.7, `H-mean ${e.hmean}`);
});

I('TypeScript resolves the package\'s types', (ctx) => {
  if (!present) return;
  fs.writeFileSync(path.join(ctx.consumer, 'index.ts'), `
import { Detector, type DetectResult, type ImageInput } from 'craft-text';
export async function count(file: string): Promise<number> {
  const detector: Detector = await Detector.create({ threads: 1 });
  const input: ImageInput = file;
  const r: DetectResult = await detector.detect(input);
  // @ts-expect-error a number is not an ImageInput (this line fails to compile if the types resolved to any)
  await detector.detect(42);
  return r.words.length;
}
`);
  sh(process.execPath, [require.resolve('typescript/bin/tsc'), '--noEmit', '--strict', '--module', 'nodenext',
    '--moduleResolution', 'nodenext', '--target', 'es2022', '--types', 'node', '--typeRoots',
    path.join(ROOT, 'node_modules', '@types'), 'index.ts'], { cwd: ctx.consumer, env: cleanEnv({}) });
});

I('with --ignore-scripts the prebuild is used as is', (ctx) => {
  if (!present) return;
  const dir = path.join(ctx.tmp, 'consumer-ignore-scripts');
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'consumer2', version: '1.0.0', private: true }));
  sh('npm', ['install', '--ignore-scripts', 'craft-text'], { cwd: dir, env: { ...ctx.env, PATH: path.join(ctx.tmp, 'bin') } });
  const r = sh(process.execPath, ['-e', "console.log(require('craft-text/package.json').version, typeof require('craft-text').Detector)"],
    { cwd: dir, env: cleanEnv({}) });
  assert.match(r.stdout, /^\d+\.\d+\.\d+ function/);
  fs.copyFileSync(path.join(ctx.consumer, 'cjs.cjs'), path.join(dir, 'cjs.cjs'));
  const words = JSON.parse(sh(process.execPath, ['cjs.cjs', IMAGE], { cwd: dir, env: cleanEnv({}) }).stdout) as unknown[];
  assert.ok(words.length > 0);
});

I.run();
