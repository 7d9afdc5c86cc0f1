import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../util/errors.js';
import { looksLikeUrl, parseRedisUrl, REDIS_URL_SYNTAX } from '../util/redis.js';
import { DirectoryStore } from './directoryStore.js';
import { redactUrl, type CodistillStore } from './store.js';

/**
 * Where a store argument points, checked without connecting: a Redis URL (parsed by
 * util/redis.ts when connecting) or a directory (`file://` URL or path). Text that starts like
 * a URL with another or a malformed scheme (`redis:/host`, `http://…`) is refused, never
 * taken for a directory name; so is a path that is a file. Throws an InputError naming `flag`.
 */
export async function storeLocation(url: string, flag = '--store'): Promise<{ redis: string } | { directory: string }> {
  if (/^rediss?:/i.test(url)) return { redis: parseRedisUrl(url, flag).url };
  let directory = url;
  if (/^file:/i.test(url)) {
    try {
      directory = fileURLToPath(url);
    } catch {
      throw new InputError(flag, `malformed file URL ${url} (file:///absolute/path)`);
    }
  } else if (looksLikeUrl(url)) {
    throw new InputError(flag, `unsupported store ${redactUrl(url)}: a directory, file:///…, ${REDIS_URL_SYNTAX} (write ./${url} for a directory of that name)`);
  }
  directory = path.resolve(directory);
  const st = await fs.stat(directory).catch(() => undefined);
  if (st && !st.isDirectory()) throw new InputError(`${flag} ${url}`, 'is a file, not a directory (a store is a directory or redis://…)');
  return { directory };
}

/**
 * The store at `url`: `redis://[user:pass@]host[:port][/db]` or `rediss://…` (TLS) for Redis,
 * else a directory path (or `file://` URL). A malformed address, an unreachable Redis or one
 * without the URL's database, and a path that is a file are InputErrors naming the flag and
 * the (password-masked) address.
 */
export async function openStore(url: string, flag = '--store'): Promise<CodistillStore> {
  const where = await storeLocation(url, flag);
  if ('redis' in where) {
    const { RedisStore } = await import('./redisStore.js');
    return RedisStore.connect(where.redis, flag);
  }
  return new DirectoryStore(where.directory);
}
