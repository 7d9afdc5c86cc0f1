import { createReadStream } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { createGunzip, gunzipSync } from 'node:zlib';
import { isUtf8 } from 'node:buffer';
import { InputError } from '../util/errors.js';
import { readProblem } from '../util/fsErrors.js';

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

/** Reads an input file (gzipped or not) as UTF-8 text, without a byte-order mark; invalid UTF-8 is an error naming the byte offset. */
export async function readInputText(path: string): Promise<string> {
  const bytes = await readInputFile(path);
  if (!isUtf8(bytes)) {
    const at = firstInvalidUtf8(bytes);
    throw new InputError(path, `is not valid UTF-8: invalid byte 0x${bytes[at].toString(16).padStart(2, '0')} at byte offset ${at} (save the file as UTF-8)`);
  }
  const text = bytes.toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** Offset of the first byte that does not belong to a well-formed UTF-8 sequence (RFC 3629). */
export function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i];
    let n: number, min: number;
    if (c < 0x80) {
      i++;
      continue;
    }
    if (c >= 0xc2 && c <= 0xdf) [n, min] = [1, 0x80];
    else if (c >= 0xe0 && c <= 0xef) [n, min] = [2, 0x800];
    else if (c >= 0xf0 && c <= 0xf4) [n, min] = [3, 0x10000];
    else return i;
    let cp = c & (0x3f >> n);
    for (let k = 1; k <= n; k++) {
      const cc = b[i + k];
      if (cc === undefined || (cc & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += n + 1;
  }
  return -1;
}

/** What is wrong with a file that could not be read (fsErrors.ts: one table of causes). */
const describeReadError = readProblem;

/** Chunk size of a streamed read. */
const CHUNK_BYTES = 1 << 20;

/**
 * Streams an input file (gunzipped when it starts with the gzip magic number, whatever its
 * name) to `onChunk`, checking that it is UTF-8 as it goes (without a byte-order mark check:
 * the consumer skips one). Every failure is an InputError naming `path`, as readInputText's.
 * `onProgress` gets the bytes read from the file so far (compressed bytes for a gzip file).
 * An async `onChunk` is awaited before the next chunk is read.
 */
export async function readInputChunks(path: string, onChunk: (chunk: Buffer) => void | Promise<void>, onProgress?: (fileBytes: number) => void): Promise<void> {
  let head: Buffer;
  try {
    const fd = await open(path, 'r');
    try {
      if ((await fd.stat()).isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
      head = Buffer.alloc(2);
      const { bytesRead } = await fd.read(head, 0, 2, 0);
      head = head.subarray(0, bytesRead);
    } finally {
      await fd.close();
    }
  } catch (err) {
    throw new InputError(path, describeReadError(err));
  }
  const file = createReadStream(path, { highWaterMark: CHUNK_BYTES });
  let fileBytes = 0;
  if (onProgress) file.on('data', (c) => onProgress((fileBytes += c.length)));
  const gzip = isGzip(head);
  const stream: AsyncIterable<Buffer> = gzip ? file.pipe(createGunzip({ chunkSize: CHUNK_BYTES })) : file;
  if (gzip) file.on('error', (err) => (stream as unknown as NodeJS.ReadableStream).emit('error', err));
  let offset = 0;
  let carry: Buffer | undefined;
  let consumerError: { error: unknown } | undefined;
  try {
    for await (const chunk of stream) {
      const bytes = carry ? Buffer.concat([carry, chunk]) : chunk;
      const whole = completeUtf8Length(bytes);
      carry = whole < bytes.length ? Buffer.from(bytes.subarray(whole)) : undefined;
      try {
        checkUtf8(bytes.subarray(0, whole), path, offset);
        offset += whole;
        // awaited: a consumer that works on what it has read (readCsvBlocks) holds the stream meanwhile
        if (whole > 0) await onChunk(bytes.subarray(0, whole));
      } catch (error) {
        consumerError = { error };
        throw error;
      }
    }
  } catch (err) {
    if (consumerError) throw consumerError.error;
    if ((err as NodeJS.ErrnoException).syscall !== undefined || !gzip) throw new InputError(path, describeReadError(err));
    throw new InputError(path, `is not a valid gzip file (${(err as Error).message})`);
  } finally {
    file.destroy();
  }
  if (carry) checkUtf8(carry, path, offset, true);
}

/** Length of the prefix of `b` that does not end inside a UTF-8 sequence (one cut at a chunk boundary). */
function completeUtf8Length(b: Buffer): number {
  const n = b.length;
  for (let k = 1; k <= 3 && k <= n; k++) {
    const c = b[n - k];
    if ((c & 0xc0) === 0x80) continue; // continuation byte: look further back
    if (c >= 0xc0) {
      const need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
      return need > k ? n - k : n;
    }
    return n;
  }
  return n;
}

function checkUtf8(bytes: Buffer, path: string, offset: number, last = false): void {
  if (isUtf8(bytes)) return;
  const at = firstInvalidUtf8(bytes);
  const where = at < 0 ? (last ? 0 : bytes.length - 1) : at;
  throw new InputError(path, `is not valid UTF-8: invalid byte 0x${bytes[where].toString(16).padStart(2, '0')} at byte offset ${offset + where} (save the file as UTF-8)`);
}
