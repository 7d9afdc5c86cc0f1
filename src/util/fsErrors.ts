import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { DistilleryError } from './errors.js';

/**
 * Filesystem failures are environment errors, not bugs: one line naming the path and the
 * cause, exit 2 (README "Exit codes"). This is the one mapping from an errno code to its
 * cause; writers and readers wrap their fs calls with {@link environmentError}, and the CLI
 * maps any errno error that still escapes.
 */
const CAUSES: Readonly<Record<string, string>> = {
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a directory',
  ENOTDIR: 'a component of the path is not a directory',
  ENOENT: 'no such file or directory',
  EEXIST: 'already exists',
  ENOTEMPTY: 'directory not empty',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
  ENAMETOOLONG: 'file name too long',
  ELOOP: 'too many levels of symbolic links',
  EBUSY: 'resource busy',
  EXDEV: 'cross-device link',
  EIO: 'input/output error',
  EFBIG: 'file too large',
};

/** An environment problem (disk full, read-only, permissions): exit 2 like bad input. */
export class EnvironmentError extends DistilleryError {
  readonly path: string;
  readonly code: string;
  constructor(path: string, action: string, code: string) {
    super(`${path}: ${action} (${CAUSES[code] ?? code})`, 2);
    this.name = 'EnvironmentError';
    this.path = path;
    this.code = code;
  }
}

/** The errno code of a Node fs error that {@link CAUSES} knows, else undefined. */
export function fsErrorCode(e: unknown): string | undefined {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && code in CAUSES ? code : undefined;
}

/**
 * `e` as an EnvironmentError naming `path` (the user's path, not a temporary one) and what
 * was being done, when it is an fs error (or an EnvironmentError about one of `temporaries`,
 * paths the user never named); otherwise `e` unchanged.
 */
export function environmentError(e: unknown, path: string, action: string, temporaries: readonly string[] = []): unknown {
  if (e instanceof EnvironmentError && temporaries.includes(e.path)) return new EnvironmentError(path, action, e.code);
  if (e instanceof DistilleryError) return e;
  const code = fsErrorCode(e);
  return code ? new EnvironmentError(path, action, code) : e;
}

/** Runs `f`, turning an fs error (or an EnvironmentError about one of `temporaries`) into an EnvironmentError naming `path`. */
export async function withEnvironmentErrors<T>(path: string, action: string, f: () => Promise<T>, temporaries: readonly string[] = []): Promise<T> {
  try {
    return await f();
  } catch (e) {
    throw environmentError(e, path, action, temporaries);
  }
}

/** The cause of an fs error in words: the table's, else the error's own first line. */
export function fsCause(e: unknown): string {
  const code = fsErrorCode(e);
  return code ? CAUSES[code] : String((e as Error | undefined)?.message ?? e).split('\n')[0];
}

/** What is wrong with a file that could not be read, for an InputError naming it: `file not found`, `cannot be read (permission denied)`, … */
export function readProblem(e: unknown): string {
  const code = fsErrorCode(e);
  if (code === 'ENOENT') return 'file not found';
  if (code === 'EISDIR') return 'is a directory, not a file';
  return `cannot be read (${fsCause(e)})`;
}

type Mkdir = (dir: string, opts?: { recursive?: boolean }) => Promise<unknown>;

/**
 * `mkdir -p dir`, failing with the real cause. Node's recursive mkdir reports ENOENT when it
 * cannot create a missing directory for a reason it does not expect (a read-only file system:
 * EROFS; it then stats the path, which does not exist); the first missing ancestor is then made
 * alone, which fails with the cause. `mkdir` is fs.promises.mkdir (replaceable for tests).
 */
export async function makeDirectory(dir: string, mkdir: Mkdir = fs.mkdir): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (e) {
    if (fsErrorCode(e) !== 'ENOENT') throw e;
    let missing = path.resolve(dir);
    for (let up = path.dirname(missing); up !== missing && !(await isDirectory(up)); up = path.dirname(missing)) missing = up;
    await mkdir(missing); // fails with the real cause
    await mkdir(dir, { recursive: true }); // it did not fail: made since, try again
  }
}

async function isDirectory(p: string): Promise<boolean> {
  return fs.stat(p).then((st) => st.isDirectory(), () => false);
}
