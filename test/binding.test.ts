// The addon loader (lib/binding.ts): candidate order, runtime names, and the one error that lists what was tried.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { bindingCandidates, libcFamily, loadBinding, runtimePlatform, type BindingCandidate } from '../lib/binding';
import { ROOT } from './helpers';

const B = suite('binding loader');

B('runtime names follow sharp: <platform>[musl]-<arch>', () => {
  const rt = runtimePlatform();
  assert.match(rt, new RegExp(`^${process.platform}(musl)?-${process.arch}$`));
  if (process.platform === 'linux') {
    // This machine's node is a glibc build (its process report says so): the runtime must not be the musl one.
    const glibc = (process.report!.getReport() as { header: { glibcVersionRuntime?: string } }).header.glibcVersionRuntime;
    assert.is(libcFamily(), glibc ? 'glibc' : 'musl');
    assert.is(rt.includes('musl'), !glibc);
  }
});

B('a build from source comes before the prebuild; CRAFT_TEXT_BINARY replaces both', () => {
  const list = bindingCandidates({});
  assert.equal(list.map((c) => c.kind), ['build', 'prebuild']);
  assert.is(list[0].file, path.join(ROOT, 'build', 'Release', 'craft.node'));
  assert.is(list[1].file, path.join(ROOT, 'prebuilds', runtimePlatform(), 'craft.node'));
  assert.equal(bindingCandidates({ CRAFT_TEXT_BINARY: 'x/craft.node' }), [{ file: path.resolve('x/craft.node'), kind: 'override' }]);
});

B('the first candidate that loads wins; missing files are skipped', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'craft-binding-'));
  try {
    const a = path.join(dir, 'a.node'), b = path.join(dir, 'b.node');
    fs.writeFileSync(b, '');
    const loaded: string[] = [];
    const got = loadBinding([{ file: a, kind: 'build' }, { file: b, kind: 'build' }], (f) => { loaded.push(f); return { which: f }; });
    assert.equal(got, { which: b });
    assert.equal(loaded, [b]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

B('failing all, one ERR_CRAFT_BINDING error lists each path with its reason and the possible solutions', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'craft-binding-'));
  try {
    const missing = path.join(dir, 'missing.node');
    const old = path.join(dir, 'prebuilds', 'linux-x64', 'craft.node');
    fs.mkdirSync(path.dirname(old), { recursive: true });
    fs.writeFileSync(old, '');
    fs.writeFileSync(path.join(path.dirname(old), 'craft.json'), JSON.stringify({ glibc: '2.31' }));
    const candidates: BindingCandidate[] = [{ file: missing, kind: 'build' }, { file: old, kind: 'build' }];
    let err: (Error & { code?: string }) | undefined;
    try {
      loadBinding(candidates, () => { throw new Error(`/lib/x86_64-linux-gnu/libc.so.6: version \`GLIBC_2.34' not found (required by ${old})`); });
    } catch (e) { err = e as Error & { code?: string }; }
    assert.ok(err);
    assert.is(err!.code, 'ERR_CRAFT_BINDING');
    const msg = err!.message;
    assert.match(msg, `for the ${runtimePlatform()} runtime`);
    assert.match(msg, `${missing}: not found`);
    assert.match(msg, `${old}: /lib/x86_64-linux-gnu/libc.so.6: version`);
    assert.match(msg, 'Possible solutions:');
    assert.match(msg, /Update your OS: found glibc .*, the prebuilt binary requires glibc >= 2\.31/);
    assert.match(msg, 'npm rebuild craft-text --build-from-source');

    let dl: Error | undefined;
    try {
      loadBinding([{ file: old, kind: 'build' }], () => { throw Object.assign(new Error('Cannot load native addon because loading addons is disabled'), { code: 'ERR_DLOPEN_DISABLED' }); });
    } catch (e) { dl = e as Error; }
    assert.match(dl!.message, 'without the --no-addons flag');
    assert.not.match(dl!.message, 'Update your OS');

    let override: Error | undefined;
    try { loadBinding([{ file: missing, kind: 'override' }]); } catch (e) { override = e as Error; }
    assert.match(override!.message, 'CRAFT_TEXT_BINARY');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

B('the real addon loads through the same path', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const b = loadBinding(bindingCandidates()) as { opencvVersion: string };
  assert.match(b.opencvVersion, /^4\./);
});

B.run();
