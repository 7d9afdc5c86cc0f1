/**
 * The Redis checkpoint store (`--store redis://[user:pass@]host:port/db`, `rediss://` for TLS).
 *
 *   distillery:codistill:<run>:info          the RunInfo (JSON)
 *   distillery:codistill:<run>:w<i>:v<ver>   a checkpoint blob (binary)
 *   distillery:codistill:<run>:w<i>:latest   JSON list of the two newest versions {version, step, final, bytes, sha256}
 *
 * A publication is one MULTI transaction (blob, list, removal of the version that falls off
 * the list) followed by a PUBLISH on `…:<run>:published` for listeners; workers poll
 * `latest` every R steps, which costs one small GET per peer. Commands fail fast while the
 * server is away (no offline queue), so training never blocks on Redis: the worker's
 * StoreGuard retries with backoff. The client is ioredis (also BullMQ's client).
 */
import type { Redis } from 'ioredis';
import { connectRedis } from '../util/redis.js';
import { sha256 } from './workerCheckpoint.js';
import { redactUrl, type CodistillStore, type Publication, type RunInfo, type StoredCheckpoint } from './store.js';

interface VersionEntry extends Publication {
  bytes: number;
  sha256: string;
}

const KEEP_VERSIONS = 2;
const PREFIX = 'distillery:codistill';

export class RedisStore implements CodistillStore {
  readonly displayUrl: string;

  private constructor(private readonly redis: Redis, url: string) {
    this.displayUrl = redactUrl(url);
  }

  /** Connects (5 s at most) or throws an InputError naming `flag` and the masked address (util/redis.ts). */
  static async connect(url: string, flag = '--store', timeoutMs = 5000): Promise<RedisStore> {
    const redis = await connectRedis(url, flag, {
      feature: `the Redis checkpoint store (${flag} redis://…)`,
      timeoutMs,
      options: { enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 10_000 },
    });
    return new RedisStore(redis, url);
  }

  private key(runId: string, ...parts: (string | number)[]): string {
    return [PREFIX, runId, ...parts].join(':');
  }

  async createRun(info: RunInfo): Promise<void> {
    const ok = await this.redis.set(this.key(info.runId, 'info'), JSON.stringify(info), 'NX');
    if (ok !== 'OK') throw new Error(`run "${info.runId}" already exists in ${this.displayUrl}`);
  }

  async readRun(runId: string): Promise<RunInfo | undefined> {
    const text = await this.redis.get(this.key(runId, 'info'));
    return text ? (JSON.parse(text) as RunInfo) : undefined;
  }

  private async versions(runId: string, worker: number): Promise<VersionEntry[]> {
    const text = await this.redis.get(this.key(runId, `w${worker}`, 'latest'));
    return text ? (JSON.parse(text) as VersionEntry[]) : [];
  }

  async publish(runId: string, worker: number, publication: Publication, bytes: Uint8Array): Promise<void> {
    const old = await this.versions(runId, worker);
    const entry: VersionEntry = { ...publication, bytes: bytes.byteLength, sha256: sha256(bytes) };
    const versions = [entry, ...old.filter((v) => v.version !== publication.version)].slice(0, KEEP_VERSIONS);
    const dropped = old.filter((v) => !versions.some((k) => k.version === v.version));
    const tx = this.redis
      .multi()
      .set(this.key(runId, `w${worker}`, `v${publication.version}`), Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))
      .set(this.key(runId, `w${worker}`, 'latest'), JSON.stringify(versions));
    for (const v of dropped) tx.del(this.key(runId, `w${worker}`, `v${v.version}`));
    const results = await tx.exec();
    const failed = results?.find(([e]) => e);
    if (!results || failed) throw failed?.[0] ?? new Error('Redis transaction aborted');
    await this.redis.publish(this.key(runId, 'published'), JSON.stringify({ worker, version: publication.version }));
  }

  async newest(runId: string, worker: number): Promise<Publication | undefined> {
    const v = (await this.versions(runId, worker))[0];
    return v && { version: v.version, step: v.step, final: v.final };
  }

  version(runId: string, worker: number, version: number): Promise<StoredCheckpoint | undefined> {
    return this.firstValid(runId, worker, (v) => v.version === version);
  }

  latest(runId: string, worker: number): Promise<StoredCheckpoint | undefined> {
    return this.firstValid(runId, worker, () => true);
  }

  private async firstValid(runId: string, worker: number, wanted: (v: VersionEntry) => boolean): Promise<StoredCheckpoint | undefined> {
    for (const entry of (await this.versions(runId, worker)).filter(wanted)) {
      const bytes = await this.redis.getBuffer(this.key(runId, `w${worker}`, `v${entry.version}`));
      if (bytes && bytes.byteLength === entry.bytes && sha256(bytes) === entry.sha256) return { version: entry.version, step: entry.step, final: entry.final, bytes };
    }
    return undefined;
  }

  async close(): Promise<void> {
    try {
      await this.redis.quit();
    } catch {
      this.redis.disconnect();
    }
  }
}
