import { availableParallelism } from 'node:os';
import type { Ensemble } from '../models/ensemble.js';
import { DEFAULT_ENSEMBLE_MEMBERS, MAX_ENSEMBLE_MEMBERS, type EnsembleMemberRequest } from '../methods/ensemble.js';
import { trainReferenceEnsemble } from '../experiments/ensembleTraining.js';
import type { CliContext } from './context.js';
import { parseInteger } from './options.js';

/** `--members`: the ensemble's size (shared by `ensemble` and `update`). */
export const membersOption = ['--members <m>', `models in the reference ensemble, ≥ 2 (default ${DEFAULT_ENSEMBLE_MEMBERS})`, parseInteger('members', 2, MAX_ENSEMBLE_MEMBERS)] as const;
/** `--jobs`: members trained at once. */
export const jobsOption = ['--jobs <n>', 'ensemble members trained at once, each in its own thread (default: number of cores)', parseInteger('jobs', 1, 64)] as const;

/**
 * A reference ensemble of `members` models of the request's architecture and preprocessing on
 * its data, trained `--jobs` at a time (every command that trains one goes through here).
 */
export function trainEnsembleFor(req: EnsembleMemberRequest, opts: { members: number; jobs?: number }, ctx: CliContext): Promise<Ensemble> {
  const jobs = Math.min(opts.jobs ?? availableParallelism(), opts.members);
  return trainReferenceEnsemble({ ...req, progress: ctx.progress }, opts.members, { jobs, log: ctx.log, progressEvery: jobs > 1 ? 25 : 0 });
}
