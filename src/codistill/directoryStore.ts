/**
 * The embedded checkpoint store: a directory (local, or shared over NFS between machines).
 *
 *   <root>/<runId>/run.json
 *   <root>/<runId>/worker-<i>/ckpt-<version>.bin
 *   <root>/<runId>/worker-<i>/manifest.json   {versions: [{version, step, final, file, bytes, sha256}], newest first}
 *
 * Publishing writes the blob to a temporary file, fsyncs it, renames it into place, then
 * replaces the manifest the same way (write, fsync, rename) and fsyncs the directory: a
 * reader sees the old manifest or the new one, and every file a manifest names is complete.
 * A reader checks size and SHA-256 against the manifest before it uses a blob.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { sha256 } from './workerCheckpoint.js';
import type { CodistillStore, Publication, RunInfo, StoredCheckpoint } from './store.js';

interface ManifestEntry extends Publication {
  file: string;
  bytes: number;
  sha256: string;
}
interface Manifest {
  runId: string;
  worker: number;
  versions: ManifestEntry[];
}

const KEEP_VERSIONS = 2;

async function writeDurably(file: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
  const handle = await fs.open(tmp, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await fs.rename(tmp, file);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } catch {
    // some filesystems (and platforms) cannot fsync a directory; the renames are still atomic
  } finally {
    await handle.close();
  }
}

async function readJsonOrUndefined<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as T;
  } catch (e: any) {
    if (e?.code === 'ENOENT' || e instanceof SyntaxError) return undefined;
    throw e;
  }
}

export class DirectoryStore implements CodistillStore {
  readonly displayUrl: string;

  constructor(private readonly root: string) {
    this.displayUrl = root;
  }

  private runDir(runId: string): string {
    return path.join(this.root, runId);
  }

  private workerDir(runId: string, worker: number): string {
    return path.join(this.runDir(runId), `worker-${worker}`);
  }

  async createRun(info: RunInfo): Promise<void> {
    const dir = this.runDir(info.runId);
    await fs.mkdir(this.root, { recursive: true });
    try {
      await fs.mkdir(dir);
    } catch (e: any) {
      if (e?.code === 'EEXIST') throw new Error(`run "${info.runId}" already exists in ${this.displayUrl}`);
      throw e;
    }
    await writeDurably(path.join(dir, 'run.json'), `${JSON.stringify(info, null, 2)}\n`);
    await syncDirectory(dir);
  }

  readRun(runId: string): Promise<RunInfo | undefined> {
    return readJsonOrUndefined<RunInfo>(path.join(this.runDir(runId), 'run.json'));
  }

  private readManifest(runId: string, worker: number): Promise<Manifest | undefined> {
    return readJsonOrUndefined<Manifest>(path.join(this.workerDir(runId, worker), 'manifest.json'));
  }

  async publish(runId: string, worker: number, publication: Publication, bytes: Uint8Array): Promise<void> {
    const dir = this.workerDir(runId, worker);
    await fs.mkdir(dir, { recursive: true });
    const file = `ckpt-${publication.version}.bin`;
    await writeDurably(path.join(dir, file), bytes);
    const old = (await this.readManifest(runId, worker))?.versions ?? [];
    const entry: ManifestEntry = { ...publication, file, bytes: bytes.byteLength, sha256: sha256(bytes) };
    const versions = [entry, ...old.filter((v) => v.version !== publication.version)].slice(0, KEEP_VERSIONS);
    const manifest: Manifest = { runId, worker, versions };
    await writeDurably(path.join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    await syncDirectory(dir);
    const kept = new Set(versions.map((v) => v.file));
    for (const name of await fs.readdir(dir)) {
      if (/^ckpt-\d+\.bin$/.test(name) && !kept.has(name)) await fs.rm(path.join(dir, name), { force: true });
    }
  }

  async newest(runId: string, worker: number): Promise<Publication | undefined> {
    const v = (await this.readManifest(runId, worker))?.versions[0];
    return v && { version: v.version, step: v.step, final: v.final };
  }

  async version(runId: string, worker: number, version: number): Promise<StoredCheckpoint | undefined> {
    return this.firstValid(runId, worker, (v) => v.version === version);
  }

  latest(runId: string, worker: number): Promise<StoredCheckpoint | undefined> {
    return this.firstValid(runId, worker, () => true);
  }

  private async firstValid(runId: string, worker: number, wanted: (v: ManifestEntry) => boolean): Promise<StoredCheckpoint | undefined> {
    const manifest = await this.readManifest(runId, worker);
    for (const entry of (manifest?.versions ?? []).filter(wanted)) {
      let bytes: Buffer;
      try {
        bytes = await fs.readFile(path.join(this.workerDir(runId, worker), entry.file));
      } catch (e: any) {
        if (e?.code === 'ENOENT') continue; // removed by a newer publication meanwhile
        throw e;
      }
      if (bytes.byteLength === entry.bytes && sha256(bytes) === entry.sha256) return { version: entry.version, step: entry.step, final: entry.final, bytes };
    }
    return undefined;
  }

  async close(): Promise<void> {}
}
