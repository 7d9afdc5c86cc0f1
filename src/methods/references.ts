import type { Dataset } from '../data/types.js';
import type { TrainedModel } from '../models/types.js';
import type { Ensemble } from '../models/ensemble.js';
import type { ReferenceRecord } from '../models/recipe.js';
import { modelLogitsOn } from '../models/predict.js';
import { averageLogits, CachedReference, logMeanProbabilities } from '../train/reference.js';
import { InputError } from '../util/errors.js';

/**
 * Where an update's reference logits come from. Later kinds (e.g. chains of intermediate
 * models) are new members of this union and a case in `referenceLogits`.
 */
export type ReferenceSource =
  /** The deployed model (the `base` of the update). */
  | { kind: 'base' }
  /** A homogeneous ensemble: the element-wise mean of its members' logits (ELODI). */
  | { kind: 'ensemble'; models: TrainedModel[] }
  /** Peers' (stale) checkpoints: log of their mean probabilities, so softmax gives p̄ (codistillation). */
  | { kind: 'peers'; models: TrainedModel[] }
  /** Predictions logged elsewhere: logits [n, K] for the training rows, in their order. */
  | { kind: 'logged'; logits: Float32Array; source: string }
  /** Another model than the deployed one (e.g. a larger teacher for knowledge distillation). */
  | { kind: 'model'; model: TrainedModel };

export type ReferenceKind = ReferenceSource['kind'];

/** A resolved teacher (referenceSpec.ts): the source of its logits, and the ensemble when one was loaded or trained (to save or dispose). */
export interface ResolvedReference {
  source: ReferenceSource;
  ensemble?: Ensemble;
  /** Whether the ensemble was trained here (the caller owns its members). */
  trained: boolean;
}

const modelId = (m: TrainedModel): string => m.meta.id ?? `seed:${m.meta.seed}`;

/** What a model's metadata records about the source. */
export function referenceRecord(source: ReferenceSource, base: TrainedModel): ReferenceRecord {
  switch (source.kind) {
    case 'base':
      return { kind: 'base', modelIds: [modelId(base)] };
    case 'ensemble':
    case 'peers':
      return { kind: source.kind, modelIds: source.models.map(modelId) };
    case 'logged':
      return { kind: 'logged', modelIds: [] };
    case 'model':
      return { kind: 'model', modelIds: [modelId(source.model)] };
  }
}

function referenceLogits(source: ReferenceSource, base: TrainedModel, train: Dataset): Float32Array {
  const K = train.classNames.length;
  const logitsOf = (m: TrainedModel) => modelLogitsOn(m, train);
  switch (source.kind) {
    case 'base':
      return logitsOf(base);
    case 'ensemble':
      if (source.models.length === 0) throw new InputError('reference', 'an ensemble needs at least one model');
      return averageLogits(source.models.map(logitsOf));
    case 'peers':
      if (source.models.length === 0) throw new InputError('reference', 'peers need at least one model');
      return logMeanProbabilities(source.models.map(logitsOf), K);
    case 'logged':
      if (source.logits.length !== train.labels.length * K) {
        throw new InputError(source.source, `has ${source.logits.length} logits; ${train.labels.length} training rows × ${K} classes need ${train.labels.length * K}`);
      }
      return source.logits;
    case 'model':
      return logitsOf(source.model);
  }
}

/**
 * Reference logits built once per (source, training set) and kept: every method of one
 * experiment trial that reads the same source over the same rows shares one computation,
 * and no teacher runs inside the training loop.
 */
export class ReferenceCache {
  private readonly built = new WeakMap<object, WeakMap<Dataset, CachedReference>>();

  /** The cached reference for `source` over `train` (built on first use). */
  get(source: ReferenceSource, base: TrainedModel, train: Dataset): CachedReference {
    // the base source is the base model itself; any other source is its own key
    const key: object = source.kind === 'base' ? base : source;
    let perData = this.built.get(key);
    if (!perData) this.built.set(key, (perData = new WeakMap()));
    let ref = perData.get(train);
    if (!ref) perData.set(train, (ref = new CachedReference(referenceLogits(source, base, train), train.classNames.length)));
    return ref;
  }
}
