/**
 * Where codistillation workers publish checkpoints and read their peers'. Two real stores:
 * a directory (the default; also on a shared network filesystem) and Redis. A store holds
 * runs; a run holds its description (RunInfo) and, per worker, the newest checkpoint versions.
 * Only checkpoints travel through a store, never gradients.
 */
import type { PreprocessingSpec } from '../data/types.js';
import type { ModelConfig } from '../models/config.js';
import type { CodistillConfig } from './config.js';

/** Everything a worker needs to join a run besides the data itself. */
export interface RunInfo {
  format: 'distillery-codistill-run';
  runId: string;
  config: CodistillConfig;
  architecture: ModelConfig;
  architectureHash: string;
  preprocessing: PreprocessingSpec;
  data: {
    /** The data as named on the launcher's command line (a worker may name its own copy differently). */
    name: string;
    labelColumn?: string;
    /** SHA-256 of the preprocessed training rows: every worker must hold the same data. */
    fingerprint: string;
    trainRows: number;
    validationRows: number;
    classNames: string[];
  };
  createdAt: string;
}

/** A stored checkpoint blob and what the store records about it. */
export interface StoredCheckpoint {
  version: number;
  step: number;
  final: boolean;
  bytes: Uint8Array;
}

/** Metadata of a publication; the store adds the checksum. */
export interface Publication {
  version: number;
  step: number;
  final: boolean;
}

export interface CodistillStore {
  /** The store's address with any password masked (for logs, metadata and reports). */
  readonly displayUrl: string;
  /** Records a new run; fails if a run of that ID exists. */
  createRun(info: RunInfo): Promise<void>;
  readRun(runId: string): Promise<RunInfo | undefined>;
  /**
   * Publishes worker `worker`'s checkpoint atomically: readers see the previous version or
   * this one, complete. Keeps the two newest versions (a reader that finds the newest corrupt
   * falls back to the one before), removes older ones.
   */
  publish(runId: string, worker: number, publication: Publication, bytes: Uint8Array): Promise<void>;
  /** What the newest publication of `worker` is (version, step, final), without reading it (cheap polling). */
  newest(runId: string, worker: number): Promise<Publication | undefined>;
  /** Version `version` of `worker`'s checkpoints if the store still holds it and its checksum verifies. */
  version(runId: string, worker: number, version: number): Promise<StoredCheckpoint | undefined>;
  /** The newest checkpoint of `worker` whose checksum verifies, or undefined when none does. */
  latest(runId: string, worker: number): Promise<StoredCheckpoint | undefined>;
  close(): Promise<void>;
}

/** A URL with its password masked (one definition: util/redis.ts). */
export { redactUrl } from '../util/redis.js';
