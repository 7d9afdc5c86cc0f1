/**
 * A real redis-server (Debian's) for a test: on a free 127.0.0.1 port, data in a temporary
 * directory, stopped (and the directory removed) by `stop()`. `restart()` stops it and starts
 * it again on the same port and directory (append-only file on, so data survives).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RedisServer {
  port: number;
  /** redis://user:password@127.0.0.1:port/0 */
  url: string;
  user: string;
  password: string;
  stop(): Promise<void>;
  restart(downMs?: number): Promise<void>;
}

/** A 127.0.0.1 port nothing listens on now (taken, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Resolves once the server answers PING with the password, within `timeoutMs`. */
async function waitReady(port: number, user: string, password: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = createConnection({ port, host: '127.0.0.1' });
      let data = '';
      c.setTimeout(500, () => (c.destroy(), resolve(false)));
      c.on('error', () => resolve(false));
      c.on('connect', () => c.write(`AUTH ${user} ${password}\r\nPING\r\n`));
      c.on('data', (d) => {
        data += d.toString();
        if (data.includes('+PONG')) (c.destroy(), resolve(true));
        else if (data.includes('-')) (c.destroy(), resolve(false)); // e.g. -LOADING while reading the AOF
      });
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`redis-server on port ${port} did not become ready in ${timeoutMs} ms`);
}

export async function startRedis(opts: { appendOnly?: boolean } = {}): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'distillery-redis-'));
  const user = 'distillery';
  const password = 'pw-' + Math.random().toString(36).slice(2);
  // Password auth on the default user (not `default off`: Redis 7.0 then fails to replay
  // MULTI/EXEC from the append-only file after a restart, with -NOPERM) and an ACL user.
  const args = [
    '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '',
    '--appendonly', opts.appendOnly === false ? 'no' : 'yes', '--appendfsync', 'always',
    '--logfile', join(dir, 'redis.log'),
    '--user', user, 'on', `>${password}`, '~*', '&*', '+@all', '--requirepass', password,
  ];
  let proc: ChildProcess;
  const launch = async () => {
    proc = spawn('redis-server', args, { stdio: 'ignore' });
    await waitReady(port, user, password);
  };
  const kill = () =>
    new Promise<void>((resolve) => {
      const p = proc;
      if (p.exitCode !== null || p.signalCode !== null) return resolve();
      const force = setTimeout(() => p.kill('SIGKILL'), 5000);
      p.once('exit', () => (clearTimeout(force), resolve()));
      p.kill('SIGTERM');
    });
  await launch();
  return {
    port,
    user,
    password,
    url: `redis://${user}:${password}@127.0.0.1:${port}/0`,
    stop: async () => {
      await kill();
      if (!process.env.KEEP_REDIS_DIR) rmSync(dir, { recursive: true, force: true });
    },
    restart: async (downMs = 0) => {
      await kill();
      await new Promise((r) => setTimeout(r, downMs));
      await launch();
    },
  };
}
