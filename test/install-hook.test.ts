// tools/install.js, the npm install hook: nothing when a prebuild loads; a source build only when none does or when
// asked to; never a package manager. Run on a copy of the package layout with a PATH that has node and sh only.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { bindingCandidates, runtimePlatform } from '../lib/binding';
import { ROOT } from './helpers';

const H = suite<{ tmp: string; bin: string; addon?: string }>('install hook');

H.before((ctx) => {
  ctx.tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'craft-hook-'));
  ctx.bin = path.join(ctx.tmp, 'bin');
  fs.mkdirSync(ctx.bin);
  fs.symlinkSync(process.execPath, path.join(ctx.bin, 'node'));
  fs.symlinkSync('/bin/sh', path.join(ctx.bin, 'sh'));
  ctx.addon = bindingCandidates().map((c) => c.file).find((f) => fs.existsSync(f));
});
H.after((ctx) => {
  fs.rmSync(ctx.tmp, { recursive: true, force: true });
});

/** A package directory holding tools/install.js and, optionally, a prebuild for this runtime. */
function pkg(ctx: { tmp: string }, name: string, prebuild?: string): string {
  const dir = path.join(ctx.tmp, name);
  fs.mkdirSync(path.join(dir, 'tools'), { recursive: true });
  fs.copyFileSync(path.join(ROOT, 'tools', 'install.js'), path.join(dir, 'tools', 'install.js'));
  if (prebuild) {
    fs.mkdirSync(path.join(dir, 'prebuilds', runtimePlatform()), { recursive: true });
    fs.copyFileSync(prebuild, path.join(dir, 'prebuilds', runtimePlatform(), 'craft.node'));
  }
  return dir;
}

function hook(dir: string, bin: string, env: NodeJS.ProcessEnv = {}) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(npm_|CRAFT_TEXT_)/i.test(k)));
  return spawnSync(process.execPath, [path.join(dir, 'tools', 'install.js')],
    { cwd: dir, encoding: 'utf8', env: { ...clean, PATH: bin, ...env } });
}

H('does nothing when the prebuild for this runtime loads', (ctx) => {
  if (!ctx.addon) { console.log('  (skipped: no built addon to stand in for a prebuild)'); return; }
  const dir = pkg(ctx, 'with-prebuild', ctx.addon);
  const r = hook(dir, ctx.bin);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stderr, '');
  assert.not.ok(fs.existsSync(path.join(dir, 'build')));
});

H('without a prebuild and without build tools: fails naming what is missing and how to set it up', (ctx) => {
  const r = hook(pkg(ctx, 'bare'), ctx.bin);
  assert.is(r.status, 1);
  assert.match(r.stderr, `no prebuild for ${runtimePlatform()}`);
  assert.match(r.stderr, /cmake \(>= 3\.18\) and a C\+\+17 compiler not found/);
  assert.match(r.stderr, 'npm run setup-system');
});

H('--build-from-source (npm_config_build_from_source) skips a prebuild that loads', (ctx) => {
  if (!ctx.addon) { console.log('  (skipped: no built addon to stand in for a prebuild)'); return; }
  const dir = pkg(ctx, 'from-source', ctx.addon);
  for (const env of [{ npm_config_build_from_source: 'true' }, { CRAFT_TEXT_BUILD_FROM_SOURCE: '1' }]) {
    const r = hook(dir, ctx.bin, env);
    assert.is(r.status, 1, JSON.stringify(env));
    assert.not.match(r.stderr, 'no prebuild');
    assert.match(r.stderr, 'cannot build the native addon from source');
  }
});

H('never runs a package manager', () => {
  const src = fs.readFileSync(path.join(ROOT, 'tools', 'install.js'), 'utf8');
  assert.not.match(src, /spawnSync\([^)]*(apt|setup-system|yum|apk|brew)/);
  assert.not.match(src, /run\('bash'/);
});

H.run();
