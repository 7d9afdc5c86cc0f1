/**
 * Redis addresses as users write them (`--store redis://…`, `--queue redis://…`): one parser
 * and one way to connect, for the checkpoint store and the job queue. A malformed address, an
 * unreachable server, a server that does not answer, and a database the server lacks are each
 * an InputError naming the flag, within `timeoutMs` (never a wait on a server that is away,
 * never a connection left open after a refusal). The client is ioredis (an optional package).
 */
import type * as IORedis from 'ioredis';
import type { Redis, RedisOptions } from 'ioredis';
import { InputError } from './errors.js';
import { importOptional } from './optional.js';

/** How a Redis address is written, for messages. */
export const REDIS_URL_SYNTAX = 'redis://[user:pass@]host[:port][/db], or rediss://… for TLS';

/** A URL with its password masked (`redis://user:***@host`); also for text that does not parse as a URL. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/@:]*:)[^/@]*@/i, '$1***@');
  }
}

/** True when `value` starts like a URL (`scheme:/…`, `scheme://…`) rather than a path. */
export function looksLikeUrl(value: string): boolean {
  return /^[a-z][a-z0-9+.-]+:(\/|$)/i.test(value) || /^rediss?:/i.test(value);
}

/** A parsed Redis address. */
export interface RedisAddress {
  url: string;
  /** The URL with its password masked. */
  display: string;
  db: number;
}

/** Parses a Redis URL or throws an InputError naming `flag` and what is wrong with it. */
export function parseRedisUrl(url: string, flag: string): RedisAddress {
  const display = redactUrl(url);
  const bad = (problem: string) => new InputError(flag, `${problem} (${REDIS_URL_SYNTAX})`);
  if (!/^rediss?:\/\//i.test(url)) {
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1];
    throw bad(scheme && /^rediss?$/i.test(scheme) ? `malformed Redis URL ${display}: "${scheme}:" must be followed by //` : `${display} is not a Redis URL`);
  }
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    const port = /^[a-z]+:\/\/(?:[^@/]*@)?(?:\[[^\]]*\]|[^:/]*):([^/]*)/i.exec(url)?.[1];
    throw bad(port !== undefined && !/^\d{1,5}$/.test(port) ? `malformed Redis URL ${display}: port "${port}" is not a number` : port !== undefined ? `malformed Redis URL ${display}: port ${port} is outside 1–65535` : `malformed Redis URL ${display}`);
  }
  if (!u.hostname) throw bad(`malformed Redis URL ${display}: no host`);
  if (u.port === '0') throw bad(`malformed Redis URL ${display}: port 0 is outside 1–65535`);
  if (u.search || u.hash) throw bad(`malformed Redis URL ${display}: unexpected "${u.search || u.hash}"`);
  const dbText = u.pathname.replace(/^\//, '');
  if (dbText !== '' && !/^\d+$/.test(dbText)) throw bad(`malformed Redis URL ${display}: the database "${decodeURIComponent(dbText)}" is not a number`);
  return { url, display, db: dbText === '' ? 0 : Number(dbText) };
}

/**
 * Connects to the Redis at `url` and checks that it answers and has the URL's database, within
 * `timeoutMs`; otherwise disconnects and throws an InputError naming `flag`. `feature` names
 * what needs ioredis, for the message when it is not installed.
 */
export async function connectRedis(url: string, flag: string, opts: { feature: string; options?: RedisOptions; timeoutMs?: number }): Promise<Redis> {
  const address = parseRedisUrl(url, flag);
  const timeoutMs = opts.timeoutMs ?? 5000;
  const { Redis } = await importOptional<typeof IORedis>('ioredis', opts.feature);
  const redis = new Redis(url, {
    retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 6), 2000),
    ...opts.options,
    lazyConnect: true,
    connectTimeout: timeoutMs,
    db: address.db,
  });
  let lastError: Error | undefined;
  redis.on('error', (e: Error) => {
    lastError = e; // reported by the callers' own failures; without a listener ioredis prints every reconnect error
  });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer in ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
  });
  try {
    await Promise.race([
      (async () => {
        await redis.connect();
        await redis.ping();
      })(),
      timedOut,
    ]);
  } catch (e) {
    redis.disconnect();
    const why = String((lastError ?? (e as Error))?.message ?? e).split('\n')[0];
    throw new InputError(flag, `cannot reach Redis at ${address.display}: ${why}`);
  } finally {
    clearTimeout(timer);
  }
  // ioredis selects the URL's database on connecting but only reports a failure as an event:
  // select it again and refuse a server without it rather than write into database 0.
  try {
    await redis.select(address.db);
  } catch (e) {
    redis.disconnect();
    throw new InputError(flag, `Redis at ${address.display} has no database ${address.db} (${String((e as Error)?.message ?? e).split('\n')[0]})`);
  }
  return redis;
}

/** Checks that the Redis at `url` can be used (connects, then disconnects), or throws as {@link connectRedis}. */
export async function probeRedis(url: string, flag: string, feature: string, timeoutMs?: number): Promise<void> {
  const redis = await connectRedis(url, flag, { feature, timeoutMs, options: { maxRetriesPerRequest: 1, enableOfflineQueue: false } });
  redis.disconnect();
}

/**
 * How long a command that is using Redis (the job queue) waits for it to come back when it goes
 * away mid-run, in seconds: long enough for a restart (the queue persists its jobs), short enough
 * that a server that is gone ends the command instead of leaving it waiting for ever.
 */
export const REDIS_OUTAGE_SECONDS = 60;

/** A watch on connections in use: `lost` rejects once one has been unreachable for the limit on end. */
export interface OutageWatch {
  lost: Promise<never>;
  /** Whether `lost` has rejected. */
  readonly fired: boolean;
  stop(): void;
}

/**
 * Watches `connections` (ioredis reconnects by itself): a connection that closes starts a clock,
 * one that is ready again stops it, and when a clock reaches `seconds`, `lost` rejects with an
 * InputError naming `flag`, the server and the `consequence`. `stop()` detaches the watch.
 */
export function watchOutage(connections: Redis[], flag: string, url: string, seconds: number = REDIS_OUTAGE_SECONDS, consequence?: string): OutageWatch {
  const display = redactUrl(url);
  const timers = new Map<Redis, NodeJS.Timeout>();
  const detach: (() => void)[] = [];
  let fail!: (e: Error) => void;
  let fired = false;
  const lost = new Promise<never>((_, reject) => (fail = reject));
  lost.catch(() => {}); // observed by whoever races it; never an unhandled rejection
  for (const c of connections) {
    const down = () => {
      if (timers.has(c) || fired) return;
      timers.set(c, setTimeout(() => {
        fired = true;
        fail(new InputError(flag, `Redis at ${display} has been unreachable for ${seconds} s${consequence ? `: ${consequence}` : ''}`));
      }, seconds * 1000));
    };
    const up = () => {
      clearTimeout(timers.get(c));
      timers.delete(c);
    };
    c.on('close', down);
    c.on('ready', up);
    detach.push(() => (c.off('close', down), c.off('ready', up)));
  }
  return {
    lost,
    get fired() {
      return fired;
    },
    stop() {
      for (const t of timers.values()) clearTimeout(t);
      timers.clear();
      detach.forEach((d) => d());
    },
  };
}

/** Runs the closers, waiting at most `ms` for them (a close on a server that is away may never finish). */
export async function closeWithin(ms: number, closers: (() => Promise<unknown>)[]): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.allSettled(closers.map((c) => c())),
    new Promise((resolve) => (timer = setTimeout(resolve, ms))),
  ]);
  clearTimeout(timer);
}
