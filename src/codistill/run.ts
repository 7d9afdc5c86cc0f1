/**
 * A whole codistillation run on this machine: describe the run in the store, start n worker
 * processes (restarting any that die), then collect the results into the run directory,
 * written whole (util/outputs.ts). A launcher killed mid-run is continued by running it again
 * with `resume`: the run is already in the store, and each worker resumes from its own last
 * checkpoint (a finished one just reports).
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { writeDirAtomic } from '../util/outputs.js';
import type { RawData } from '../data/types.js';
import type { ModelConfig } from '../models/config.js';
import { DistilleryError, InputError, ParamError, param } from '../util/errors.js';
import { architectureHash } from './workerCheckpoint.js';
import type { CodistillConfig } from './config.js';
import { prepareRunData, type RunData } from './data.js';
import { launchWorkers, type LauncherEvent } from './launcher.js';
import { collectResults, type CodistillResult } from './results.js';
import { smallestShard } from './shards.js';
import type { CodistillStore, RunInfo } from './store.js';

export interface CodistillRunOptions {
  config: CodistillConfig;
  architecture: ModelConfig;
  raw: RawData;
  /** The data as the workers should load it (a file path or built-in name). */
  dataName: string;
  labelColumn?: string;
  store: CodistillStore;
  storeUrl: string;
  /** The run directory (checked by the caller against the output policy). */
  out: string;
  runId?: string;
  /** The run is in the store already (an interrupted launch continued): join it instead of creating it. */
  resume?: boolean;
  /** More files of the run directory, rendered from the result (e.g. report.md). */
  extraFiles?: (result: CodistillResult) => Record<string, string> | Promise<Record<string, string>>;
  /** The command that starts the distillery CLI (executable and arguments before the subcommand). */
  cliCommand: string[];
  /** Global CLI flags for the workers (engine). */
  workerGlobals: string[];
  onEvent: (e: LauncherEvent) => void;
  log: (line: string) => void;
  /**
   * Start no workers here: describe the run, print how to start each worker elsewhere, and
   * wait (at most this many seconds) for every worker's final checkpoint.
   */
  externalWorkersTimeout?: number;
}

/** Waits for the final checkpoint of every worker of a run whose workers run elsewhere. */
export async function waitForWorkers(store: CodistillStore, runId: string, workers: number, timeoutSeconds: number, log: (line: string) => void): Promise<void> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  const done = new Set<number>();
  const steps = new Map<number, number>();
  while (done.size < workers) {
    for (let i = 0; i < workers; i++) {
      if (done.has(i)) continue;
      let newest;
      try {
        newest = await store.newest(runId, i);
      } catch {
        continue; // the store is away for a moment; the workers retry too
      }
      if (newest && newest.step !== steps.get(i)) {
        steps.set(i, newest.step);
        log(`worker ${i}: published step ${newest.step}${newest.final ? ' (final)' : ''}`);
      }
      if (newest?.final) done.add(i);
    }
    if (done.size === workers) break;
    if (Date.now() > deadline) {
      const missing = [...Array(workers).keys()].filter((i) => !done.has(i));
      throw new DistilleryError(`run ${runId}: worker(s) ${missing.join(', ')} published no final checkpoint within ${timeoutSeconds} s`, 1);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** A fresh run ID: time and random suffix. */
export function newRunId(): string {
  return `codistill-${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}-${randomBytes(3).toString('hex')}`;
}

/** Checks that do not need the workers: every shard holds at least one batch (errors name the config's keys). */
export function checkShards(cfg: CodistillConfig, trainRows: number): void {
  const min = smallestShard(trainRows, cfg.workers);
  if (min < cfg.batchSize) {
    throw new ParamError([param('batchSize')], [`${cfg.workers} workers get shards of ${min} training rows, fewer than a batch of ${cfg.batchSize} (use fewer workers or a smaller batch)`], 'config');
  }
}

export async function runCodistillation(opts: CodistillRunOptions): Promise<CodistillResult> {
  const started = Date.now();
  const cfg = opts.config;
  const data = prepareRunData(opts.raw, cfg);
  checkShards(cfg, data.train.labels.length);
  const runId = opts.runId ?? newRunId();
  if (!/^[A-Za-z0-9._-]+$/.test(runId)) throw new InputError('--run', `"${runId}": letters, digits, ".", "_" and "-" only`);
  const info: RunInfo = {
    format: 'distillery-codistill-run',
    runId,
    config: cfg,
    architecture: opts.architecture,
    architectureHash: architectureHash(opts.architecture, data.train.featureShape, data.train.classNames),
    preprocessing: data.spec,
    data: {
      name: opts.dataName,
      ...(opts.labelColumn ? { labelColumn: opts.labelColumn } : {}),
      fingerprint: data.fingerprint,
      trainRows: data.train.labels.length,
      validationRows: data.validation.labels.length,
      classNames: data.train.classNames,
    },
    createdAt: new Date().toISOString(),
  };
  if (opts.resume) {
    const existing = await opts.store.readRun(runId);
    if (!existing) throw new InputError('--resume', `run "${runId}" is not in ${opts.store.displayUrl}; start over with --force`);
    if (existing.architectureHash !== info.architectureHash || existing.data.fingerprint !== info.data.fingerprint || existing.config.workers !== cfg.workers) {
      throw new InputError('--resume', `run "${runId}" in ${opts.store.displayUrl} was started with other settings or data; start over with --force`);
    }
    opts.log(`run ${runId}: continuing; each worker resumes from its last checkpoint`);
  } else {
    try {
      await opts.store.createRun(info);
    } catch (e) {
      throw new InputError('--run', (e as Error).message);
    }
  }
  opts.log(`run ${runId}: ${cfg.workers} workers, ${cfg.steps} steps each (burn-in ${Math.round(cfg.burnIn * 100)}%, R=${cfg.syncEvery}, w=${cfg.weight}), store ${opts.store.displayUrl}`);
  if (opts.externalWorkersTimeout !== undefined) {
    for (let i = 0; i < cfg.workers; i++) {
      opts.log(`start worker ${i}: distillery codistill-worker --store <url> --run ${runId} --worker ${i} --of ${cfg.workers} --data <its copy of ${opts.dataName}>`);
    }
    await waitForWorkers(opts.store, runId, cfg.workers, opts.externalWorkersTimeout, opts.log);
    return writeRun(opts, info, data, { restarts: [], wallSeconds: (Date.now() - started) / 1000, log: opts.log });
  }
  const outcome = await launchWorkers({
    workers: cfg.workers,
    command: opts.cliCommand,
    storeUrl: opts.storeUrl,
    maxRestarts: cfg.maxRestarts,
    onEvent: opts.onEvent,
    args: (i) => [
      ...opts.workerGlobals,
      '--threads', String(cfg.workerThreads),
      'codistill-worker', '--run', runId, '--worker', String(i), '--of', String(cfg.workers),
      '--data', opts.dataName, ...(opts.labelColumn ? ['--label', opts.labelColumn] : []), '--events', 'json',
    ],
  });
  return writeRun(opts, info, data, { restarts: outcome.restarts, wallSeconds: (Date.now() - started) / 1000, log: opts.log });
}

/** Collects the results into the run directory, all of it or nothing. */
async function writeRun(opts: CodistillRunOptions, info: RunInfo, data: RunData, extra: Parameters<typeof collectResults>[4]): Promise<CodistillResult> {
  let result: CodistillResult | undefined;
  await writeDirAtomic(opts.out, async (dir) => {
    result = await collectResults(opts.store, info, data, { dir, out: opts.out }, extra);
    for (const [name, text] of Object.entries((await opts.extraFiles?.(result)) ?? {})) await fs.writeFile(path.join(dir, name), text);
  });
  return result!;
}
