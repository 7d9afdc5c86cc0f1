/**
 * The temporary output of a resumable command: `.<out>.partial/` next to its output path,
 * holding who owns it (pid), the settings it was started with, the fingerprints of the
 * files it read (a resume must read the same content), and the checkpoints of its units of work (training runs, experiment trials). A killed command leaves it behind;
 * the same command with `--resume` continues from it; a finished one removes it. Any
 * command can use it: `train`, `update` and `run` do (numbered training-run stores,
 * finished-trial files), and a command added later (ensemble, transfer, codistill) takes a
 * store per training run from `nextStore()` in a fixed order.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { InputError } from './errors.js';
import { makeDirectory, withEnvironmentErrors } from './fsErrors.js';
import { describeFingerprint, fingerprintPath, type Fingerprint } from './fingerprint.js';
import { cleanStaleTemporaries, processAlive, writeDirAtomic, writeFileAtomic } from './outputs.js';

const OWNER = 'owner.json';
const SETTINGS = 'settings.json';
const INPUTS = 'inputs.json';

export interface ResumeFlags {
  resume?: boolean;
  force?: boolean;
}

/** A blob kept in the partial directory (a checkpoint), replaced atomically. */
export interface PartialStore {
  readonly where: string;
  load(): Promise<Uint8Array | undefined>;
  save(bytes: Uint8Array): Promise<void>;
}

export class PartialRun {
  private stores = 0;
  constructor(
    /** The partial directory. */
    readonly dir: string,
    /** Whether an interrupted run is being continued. */
    readonly resumed: boolean,
  ) {}

  /** A named blob store inside the partial directory. */
  store(name: string): PartialStore {
    const file = path.join(this.dir, name);
    return {
      where: file,
      load: async () => {
        try {
          return await fs.readFile(file);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
          throw e;
        }
      },
      save: (bytes) => writeFileAtomic(file, bytes),
    };
  }

  /** The store of the next training run of this command (`run-1.ckpt`, `run-2.ckpt`, … in call order). */
  nextStore(): PartialStore {
    return this.store(`run-${++this.stores}.ckpt`);
  }

  /** Reads a JSON file of the partial directory (undefined if absent). */
  async readJson<T>(name: string): Promise<T | undefined> {
    const bytes = await this.store(name).load();
    return bytes ? (JSON.parse(Buffer.from(bytes).toString('utf8')) as T) : undefined;
  }

  writeJson(name: string, value: unknown): Promise<void> {
    return this.store(name).save(Buffer.from(JSON.stringify(value)));
  }

  /** The command finished: its temporary output goes. */
  async remove(): Promise<void> {
    await fs.rm(this.dir, { recursive: true, force: true });
  }
}

/** The partial directory of output path `out`. */
export function partialDirOf(out: string): string {
  const abs = path.resolve(out);
  return path.join(path.dirname(abs), `.${path.basename(abs)}.partial`);
}

/** One setting that differs between a run's saved settings and a command's: its path and both values. */
export interface SettingChange {
  path: string[];
  was: unknown;
  now: unknown;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The settings that differ, deep into nested objects (a config), in key order; arrays compare whole. */
export function settingChanges(a: Record<string, unknown>, b: Record<string, unknown>, at: string[] = []): SettingChange[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].flatMap((k) => {
    const [x, y] = [a[k], b[k]];
    if (isPlainObject(x) && isPlainObject(y)) return settingChanges(x, y, [...at, k]);
    return JSON.stringify(x) === JSON.stringify(y) ? [] : [{ path: [...at, k], was: x, now: y }];
  });
}

/**
 * A change as the user wrote it: a top-level setting is a flag (`lr` → `--lr`, `batchSize` →
 * `--batch-size`; one not given reads "not given", its default), a nested one a config key
 * (`cfg.model.hidden` → `model.hidden`, of `configFile` when given).
 */
export function describeChange({ path: p, was, now }: SettingChange, configFile?: string): string {
  const value = (v: unknown) => (v === undefined ? 'not given' : JSON.stringify(v));
  const name = p.length === 1 ? (p[0] === 'command' ? 'command' : `--${p[0].replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`) : `${configFile ? `${configFile}: ` : 'config key '}${p.slice(1).join('.')}`;
  return `${name}: ${value(was)} → ${value(now)}`;
}

/** At most this many changes are listed in the refusal of a resume. */
const SHOWN_CHANGES = 5;

/**
 * A file or directory a command reads, as the user gave it: `name` is the flag (`--data`) or
 * config key (`exp.yaml: data`) that gave `path`.
 */
export interface RunInput {
  name: string;
  path: string;
  /** Further files the input names and that are read with it (an ONNX model's external data), fingerprinted as part of it. */
  companions?: () => Promise<string[]>;
}

/** An input with what it held when the run started (null: nothing was there). */
interface SavedInput extends RunInput {
  fingerprint: Fingerprint | null;
}

/** The fingerprint of each input (a path given twice is read once), leaving out the partial directory `dir`. */
async function fingerprintInputs(inputs: readonly RunInput[], dir: string): Promise<SavedInput[]> {
  const byPath = new Map<string, Fingerprint | undefined>();
  const saved: SavedInput[] = [];
  const add = async (name: string, p: string) => {
    const abs = path.resolve(p);
    if (!byPath.has(abs)) byPath.set(abs, await fingerprintPath(p, [dir]));
    saved.push({ name, path: p, fingerprint: byPath.get(abs) ?? null });
  };
  for (const i of inputs) {
    await add(i.name, i.path);
    // an input that cannot be read for its companions is refused later by what reads it
    for (const c of (await i.companions?.().catch(() => [])) ?? []) await add(`${i.name}, data of ${path.basename(i.path)}`, c);
  }
  return saved;
}

/** The inputs whose content differs from what the interrupted run read, each as one clause. */
function inputChanges(saved: readonly SavedInput[], now: readonly SavedInput[]): string[] {
  const key = (i: RunInput) => `${i.name}\0${i.path}`;
  const was = new Map(saved.map((i) => [key(i), i]));
  const is = new Map(now.map((i) => [key(i), i]));
  return [...new Set([...was.keys(), ...is.keys()])].flatMap((k) => {
    const [a, b] = [was.get(k), is.get(k)];
    const { name, path: p } = (a ?? b)!;
    const fa = a?.fingerprint ?? undefined;
    const fb = b?.fingerprint ?? undefined;
    if (!a) return [`${p} (${name}) was not read by it`];
    if (!b) return [`${p} (${name}) is not read now`];
    if (fa && !fb) return [`${p} (${name}) is gone`];
    if (!fa && fb) return [`${p} (${name}) was not there and is now`];
    if (fa && fb && fa.sha256 !== fb.sha256) return [`${p} (${name}) has changed (${describeFingerprint(fa)} then, ${describeFingerprint(fb)} now)`];
    return [];
  });
}

/** Where a run is kept and what it reads, besides its settings. */
export interface PartialRunOptions {
  /** The config file whose keys the settings' nested values are (named when a resume is refused). */
  configFile?: string;
  /** Every file or directory the command reads: a resume is refused when one of them changed. */
  inputs?: readonly RunInput[];
}

/**
 * Opens the partial directory of `out` for a command started with `settings` (what must be
 * the same for a resume to continue the same run) reading `inputs`: with `resume`, the one a
 * killed run left (same settings, and inputs of the same content, required); otherwise a
 * fresh one, which records the inputs' fingerprints. An interrupted run is never discarded
 * silently: without --resume it is refused unless --force starts over.
 */
export async function openPartialRun(out: string, flag: string, settings: Record<string, unknown>, flags: ResumeFlags, { configFile, inputs = [] }: PartialRunOptions = {}): Promise<PartialRun> {
  const dir = partialDirOf(out);
  const where = `${flag} ${out}`;
  return withEnvironmentErrors(out, 'cannot be used for the temporary output', async () => { // the user's path, not the temporary one
    // what a process killed while it created or replaced the directory left behind
    await cleanStaleTemporaries(dir);
    const owner = await readJsonFile<{ pid: number }>(path.join(dir, OWNER));
    const saved = await readJsonFile<Record<string, unknown>>(path.join(dir, SETTINGS));
    // a directory without its settings holds no run (none is made so; an older version's kill could leave one)
    const exists = saved !== undefined && (await fs.stat(dir).then(() => true, () => false));
    if (exists && owner && processAlive(owner.pid) && owner.pid !== process.pid) {
      throw new InputError(where, `another Distillery process (pid ${owner.pid}) is writing it`);
    }
    if (flags.resume) {
      if (!exists) throw new InputError('--resume', `there is no interrupted run to resume for ${out} (nothing at ${dir})`);
      const changes = settingChanges(saved, settings);
      if (changes.length > 0) {
        const shown = changes.slice(0, SHOWN_CHANGES).map((c) => describeChange(c, configFile)).join('; ') + (changes.length > SHOWN_CHANGES ? `; and ${changes.length - SHOWN_CHANGES} more` : '');
        throw new InputError('--resume', `the interrupted run for ${out} was started with different settings (${shown}); run the same command again, or start over with --force instead of --resume`);
      }
      const read = await readJsonFile<SavedInput[]>(path.join(dir, INPUTS));
      if (!read) throw new InputError('--resume', `the interrupted run for ${out} was started by a version of Distillery that did not record what its input files held, so a resume cannot tell whether they changed; start over with --force instead of --resume`);
      const changed = inputChanges(read, await fingerprintInputs(inputs, dir));
      if (changed.length > 0) {
        const what = changed.length === 1 ? 'an input of the interrupted run' : `${changed.length} inputs of the interrupted run`;
        throw new InputError('--resume', `${what} for ${out} changed since it started: ${changed.join('; ')}; a resume would train on both versions, start over with --force instead of --resume`);
      }
      await writeFileAtomic(path.join(dir, OWNER), JSON.stringify({ pid: process.pid }));
      return new PartialRun(dir, true);
    }
    if (exists && !flags.force) {
      throw new InputError(where, `has an interrupted run (its checkpoints are in ${dir}): add --resume to continue it, or --force to start over`);
    }
    // made whole under a temporary name and renamed into place (replacing what was there): a kill at
    // any instant leaves a run with its owner and settings, or none (and temporaries cleaned above)
    const read = await fingerprintInputs(inputs, dir);
    await makeDirectory(path.dirname(dir));
    await writeDirAtomic(dir, async (tmp) => {
      await fs.writeFile(path.join(tmp, OWNER), JSON.stringify({ pid: process.pid }));
      await fs.writeFile(path.join(tmp, SETTINGS), JSON.stringify(settings));
      await fs.writeFile(path.join(tmp, INPUTS), JSON.stringify(read));
    });
    return new PartialRun(dir, false);
  }, [dir]);
}

async function readJsonFile<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}
