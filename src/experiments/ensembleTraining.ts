import type { TrainedModel } from '../models/types.js';
import { modelFromTransfer } from '../models/io.js';
import { datasetFingerprint, ensembleManifest, type Ensemble } from '../models/ensemble.js';
import { trainEnsemble, type EnsembleMemberRequest } from '../methods/ensemble.js';
import { engineInfo } from '../engine/index.js';
import { runTasks } from './workerPool.js';

export interface EnsembleTrainingOptions {
  /** Members trained at once, each in its own worker thread (1 = in this thread). */
  jobs: number;
  log?: (line: string) => void;
  /** Progress log line every this many epochs from the workers (0 = none). */
  progressEvery?: number;
}

/**
 * A reference ensemble of `members` models (methods/ensemble.ts) with its manifest, the
 * members trained in parallel on the worker pool (`ensemble-member` tasks). Member j's
 * seed depends on the request's seed and j only, so the result is the same for any `jobs`.
 */
export async function trainReferenceEnsemble(req: EnsembleMemberRequest, members: number, opts: EnsembleTrainingOptions): Promise<Ensemble> {
  const engine = engineInfo();
  let models: TrainedModel[];
  if (opts.jobs <= 1 || !engine) {
    models = await trainEnsemble(req, members);
  } else {
    const { progress: _progress, ...request } = req;
    const transfers = await runTasks(
      Array.from({ length: members }, (_, j) => ({ kind: 'ensemble-member' as const, input: { request, j, of: members } })),
      { jobs: opts.jobs, engine, progressEvery: opts.progressEvery, log: opts.log },
    );
    models = await Promise.all(transfers.map(modelFromTransfer));
  }
  return { members: models, manifest: ensembleManifest(models, { ...datasetFingerprint(req.train), source: req.train.source }) };
}
