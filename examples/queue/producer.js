// Sends images to a craft-text worker fleet and prints one JSON line per image as results come in.
//
//   node examples/queue/producer.js --redis redis://127.0.0.1:6379 --queue pages [--op read] [--by-path] image...
//
// Without --by-path the image bytes travel in the job (up to 10 MiB each); with it, only the absolute path does, and
// the workers read the file themselves (shared storage: the same path must exist on every worker).
// Job ids are derived from the paths, so running the producer twice over the same files adds no duplicate jobs.
// Exit code: 0 when every image succeeded, 1 when some failed, 2 for a usage error.
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { parseArgs } = require('node:util');

/** craft-text/queue: this repository's build when run from it, else the installed package. */
function loadQueue() {
  try { return require('../../dist/queue'); } catch { return require('craft-text/queue'); }
}

async function main(argv) {
  let values, positionals;
  try {
    ({ values, positionals } = parseArgs({
      args: argv, allowPositionals: true,
      options: { redis: { type: 'string' }, queue: { type: 'string' }, op: { type: 'string' }, 'by-path': { type: 'boolean' },
        'timeout-ms': { type: 'string' } },
    }));
  } catch (err) {
    process.stderr.write(`${err.message}\n`);
    return 2;
  }
  const redis = values.redis ?? process.env.CRAFT_REDIS_URL;
  if (!redis || !values.queue || positionals.length === 0) {
    process.stderr.write('usage: producer.js --redis URL --queue NAME [--op detect|read] [--by-path] image...\n');
    return 2;
  }
  const { createQueue, enqueueMany, results } = loadQueue();
  const queue = createQueue({ connection: redis, queue: values.queue });
  try {
    const files = positionals.map((p) => path.resolve(p));
    const items = files.map((file) => ({
      input: values['by-path'] ? file : fs.readFileSync(file),
      jobId: `img-${crypto.createHash('sha1').update(file).digest('hex').slice(0, 16)}`,
    }));
    const ids = await enqueueMany(queue, items, { op: values.op ?? 'detect' });
    const fileOf = new Map(ids.map((id, i) => [id, positionals[i]]));
    let failed = 0;
    const timeoutMs = values['timeout-ms'] === undefined ? undefined : Number(values['timeout-ms']);
    for await (const o of results(queue, ids, { timeoutMs })) {
      if (!o.ok) failed++;
      const line = o.ok ? { image: fileOf.get(o.id), id: o.id, width: o.result.width, height: o.result.height, words: o.result.words, ...(o.result.text !== undefined ? { text: o.result.text } : {}) }
        : { image: fileOf.get(o.id), id: o.id, error: o.error };
      process.stdout.write(JSON.stringify(line) + '\n');
    }
    return failed > 0 ? 1 : 0;
  } finally {
    await queue.close();
  }
}

module.exports = { main };

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (err) => {
    process.stderr.write(`${err.code ? err.code + ': ' : ''}${err.message}\n`);
    process.exitCode = 1;
  });
}
