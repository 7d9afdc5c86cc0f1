import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { InputError } from '../util/errors.js';

const GZIP_MAGIC = [0x1f, 0x8b];

/** True when `bytes` starts with the gzip magic number. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1];
}

/**
 * Reads a whole input file, gunzipping it when it starts with the gzip magic number
 * (whatever its name). Every failure is an InputError naming `path`.
 */
export async function readInputFile(path: string): Promise<Buffer> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new InputError(path, describeReadError(err));
  }
  if (!isGzip(bytes)) return bytes;
  try {
    return gunzipSync(bytes);
  } catch (err) {
    throw new InputError(path, `is not a valid gzip file (${(err as Error).message})`);
  }
}

/** Reads an input file (gzipped or not) as UTF-8 text, without a byte-order mark. */
export async function readInputText(path: string): Promise<string> {
  const text = (await readInputFile(path)).toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

function describeReadError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return 'file not found';
    case 'EISDIR':
      return 'is a directory, not a file';
    case 'EACCES':
    case 'EPERM':
      return 'cannot be read (permission denied)';
    default:
      return `cannot be read (${(err as Error).message})`;
  }
}
