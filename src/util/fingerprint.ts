/**
 * Content fingerprints of the files and directories a command reads, so that a resumed run
 * can tell that its inputs are still the ones the interrupted run read (util/partialRun.ts).
 * A file is hashed as a stream (a multi-GB data file is never held in memory), a gzip'd one
 * by its bytes; a directory by its files' relative names and contents, in name order.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { environmentError } from './fsErrors.js';

/** What a path held: its content's SHA-256, its size in bytes and, for a directory, its file count. */
export interface Fingerprint {
  sha256: string;
  bytes: number;
  files?: number;
}

/** Bytes hashed at a time, through one buffer (no garbage per chunk: a multi-GB file leaves the heap as it was). */
const HASH_CHUNK = 1 << 20;

async function fileFingerprint(file: string): Promise<Fingerprint> {
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafe(HASH_CHUNK);
  let bytes = 0;
  const fh = await fs.open(file, 'r');
  try {
    for (;;) {
      const { bytesRead } = await fh.read(buffer, 0, HASH_CHUNK, null);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
      bytes += bytesRead;
    }
  } finally {
    await fh.close();
  }
  return { sha256: hash.digest('hex'), bytes };
}

/**
 * The files under `dir` (following links, each directory once; none under `skip`), as sorted
 * '/'-separated relative names.
 */
async function filesUnder(dir: string, skip: ReadonlySet<string>): Promise<string[]> {
  const seen = new Set<string>();
  const found: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    const real = await fs.realpath(path.join(dir, rel));
    if (seen.has(real)) return;
    seen.add(real);
    for (const name of await fs.readdir(path.join(dir, rel))) {
      const child = rel ? `${rel}/${name}` : name;
      if (skip.has(path.resolve(dir, child))) continue;
      const stat = await fs.stat(path.join(dir, child));
      if (stat.isDirectory()) await walk(child);
      else if (stat.isFile()) found.push(child);
    }
  };
  await walk('');
  return found.sort();
}

/**
 * The fingerprint of the file or directory at `p`, or undefined when there is none; a directory
 * leaves out the paths of `skip` (what the command itself writes there). Any other failure to
 * read it is an environment error naming `p`.
 */
export async function fingerprintPath(p: string, skip: readonly string[] = []): Promise<Fingerprint | undefined> {
  try {
    const stat = await fs.stat(p).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT' || e.code === 'ENOTDIR') return undefined;
      throw e;
    });
    if (!stat) return undefined;
    if (!stat.isDirectory()) return await fileFingerprint(p);
    const hash = createHash('sha256');
    let bytes = 0;
    const files = await filesUnder(p, new Set(skip.map((s) => path.resolve(s))));
    for (const rel of files) {
      const f = await fileFingerprint(path.join(p, rel));
      hash.update(`${rel}\0${f.sha256}\0`);
      bytes += f.bytes;
    }
    return { sha256: hash.digest('hex'), bytes, files: files.length };
  } catch (e) {
    throw environmentError(e, p, 'cannot be read to fingerprint it');
  }
}

/** A fingerprint for a message: its size and the start of its hash. */
export function describeFingerprint(f: Fingerprint | undefined): string {
  if (!f) return 'absent';
  const size = `${f.bytes.toLocaleString('en-US')} bytes${f.files === undefined ? '' : ` in ${f.files} file${f.files === 1 ? '' : 's'}`}`;
  return `${size}, sha256 ${f.sha256.slice(0, 12)}`;
}
