import type { Dataset, PreprocessingSpec } from '../data/types.js';
import type { ModelConfig } from '../models/config.js';
import type { TrainedModel } from '../models/types.js';
import type { TrainingConfig } from '../models/recipe.js';
import { crossEntropyObjective } from '../objectives/targetObjectives.js';
import type { ProgressSink } from '../train/progress.js';
import { fitModel } from './fit.js';

/** Members of an ELODI reference ensemble when nothing else is said (the paper's m = 8). */
export const DEFAULT_ENSEMBLE_MEMBERS = 8;

/** The largest reference ensemble a config or flag may ask for. */
export const MAX_ENSEMBLE_MEMBERS = 64;

/** Seed index of the first member of the OLD model's own ensemble (retrain-old), apart from the new model's members (0…63). */
export const OLD_ENSEMBLE_FIRST_MEMBER = 64;

/** Seed of ensemble member `j` (0-based) for an update seeded `seed`: `seed·1000 + 100 + j`, distinct from the base and new models'. */
export function ensembleMemberSeed(seed: number, j: number): number {
  return seed * 1000 + 100 + j;
}

export interface EnsembleMemberRequest {
  architecture: ModelConfig;
  preprocessing: PreprocessingSpec;
  train: Dataset;
  validation: Dataset;
  training: TrainingConfig;
  /** The update's seed; member j is seeded ensembleMemberSeed(seed, firstMember + j). */
  seed: number;
  /** Offset of the members' seed indices (default 0; the old model's own ensemble uses OLD_ENSEMBLE_FIRST_MEMBER). */
  firstMember?: number;
  progress?: ProgressSink;
  label?: string;
}

/** Member `j` of a homogeneous ensemble: the architecture trained on labels alone with its own seed. */
export async function trainEnsembleMember(req: EnsembleMemberRequest, j: number, of: number): Promise<TrainedModel> {
  const { trained } = await fitModel({
    architecture: req.architecture,
    preprocessing: req.preprocessing,
    train: req.train,
    validation: req.validation,
    objective: crossEntropyObjective(),
    training: req.training,
    seed: ensembleMemberSeed(req.seed, (req.firstMember ?? 0) + j),
    recipe: { method: 'ensemble-member' },
    progress: req.progress,
    label: [req.label, `ensemble member ${j + 1}/${of}`].filter(Boolean).join(': '),
  });
  return trained;
}

/** `members` models trained one after another in this thread (the CLI spreads them over worker threads instead). */
export async function trainEnsemble(req: EnsembleMemberRequest, members: number): Promise<TrainedModel[]> {
  const out: TrainedModel[] = [];
  for (let j = 0; j < members; j++) out.push(await trainEnsembleMember(req, j, members));
  return out;
}
