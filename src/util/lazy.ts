import { createRequire } from 'node:module';

const requireHere = createRequire(import.meta.url);

/**
 * A dependency loaded with require() on first use: importing Distillery does not load it, and
 * only the features that use it pay its load time (yaml, the CSV parser, progress bars …).
 */
export function lazy<T>(id: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= requireHere(id) as T);
}
