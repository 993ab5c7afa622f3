// A throwaway redis-server for tests and benchmarks: a free loopback port, a temporary directory, no RDB snapshots,
// optional AOF; stop() kills it and removes the directory. Needs Debian's `redis-server` (tools/setup-redis.sh).
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

/** Path of redis-server, or undefined when it is not installed. */
function redisServerPath() {
  for (const p of [process.env.REDIS_SERVER, '/usr/bin/redis-server', '/usr/local/bin/redis-server']) {
    if (p && fs.existsSync(p)) return p;
  }
  const r = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() ? r.stdout.trim() : undefined;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Resolves once a PING on the port gets +PONG (or rejects after timeoutMs). */
async function waitForPing(port, timeoutMs = 10000) {
  const t0 = Date.now();
  for (;;) {
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      let buf = '';
      s.setTimeout(500, () => { s.destroy(); resolve(false); });
      s.once('error', () => resolve(false));
      s.on('data', (d) => { buf += d; if (buf.includes('\r\n')) { s.destroy(); resolve(buf.startsWith('+PONG')); } });
      s.once('connect', () => s.write('PING\r\n'));
    });
    if (ok) return;
    if (Date.now() - t0 > timeoutMs) throw new Error(`redis-server on port ${port} did not answer within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Starts redis-server. Options: `appendonly` (AOF on, fsync every second), `port` (default: a free one).
 * @returns {Promise<{ url: string, port: number, dir: string, pid: number, stop(): Promise<void>, kill(): Promise<void>, restart(): Promise<void> }>}
 *   `stop()` shuts it down cleanly (AOF flushed) and keeps the dir for restart(); `kill()` SIGKILLs it;
 *   `restart()` starts it again on the same port and dir; `close()` stops it for good and removes the dir.
 */
async function startRedis(options = {}) {
  const bin = redisServerPath();
  if (!bin) throw new Error('redis-server is not installed (apt-get install redis-server, or tools/setup-redis.sh)');
  const port = options.port ?? await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'craft-redis-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '',
    '--appendonly', options.appendonly ? 'yes' : 'no', '--appendfsync', 'everysec', '--daemonize', 'no',
    // BullMQ's requirement: Redis must never evict its keys
    '--maxmemory-policy', 'noeviction', '--loglevel', 'warning', '--logfile', path.join(dir, 'redis.log')];
  let child;
  const launch = async () => {
    child = spawn(bin, args, { stdio: 'ignore' });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.exited = exited;
    await Promise.race([waitForPing(port), exited.then((code) => {
      throw new Error(`redis-server exited with ${code}: ${fs.existsSync(path.join(dir, 'redis.log')) ? fs.readFileSync(path.join(dir, 'redis.log'), 'utf8').slice(-500) : ''}`);
    })]);
  };
  await launch();
  const signal = async (sig) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(sig);
    await child.exited;
  };
  const server = {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    get pid() { return child.pid; },
    stop: () => signal('SIGTERM'),
    kill: () => signal('SIGKILL'),
    restart: async () => { await signal('SIGTERM'); await launch(); },
    close: async () => { await signal('SIGTERM'); fs.rmSync(dir, { recursive: true, force: true }); },
  };
  return server;
}

module.exports = { startRedis, redisServerPath, freePort };
