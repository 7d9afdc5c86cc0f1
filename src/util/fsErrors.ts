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
 * was being done, when it is an fs error; otherwise `e` unchanged.
 */
export function environmentError(e: unknown, path: string, action: string): unknown {
  if (e instanceof DistilleryError) return e;
  const code = fsErrorCode(e);
  return code ? new EnvironmentError(path, action, code) : e;
}

/** Runs `f`, turning an fs error into an EnvironmentError naming `path`. */
export async function withEnvironmentErrors<T>(path: string, action: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    throw environmentError(e, path, action);
  }
}
