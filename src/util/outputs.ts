/**
 * The one policy for every path Distillery writes (model directories, run directories,
 * prediction CSVs, reports):
 *
 * - **Never a user's file.** An existing path is replaced only when Distillery wrote it: a
 *   directory holding its metadata (distillery.json of a model, results.json of a run), a file
 *   carrying its signature. Anything else is refused with one line unless `--force`. A
 *   directory where a file output goes is refused even with `--force`.
 * - **All or nothing.** Every output of a command is first written to a hidden temporary
 *   sibling (`.<name>.tmp-<pid>-…`); only when all are complete are they swapped in, and a
 *   failure while swapping puts the old ones back. A failing command leaves nothing behind.
 * - **Stale temporaries are cleaned.** Temporaries carry their writer's pid; before writing
 *   a path, those of processes that are no longer alive are removed (a displaced old output
 *   of a process killed between the two renames of a swap is put back instead).
 * - **Filesystem failures are environment errors** naming the user's path (fsErrors.ts).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { InputError } from './errors.js';
import { environmentError, makeDirectory, withEnvironmentErrors } from './fsErrors.js';
import { critical } from './interrupt.js';

/** A path a command will write, and how to tell that what is there now is Distillery's. */
export interface OutputTarget {
  path: string;
  /** 'dir': a directory Distillery fills; 'file': one file. */
  type: 'dir' | 'file';
  /** What it is, for messages: "model directory", "predictions CSV". */
  what: string;
  /** The flag that names it, for messages (e.g. "--out"). */
  flag: string;
  /** Whether the existing directory or file at `path` was written by Distillery. */
  isOurs(path: string): Promise<boolean>;
}

/** Recognises a Distillery directory by a metadata file whose start matches `signature`. */
export function metadataFileSignature(file: string, signature: RegExp): (dir: string) => Promise<boolean> {
  return (dir) => fileStartMatches(path.join(dir, file), signature);
}

/** Recognises a Distillery file by how it starts. */
export function fileSignature(signature: RegExp): (file: string) => Promise<boolean> {
  return (file) => fileStartMatches(file, signature);
}

async function fileStartMatches(file: string, signature: RegExp): Promise<boolean> {
  let handle;
  try {
    handle = await fs.open(file, 'r');
    const buf = Buffer.alloc(4096);
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    return signature.test(buf.subarray(0, bytesRead).toString('utf8'));
  } catch {
    return false;
  } finally {
    await handle?.close();
  }
}

// ------------------------------------------------------------------------------ the policy

/**
 * Checks that `target` may be written (see the module comment), after cleaning stale
 * temporaries next to it. Throws an InputError naming the flag and path otherwise.
 */
export async function checkOutput(target: OutputTarget, force = false): Promise<void> {
  await cleanStaleTemporaries(target.path);
  const where = `${target.flag} ${target.path}`;
  const refuse = (problem: string) =>
    new InputError(where, `${problem}; refusing to replace it: choose another path, or pass --force to replace it`);
  let st;
  try {
    st = await fs.lstat(target.path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw environmentError(e, target.path, 'cannot be inspected');
    await checkParent(target);
    return;
  }
  if (target.type === 'file') {
    if (st.isDirectory()) throw new InputError(where, `is a directory; ${target.flag} names the ${target.what} file to write`);
    if (force) return;
    if (st.isSymbolicLink()) throw refuse('is a symbolic link');
    if (!st.isFile()) throw refuse('is not a regular file');
    if (!(await target.isOurs(target.path))) throw refuse(`exists and is not a ${target.what} written by Distillery`);
    return;
  }
  if (force) return;
  if (st.isSymbolicLink()) throw refuse('is a symbolic link');
  if (!st.isDirectory()) throw refuse(`is a file, not a ${target.what}`);
  const entries = await withEnvironmentErrors(target.path, 'cannot be listed', () => fs.readdir(target.path));
  if (entries.length === 0 || (await target.isOurs(target.path))) return;
  throw refuse(`is a directory that Distillery did not write (not a ${target.what}; it holds ${entries.length} entr${entries.length === 1 ? 'y' : 'ies'})`);
}

/** The nearest existing ancestor of a new output must be a directory. */
async function checkParent(target: OutputTarget): Promise<void> {
  let dir = path.dirname(path.resolve(target.path));
  for (;;) {
    try {
      const st = await fs.stat(dir);
      if (!st.isDirectory()) throw new InputError(`${target.flag} ${target.path}`, `cannot be created: ${dir} is not a directory`);
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw environmentError(e, target.path, 'cannot be created');
      const up = path.dirname(dir);
      if (up === dir) return;
      dir = up;
    }
  }
}

// ------------------------------------------------------------------------------ writing

/** One output: a file's bytes, a file that `write` writes at the path it is given (piece by piece), or a directory that `fill` writes into the folder it is given. */
export type OutputWrite = { path: string; data: string | Uint8Array } | { path: string; write: (file: string) => Promise<void> } | { path: string; fill: (dir: string) => Promise<void> };

let sequence = 0;

/** A hidden sibling of `file` owned by this process: `.<name>.<kind>-<pid>-<n>`. */
export function temporarySibling(file: string, kind: 'tmp' | 'old' = 'tmp'): string {
  const abs = path.resolve(file);
  return path.join(path.dirname(abs), `.${path.basename(abs)}.${kind}-${process.pid}-${++sequence}${Date.now().toString(36)}`);
}

interface Staged {
  path: string;
  abs: string;
  tmp: string;
}

/**
 * Writes all `outputs` or none: each is written to a temporary sibling, then all are
 * swapped in together (interruption deferred meanwhile); on any failure the temporaries are
 * removed and outputs already swapped in are replaced by what was there before.
 */
export async function writeOutputs(outputs: OutputWrite[]): Promise<void> {
  const staged: Staged[] = [];
  try {
    for (const o of outputs) {
      const abs = path.resolve(o.path);
      await withEnvironmentErrors(o.path, 'cannot be created', () => makeDirectory(path.dirname(abs)));
      const s = { path: o.path, abs, tmp: temporarySibling(abs) };
      staged.push(s);
      await withEnvironmentErrors(o.path, 'cannot be written', async () => {
        if ('fill' in o) {
          await fs.mkdir(s.tmp);
          await o.fill(s.tmp);
        } else if ('write' in o) {
          await o.write(s.tmp);
        } else {
          await fs.writeFile(s.tmp, o.data);
        }
      });
    }
    await critical(() => swapIn(staged));
  } catch (e) {
    await Promise.all(staged.map((s) => fs.rm(s.tmp, { recursive: true, force: true }).catch(() => {})));
    throw e;
  }
}

/** Writes one file atomically (readers never see half of it); see writeOutputs. */
export function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  return writeOutputs([{ path: file, data }]);
}

/** Writes one file atomically as `write` writes it at the path it is given (a large file, piece by piece); see writeOutputs. */
export function writeFileAtomicBy(file: string, write: (tmpFile: string) => Promise<void>): Promise<void> {
  return writeOutputs([{ path: file, write }]);
}

/** Fills a directory atomically: `fill` writes into a temporary sibling that then replaces `dir`. */
export function writeDirAtomic(dir: string, fill: (tmpDir: string) => Promise<void>): Promise<void> {
  return writeOutputs([{ path: dir, fill }]);
}

async function swapIn(staged: Staged[]): Promise<void> {
  const done: { s: Staged; old?: string; installed: boolean }[] = [];
  try {
    for (const s of staged) {
      let old: string | undefined = temporarySibling(s.abs, 'old');
      try {
        await fs.rename(s.abs, old);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw environmentError(e, s.path, 'cannot be replaced');
        old = undefined;
      }
      const entry = { s, old, installed: false };
      done.push(entry);
      await withEnvironmentErrors(s.path, 'cannot be written', () => fs.rename(s.tmp, s.abs));
      entry.installed = true;
    }
  } catch (e) {
    for (const d of done.reverse()) {
      if (d.installed) await fs.rm(d.s.abs, { recursive: true, force: true }).catch(() => {});
      if (d.old) await fs.rename(d.old, d.s.abs).catch(() => {});
    }
    throw e;
  }
  for (const d of done) if (d.old) await fs.rm(d.old, { recursive: true, force: true }).catch(() => {});
}

// ------------------------------------------------------------------------------ stale temporaries

/** Whether process `pid` is alive (a process of another user counts as alive). */
export function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function exists(p: string): Promise<boolean> {
  return fs.lstat(p).then(() => true, () => false);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Removes the temporaries of `target` left by processes that are no longer alive; a
 * displaced old output whose replacement never arrived is put back. Returns what it removed.
 */
export async function cleanStaleTemporaries(target: string): Promise<string[]> {
  const abs = path.resolve(target);
  const dir = path.dirname(abs);
  const base = escapeRegExp(path.basename(abs));
  // current names (.name.tmp-PID-…) and those of earlier versions (name.tmp-PID-…)
  const pattern = new RegExp(`^(?:\\.${base}\\.(tmp|old)|${base}\\.(tmp))-(\\d+)-`);
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = pattern.exec(name);
    if (!m || processAlive(Number(m[3]))) continue;
    const p = path.join(dir, name);
    if (m[1] === 'old' && !(await exists(abs))) {
      const restored = await fs.rename(p, abs).then(() => true, () => false);
      if (restored) continue;
    }
    await fs.rm(p, { recursive: true, force: true }).catch(() => {});
    removed.push(p);
  }
  return removed;
}
