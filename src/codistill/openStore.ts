import * as path from 'node:path';
import { InputError } from '../util/errors.js';
import { DirectoryStore } from './directoryStore.js';
import { redactUrl, type CodistillStore } from './store.js';

/**
 * The store at `url`: `redis://[user:pass@]host[:port][/db]` or `rediss://…` (TLS) for Redis,
 * else a directory path (or `file://` URL). An unreachable Redis is an InputError naming the
 * flag and the (password-masked) address.
 */
export async function openStore(url: string, flag = '--store'): Promise<CodistillStore> {
  if (/^rediss?:\/\//i.test(url)) {
    const { RedisStore } = await import('./redisStore.js');
    return RedisStore.connect(url, flag);
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url) && !url.startsWith('file://')) {
    throw new InputError(flag, `unsupported store ${redactUrl(url)} (a directory, file://…, redis://… or rediss://…)`);
  }
  return new DirectoryStore(path.resolve(url.startsWith('file://') ? new URL(url).pathname : url));
}
