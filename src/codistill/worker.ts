/**
 * One codistillation worker (Anil et al. 2018, methods.md §2): trains copy i of the model on
 * its own shard. For the first B steps it minimises the task loss alone; after that
 *
 *     CE(onehot(y), z_i) + w · CE( mean_{j≠i} σ(z̃_j(x)), z_i )
 *
 * where z̃_j is peer j's latest PUBLISHED checkpoint, reloaded every R steps. Every R steps
 * the worker publishes its own checkpoint (weights, the trainer's snapshot, progress); a
 * restarted worker resumes from it, so at most R steps are redone. Only checkpoints travel.
 */
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { Dataset, RawData } from '../data/types.js';
import { subsetDataset } from '../data/types.js';
import { buildNetwork } from '../models/build.js';
import { deriveSeed } from '../models/layers.js';
import { codistillationObjective, crossEntropyObjective } from '../objectives/targetObjectives.js';
import { phasedObjective } from '../objectives/phased.js';
import type { Objective } from '../objectives/types.js';
import type { TrainingCallback, TrainingState } from '../train/callbacks.js';
import { PeerModelsReference } from '../train/peers.js';
import { evaluate, trainModel } from '../train/trainer.js';
import type { TrainingSnapshot } from '../train/snapshots.js';
import { InputError } from '../util/errors.js';
import { CheckpointRejected, decodeCheckpoint, encodeCheckpoint, modelWeights, setModelWeights, type WorkerProgress } from './workerCheckpoint.js';
import { burnInSteps, type CodistillConfig } from './config.js';
import { prepareRunData, type RunData } from './data.js';
import { shardRows } from './shards.js';
import type { CodistillStore, RunInfo } from './store.js';
import { StoreGuard } from './storeGuard.js';

export interface WorkerOptions {
  store: CodistillStore;
  runId: string;
  worker: number;
  /** Number of workers, as the caller believes (checked against the run). */
  of: number;
  /** The worker's copy of the run's data. */
  data: RawData;
  /** Names the data in errors. */
  dataName: string;
  log: (line: string) => void;
  /** Progress after each publication. */
  onProgress?: (p: { worker: number; step: number; steps: number; valAccuracy: number; loss: number; peers: number[] }) => void;
  /** How long the final publication may wait for an unreachable store (default 120 s). */
  storeTimeoutMs?: number;
}

function withoutWeights(s: TrainingSnapshot): Omit<TrainingSnapshot, 'weights'> {
  const { weights: _w, ...rest } = s;
  return rest;
}

export interface WorkerSummary {
  worker: number;
  steps: number;
  shardRows: number;
  valAccuracy: number;
  progress: WorkerProgress;
}

/**
 * Below this share of its steps after burn-in trained with a peer's term, a worker is reported as
 * having hardly codistilled (its peers' checkpoints came late or never: a peer started after it
 * finished, a store the peers do not share).
 */
export const MIN_DISTILLED_SHARE = 0.5;

/**
 * The warning for a worker that trained with the peers' term for none or few of its steps after
 * burn-in, or undefined. Nothing to warn of when there are no such steps or the term weighs 0.
 */
export function distillationWarning(distilledSteps: number, cfg: CodistillConfig): string | undefined {
  const after = cfg.steps - burnInSteps(cfg);
  if (after <= 0 || cfg.weight === 0 || distilledSteps >= MIN_DISTILLED_SHARE * after) return undefined;
  return distilledSteps === 0
    ? `distilled from no peer: none of its ${after} steps after burn-in had a peer's checkpoint (it trained alone)`
    : `distilled from its peers for ${distilledSteps} of its ${after} steps after burn-in only`;
}

/** The seed of worker i's initial weights and batch order (independent copies). */
export function workerSeed(runSeed: number, worker: number): number {
  return deriveSeed(runSeed, `codistill-worker-${worker}`);
}

/** The run's description, checked against what the worker was told. */
export async function joinRun(store: CodistillStore, runId: string, worker: number, of: number, guard?: StoreGuard): Promise<RunInfo> {
  const info = guard ? await guard.persist('read the run', () => store.readRun(runId), 120_000) : await store.readRun(runId);
  if (!info) throw new InputError('--run', `run "${runId}" not found in ${store.displayUrl}`);
  if (info.runId !== runId) throw new InputError('--run', `the store's run "${runId}" describes itself as run "${info.runId}"`);
  if (of !== info.config.workers) throw new InputError('--of', `run "${runId}" has ${info.config.workers} workers, not ${of}`);
  if (!(Number.isInteger(worker) && worker >= 0 && worker < of)) throw new InputError('--worker', `must be an integer in [0, ${of - 1}], got ${worker}`);
  return info;
}

/**
 * Runs worker `opts.worker` of a run to its end: joins the run, resumes from its own last
 * checkpoint (or reports a finished one), trains its shard with the peers' term on the schedule
 * of `CodistillSchedule`, and publishes its final checkpoint.
 */
export async function runCodistillWorker(opts: WorkerOptions): Promise<WorkerSummary> {
  const ctx = await joinAsWorker(opts);
  const { cfg, shard, progress } = ctx;
  const storeTimeoutMs = opts.storeTimeoutMs ?? 120_000;
  const model = await workerNetwork(ctx, ctx.worker);
  const own = await resumeOwnCheckpoint(ctx, model, storeTimeoutMs);
  if (own.finished) {
    model.dispose();
    return own.finished;
  }
  const peers = new PeerSync(ctx);
  const publisher = new Publisher(ctx, model, peers, opts.onProgress);
  const schedule = new CodistillSchedule(ctx, peers, publisher, own.resume?.steps ?? 0);

  const batchesPerEpoch = Math.ceil(shard.labels.length / cfg.batchSize);
  await trainModel(model, shard, {
    objective: schedule.objective,
    reference: peers.reference,
    epochs: Math.ceil(cfg.steps / batchesPerEpoch),
    maxSteps: cfg.steps,
    batchSize: cfg.batchSize,
    optimizer: 'adam',
    learningRate: cfg.learningRate,
    seed: workerSeed(cfg.seed, ctx.worker),
    callbacks: [schedule],
    resumeFrom: own.resume,
  });
  // A peer never heard from after burn-in is silent however short the run (the peer timeout
  // may not have passed), and a worker that distilled for few of its steps says so.
  if (burnInSteps(cfg) < cfg.steps) {
    peers.markUnheardSilent();
    const warning = distillationWarning(progress.distilledSteps, cfg);
    if (warning) ctx.log(`worker ${ctx.worker}: warning: ${warning}`);
  }
  const finalState = schedule.finalState!;
  await publisher.publishFinal(finalState, storeTimeoutMs);
  const summary: WorkerSummary = { worker: ctx.worker, steps: finalState.steps, shardRows: shard.labels.length, valAccuracy: progress.curve.at(-1)!.valAccuracy, progress };
  peers.dispose();
  model.dispose();
  return summary;
}

/** What every part of a worker reads: the run and its store, this worker's index, data and shard, and the progress its checkpoints record. */
interface WorkerContext {
  store: CodistillStore;
  guard: StoreGuard;
  runId: string;
  info: RunInfo;
  cfg: CodistillConfig;
  /** This worker's index. */
  worker: number;
  data: RunData;
  shard: Dataset;
  log: (line: string) => void;
  /**
   * Recorded in every checkpoint; each part writes its own fields: the resume (restarts), the peer
   * synchronisation (peer versions, refusals, silent peers), the schedule (distilled steps) and
   * the publication (curve, seconds).
   */
  progress: WorkerProgress;
}

/** Joins the run as worker `opts.worker`: the run's description, and this worker's data and shard, checked against it. */
async function joinAsWorker(opts: WorkerOptions): Promise<WorkerContext> {
  const { store, runId, worker: i, log } = opts;
  const guard = new StoreGuard(log, store.displayUrl);
  const info = await joinRun(store, runId, i, opts.of, guard);
  const cfg = info.config;
  const data = prepareRunData(opts.data, cfg, info.preprocessing);
  if (data.fingerprint !== info.data.fingerprint) {
    throw new InputError(opts.dataName, `is not the data of run "${runId}" (${data.train.labels.length} training rows, fingerprint differs from the launcher's ${info.data.trainRows} rows)`);
  }
  const shard = subsetDataset(data.train, shardRows(data.train.labels.length, cfg.workers, i, cfg.overlap, cfg.seed));
  if (shard.labels.length < cfg.batchSize) {
    throw new InputError('--batch-size', `worker ${i}'s shard has ${shard.labels.length} rows, fewer than a batch of ${cfg.batchSize}`);
  }
  const progress: WorkerProgress = { curve: [], seconds: 0, restarts: 0, silentPeers: [], refused: [], distilledSteps: 0, peerVersions: {} };
  return { store, guard, runId, info, cfg, worker: i, data, shard, log, progress };
}

/** Worker j's copy of the network, with its initial weights. */
function workerNetwork(ctx: WorkerContext, j: number): Promise<LayersModel> {
  return buildNetwork(ctx.info.architecture, ctx.shard.featureShape, ctx.shard.classNames.length, workerSeed(ctx.cfg.seed, j));
}

/** What a checkpoint of worker j must say it is. */
function checkpointOf(ctx: WorkerContext, j: number): { runId: string; worker: number; architectureHash: string } {
  return { runId: ctx.runId, worker: j, architectureHash: ctx.info.architectureHash };
}

/**
 * Resume: the worker's own last checkpoint, if it has one, put into `model` and `ctx.progress`.
 * A final checkpoint means the worker finished already (its summary); any other carries the
 * trainer's snapshot to resume from (at most R steps back).
 */
async function resumeOwnCheckpoint(ctx: WorkerContext, model: LayersModel, storeTimeoutMs: number): Promise<{ finished?: WorkerSummary; resume?: TrainingSnapshot }> {
  const { store, runId, worker: i, progress } = ctx;
  const own = await ctx.guard.persist('read own checkpoint', () => store.latest(runId, i), storeTimeoutMs);
  if (!own) return {};
  let content;
  try {
    content = decodeCheckpoint(own.bytes, checkpointOf(ctx, i));
  } catch (e) {
    if (e instanceof CheckpointRejected) throw new InputError('--run', `worker ${i}'s checkpoint in ${store.displayUrl} ${e.message}`);
    throw e;
  }
  setModelWeights(model, content.weights);
  Object.assign(progress, content.progress, { restarts: content.progress.restarts + (content.final ? 0 : 1) });
  if (content.final) {
    ctx.log(`worker ${i}: finished already (step ${content.step})`);
    return { finished: { worker: i, steps: content.step, shardRows: ctx.shard.labels.length, valAccuracy: progress.curve.at(-1)?.valAccuracy ?? NaN, progress } };
  }
  if (!content.training) throw new InputError('--run', `worker ${i}'s checkpoint in ${store.displayUrl} at step ${content.step} carries no training state to resume from`);
  ctx.log(`worker ${i}: resuming from its checkpoint at step ${content.step}`);
  return { resume: { ...content.training, weights: content.weights } };
}

/**
 * Peer synchronisation: the peers' published checkpoints loaded into their copies of the network,
 * which the peers' term reads (`reference`: the mean of their predictions). Refused checkpoints,
 * the versions loaded and the peers given up on (silent) go into the progress.
 */
class PeerSync {
  readonly reference: PeerModelsReference;
  /** Each peer's copy of the network, built at its first checkpoint. */
  private readonly models = new Map<number, LayersModel>();
  private readonly loadedVersion = new Map<number, number>();
  private readonly silent: Set<number>;
  /** Wall time of the first asynchronous reload (burn-in's end): the peer timeout counts from it. */
  private distillFrom: number | undefined;

  constructor(private readonly ctx: WorkerContext) {
    this.reference = new PeerModelsReference(ctx.shard);
    this.silent = new Set(ctx.progress.silentPeers);
  }

  /** The peers whose checkpoints are loaded (in the peers' term). */
  get loaded(): number[] {
    return this.reference.peerIds;
  }

  /** Asynchronous reload: each peer's newest checkpoint where it is newer than the one loaded; a peer with none a peer timeout after burn-in is silent. */
  async reloadNewest(): Promise<void> {
    const { store, runId, guard, cfg } = this.ctx;
    for (const j of this.peerIndices()) {
      const have = this.loadedVersion.get(j) ?? 0;
      const version = (await guard.attempt(`poll worker ${j}`, () => store.newest(runId, j)))?.version;
      if (version === undefined || version <= have) continue;
      const stored = await guard.attempt(`read worker ${j}`, () => store.latest(runId, j));
      if (!stored || stored.version <= have) continue;
      await this.use(j, stored);
    }
    this.distillFrom ??= Date.now();
    for (const j of this.peerIndices()) {
      if (this.loadedVersion.has(j) || this.silent.has(j)) continue;
      if ((Date.now() - this.distillFrom) / 1000 > cfg.peerTimeout) this.markSilent(j, `has published no checkpoint ${cfg.peerTimeout} s after burn-in`);
    }
  }

  /**
   * Lockstep reload: the peers' checkpoints of round `version`, waiting for each (up to the peer
   * timeout) and calling `whileWaiting` between polls (a peer may be waiting for this worker's own
   * pending publication).
   */
  async reloadRound(version: number, whileWaiting: () => Promise<void>): Promise<void> {
    const { store, runId, guard, cfg, log, worker: i } = this.ctx;
    for (const j of this.peerIndices()) {
      if (this.silent.has(j) || this.loadedVersion.get(j) === version) continue;
      const waitFrom = Date.now();
      for (;;) {
        const stored = await guard.attempt(`read worker ${j}`, () => store.version(runId, j, version));
        if (stored) {
          await this.use(j, stored);
          break;
        }
        const newest = await guard.attempt(`poll worker ${j}`, () => store.newest(runId, j));
        if (newest && newest.version > version) {
          log(`worker ${i}: worker ${j}'s checkpoint of step ${version} is gone; taking its newest (step ${newest.version})`);
          const latest = await guard.attempt(`read worker ${j}`, () => store.latest(runId, j));
          if (latest) await this.use(j, latest);
          break;
        }
        if ((Date.now() - waitFrom) / 1000 > cfg.peerTimeout) {
          this.markSilent(j, `has not published step ${version} within ${cfg.peerTimeout} s`);
          break;
        }
        await whileWaiting();
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  /** At the end of training: the peers never heard from are silent, however short the run. */
  markUnheardSilent(): void {
    for (const j of this.peerIndices()) {
      if (!this.loadedVersion.has(j) && !this.silent.has(j)) this.markSilent(j, 'published no checkpoint before this worker finished', false);
    }
  }

  dispose(): void {
    this.reference.dispose();
  }

  /** The other workers, in order. */
  private peerIndices(): number[] {
    return Array.from({ length: this.ctx.cfg.workers }, (_, j) => j).filter((j) => j !== this.ctx.worker);
  }

  /** Loads a stored peer checkpoint into that peer's copy, unless it is refused. */
  private async use(j: number, stored: { version: number; bytes: Uint8Array }): Promise<void> {
    const { progress, log, worker: i } = this.ctx;
    this.loadedVersion.set(j, stored.version);
    try {
      const content = decodeCheckpoint(stored.bytes, checkpointOf(this.ctx, j));
      let m = this.models.get(j);
      if (!m) this.models.set(j, (m = await workerNetwork(this.ctx, j)));
      setModelWeights(m, content.weights);
      this.reference.setPeer(j, m);
      (progress.peerVersions[j] ??= []).push(stored.version);
    } catch (e) {
      if (!(e instanceof CheckpointRejected)) throw e;
      const line = `worker ${j} v${stored.version}: ${e.message}`;
      progress.refused.push(line);
      log(`worker ${i}: refused checkpoint of ${line}; keeping the copy it had`);
    }
  }

  private markSilent(j: number, why: string, training = true): void {
    this.silent.add(j);
    this.ctx.progress.silentPeers = [...this.silent].sort((a, b) => a - b);
    this.ctx.log(`worker ${this.ctx.worker}: peer ${j} ${why}${training ? '; training without waiting for it' : ''}`);
  }
}

/**
 * Publication: the worker's checkpoint (weights, the trainer's snapshot, progress with the
 * validation accuracy on its curve) is made at a publication step and stays pending until the
 * store takes it; only the final one waits for an unreachable store.
 */
class Publisher {
  /** The latest step's loss, for the progress report. */
  lastLoss = NaN;
  private pending: { version: number; step: number; final: boolean; bytes: Uint8Array } | undefined;
  private readonly sessionStart = Date.now();
  private readonly secondsBefore: number;

  constructor(
    private readonly ctx: WorkerContext,
    private readonly model: LayersModel,
    private readonly peers: PeerSync,
    private readonly onProgress: WorkerOptions['onProgress'],
  ) {
    this.secondsBefore = ctx.progress.seconds;
  }

  /** Makes the checkpoint of `state` the one to publish (replacing any still pending). */
  async prepare(state: TrainingState, final: boolean): Promise<void> {
    const { info, progress, cfg, worker: i } = this.ctx;
    const valAccuracy = evaluate(this.model, this.ctx.data.validation).accuracy;
    progress.seconds = this.secondsBefore + (Date.now() - this.sessionStart) / 1000;
    progress.curve.push({ step: state.steps, seconds: progress.seconds, valAccuracy });
    const bytes = encodeCheckpoint({
      runId: this.ctx.runId, worker: i, version: state.steps, step: state.steps, final, architectureHash: info.architectureHash,
      weights: modelWeights(this.model),
      // a final checkpoint is never resumed from (and the trainer has released its optimizer)
      ...(final ? {} : { training: withoutWeights(await state.snapshot()) }),
      progress,
    });
    this.pending = { version: state.steps, step: state.steps, final, bytes };
    this.onProgress?.({ worker: i, step: state.steps, steps: cfg.steps, valAccuracy, loss: this.lastLoss, peers: this.peers.loaded });
  }

  /** Publishes the pending checkpoint if the store takes it now (else it stays pending, for the next try). */
  async flush(): Promise<void> {
    if (!this.pending) return;
    const p = this.pending;
    const { store, runId, worker: i } = this.ctx;
    const done = await this.ctx.guard.attempt(`publish step ${p.step}`, () => store.publish(runId, i, { version: p.version, step: p.step, final: p.final }, p.bytes).then(() => true));
    if (done && this.pending === p) this.pending = undefined;
  }

  /** The final checkpoint of `state`, published however long the store takes (up to `storeTimeoutMs`). */
  async publishFinal(state: TrainingState, storeTimeoutMs: number): Promise<void> {
    await this.prepare(state, true);
    const last = this.pending!;
    const { store, runId, worker: i } = this.ctx;
    await this.ctx.guard.persist(`publish final checkpoint`, () => store.publish(runId, i, { version: last.version, step: last.step, final: true }, last.bytes), storeTimeoutMs);
    this.pending = undefined;
  }
}

/**
 * The worker's schedule, as a training callback (methods.md §2): the peers reloaded at burn-in B
 * and at every multiple of R after it (and where a resumed run starts), a checkpoint published
 * every R steps; the objective has the peers' term on the steps after burn-in with a peer loaded.
 */
class CodistillSchedule implements TrainingCallback {
  readonly objective: Objective;
  /** The trainer's state at the end of training, for the final checkpoint. */
  finalState: TrainingState | undefined;
  private readonly B: number;
  private readonly R: number;
  /** The step being taken. */
  private step: number;
  private lastReload: number | undefined;

  constructor(
    private readonly ctx: WorkerContext,
    private readonly peers: PeerSync,
    private readonly publisher: Publisher,
    firstStep: number,
  ) {
    this.B = burnInSteps(ctx.cfg);
    this.R = ctx.cfg.syncEvery;
    this.step = firstStep;
    this.objective = phasedObjective(crossEntropyObjective(), codistillationObjective(ctx.cfg.weight), () => !this.distilling());
  }

  async onBatchBegin(s: number): Promise<void> {
    const { B, R } = this;
    this.step = s;
    if (s >= B && (s === B || s % R === 0 || this.lastReload === undefined)) {
      this.lastReload = s;
      const round = Math.floor(s / R) * R; // the newest publication round at or before s
      if (!this.ctx.cfg.lockstep) await this.peers.reloadNewest();
      else if (round >= R) await this.peers.reloadRound(round, () => this.publisher.flush());
    }
    if (this.distilling()) this.ctx.progress.distilledSteps++;
  }

  async onBatchEnd(s: number, loss: number, state: TrainingState): Promise<void> {
    this.publisher.lastLoss = loss;
    if (s % this.R === 0 && s < this.ctx.cfg.steps) await this.publisher.prepare(state, false);
    await this.publisher.flush();
  }

  onTrainEnd(state: TrainingState): void {
    this.finalState = state;
  }

  /** Whether the step being taken has the peers' term: after burn-in, with a peer loaded. */
  private distilling(): boolean {
    return this.step >= this.B && this.peers.loaded.length > 0;
  }
}
