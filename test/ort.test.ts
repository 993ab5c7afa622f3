// Loading ONNX Runtime: each case runs in a fresh process, since a process loads one runtime only.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ROOT, TINY_MODEL } from './helpers';

/** Runs Detector.create in a child process and returns the JSON it prints (ok or error). */
function createIn(child: { ortLibrary?: string; env?: Record<string, string> }): { ok?: boolean; code?: string; message?: string; version?: string } {
  const script = `
    const { Detector } = require(${JSON.stringify(path.join(ROOT, 'dist'))});
    Detector.create({ model: ${JSON.stringify(TINY_MODEL)}${child.ortLibrary ? `, ortLibrary: ${JSON.stringify(child.ortLibrary)}` : ''} })
      .then(async (d) => { console.log(JSON.stringify({ ok: true, version: d.info.onnxruntime.version, path: d.info.onnxruntime.path })); await d.dispose(); })
      .catch((e) => console.log(JSON.stringify({ code: e.code, message: e.message })));`;
  const r = spawnSync(process.execPath, ['-e', script], { env: { ...process.env, ...child.env }, encoding: 'utf8' });
  assert.is(r.status, 0, `child exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

test('the default runtime is onnxruntime-node\'s library', () => {
  const r = createIn({});
  assert.ok(r.ok, JSON.stringify(r));
  assert.match(r.version!, /^1\./);
});

test('a missing library is ERR_CRAFT_ORT_LOAD naming the path', () => {
  const r = createIn({ ortLibrary: '/nonexistent/libonnxruntime.so.1' });
  assert.is(r.code, 'ERR_CRAFT_ORT_LOAD');
  assert.match(r.message!, /\/nonexistent\/libonnxruntime\.so\.1/);
});

test('CRAFT_TEXT_ORT_LIBRARY is honoured', () => {
  const r = createIn({ env: { CRAFT_TEXT_ORT_LIBRARY: '/nonexistent/from-env.so' } });
  assert.is(r.code, 'ERR_CRAFT_ORT_LOAD');
  assert.match(r.message!, /from-env\.so/);
});

test('a shared library that is not ONNX Runtime is refused', () => {
  const libc = ['/lib/x86_64-linux-gnu/libc.so.6', '/usr/lib/x86_64-linux-gnu/libc.so.6', '/lib64/libc.so.6'].find((p) => fs.existsSync(p));
  if (!libc) return;
  const r = createIn({ ortLibrary: libc });
  assert.is(r.code, 'ERR_CRAFT_ORT_LOAD');
  assert.match(r.message!, /not an ONNX Runtime library/);
});

test('a runtime older than the headers gives a clear error, not a crash', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'craft-ort-'));
  const lib = path.join(dir, 'libonnxruntime.so.1');
  execFileSync('cc', ['-shared', '-fPIC', '-o', lib, path.join(ROOT, 'test', 'native', 'fake_old_ort.c')]);
  const r = createIn({ ortLibrary: lib });
  fs.rmSync(dir, { recursive: true, force: true });
  assert.is(r.code, 'ERR_CRAFT_ORT_LOAD');
  assert.match(r.message!, /ONNX Runtime 1\.10\.0 .* is too old: craft-text needs API version \d+/);
});

test.run();
