/**
 * Where an update's teacher comes from, as its caller names it, and the one function that
 * turns that into reference logits' source: the library (`distill`, `trainUpdate` callers), the
 * CLI (`update`'s --reference, --reference-predictions, --members) and experiment configs
 * (`reference:` of a method entry) all go through `resolveReference`. `checkReferenceSpec`
 * runs before any work, so a spec that cannot apply is refused before anything is trained.
 *
 * To add a kind of reference: a member of ReferenceSpec and its case here (and, for the logits
 * it gives, a ReferenceSource with its case in references.ts).
 */
import type { Dataset, PreprocessingSpec } from '../data/types.js';
import type { ModelConfig } from '../models/config.js';
import type { TrainedModel } from '../models/types.js';
import type { TrainingConfig } from '../models/recipe.js';
import { checkEnsembleFor, datasetFingerprint, ensembleManifest, loadEnsemble, type Ensemble } from '../models/ensemble.js';
import type { ProgressSink } from '../train/progress.js';
import { InputError } from '../util/errors.js';
import { inheritOnnxInterface } from '../models/metadata.js';
import { DEFAULT_ENSEMBLE_MEMBERS, MAX_ENSEMBLE_MEMBERS, trainEnsemble, type EnsembleMemberRequest } from './ensemble.js';
import type { ResolvedReference } from './references.js';

export type { ResolvedReference } from './references.js';
import { methodNamed, resolveMethod, type MethodName, type UpdateMethodInput } from './registry.js';

/** A teacher as a caller names it. */
export type ReferenceSpec =
  /** The deployed model (the update's base). */
  | { kind: 'base' }
  /** A homogeneous ensemble (ELODI): given models, an ensemble directory to load, or members to train here. */
  | { kind: 'ensemble'; models: TrainedModel[] }
  | { kind: 'ensemble'; dir: string }
  | { kind: 'ensemble'; members?: number; firstMember?: number }
  /** Logged predictions of a model Distillery cannot run: logits [rows, K] of the training rows, in order. */
  | { kind: 'logged'; logits: Float32Array; source?: string }
  /** Peers' checkpoints (codistillation): log of their mean probabilities. */
  | { kind: 'peers'; models: TrainedModel[] }
  /** Another model than the deployed one (a larger teacher): its logits. */
  | { kind: 'model'; model: TrainedModel };

export type ReferenceSpecKind = ReferenceSpec['kind'];

/** What resolving a spec needs: the update's data, and how to train an ensemble when one is asked for. */
export interface ReferenceContext {
  /** The deployed model (needed for the `base` kind; absent when the model being trained IS the old one). */
  base?: TrainedModel;
  train: Dataset;
  validation: Dataset;
  /** The new model's preprocessing (the base's, with any added classes). */
  preprocessing: PreprocessingSpec;
  /** The new model's architecture: an ensemble trained here has members of it. */
  architecture: ModelConfig;
  training: TrainingConfig;
  seed: number;
  progress?: ProgressSink;
  label?: string;
  /** Trains the members (default: one after another in this thread; the CLI spreads them over threads). */
  trainEnsemble?: (req: EnsembleMemberRequest, members: number) => Promise<Ensemble>;
}

/** Names of the spec's parts in errors: a library parameter by default, the CLI's flags when it passes them. */
export interface ReferenceNames {
  reference: string;
  members: string;
}

const LIBRARY_NAMES: ReferenceNames = { reference: 'reference', members: 'reference.members' };

/** The spec a method reads when the caller names none (its definition's default), or undefined for a method without a teacher. */
export function defaultReferenceSpec(method: UpdateMethodInput | MethodName): ReferenceSpec | undefined {
  const def = methodNamed(resolveMethod(method).method);
  if (def.reference === 'none') return undefined;
  if (def.reference === 'ensemble') return { kind: 'ensemble' };
  if (def.reference === 'base') return { kind: 'base' };
  return undefined; // a method whose teacher only its caller can give (peers)
}

/**
 * Refuses a spec that cannot apply to `method`, before any work: a teacher for a method without
 * one, a method that needs an ensemble without one, members out of range.
 */
export function checkReferenceSpec(method: UpdateMethodInput | MethodName, spec: ReferenceSpec | undefined, names: ReferenceNames = LIBRARY_NAMES): void {
  const def = methodNamed(resolveMethod(method).method);
  if (def.reference === 'none') {
    if (spec) throw new InputError(names.reference, `does not apply to method ${def.name} (it has no teacher)`);
    return;
  }
  if (!spec) {
    if (def.reference === 'peers') throw new InputError(names.reference, `method ${def.name} needs its peers' models (kind: 'peers')`);
    return;
  }
  switch (spec.kind) {
    case 'base':
    case 'logged':
      return;
    case 'model':
      if (!spec.model?.model || !spec.model.meta) throw new InputError(names.reference, 'a model reference needs a Distillery model (loadModel, fromLayersModel)');
      return;
    case 'peers':
      if (!spec.models?.length) throw new InputError(names.reference, 'peers need at least one model');
      return;
    case 'ensemble':
      if ('models' in spec) {
        if (!Array.isArray(spec.models) || spec.models.length === 0) throw new InputError(names.reference, 'an ensemble needs at least one model');
      } else if (!('dir' in spec)) {
        const m = spec.members ?? DEFAULT_ENSEMBLE_MEMBERS;
        if (!(Number.isInteger(m) && m >= 2 && m <= MAX_ENSEMBLE_MEMBERS)) throw new InputError(names.members, `must be an integer from 2 to ${MAX_ENSEMBLE_MEMBERS}, got ${m}`);
      }
      return;
    default:
      throw new InputError(names.reference, `unknown kind ${JSON.stringify((spec as { kind?: unknown }).kind)} (base, model, ensemble, logged or peers)`);
  }
}

/**
 * The source of `spec`'s logits: the base model; an ensemble given, loaded (checked to be
 * trained for this update: classes, input shape, preprocessing, training rows) or trained here
 * (members of the new model's architecture, seeded from the update's seed); logged logits
 * (checked to cover every training row); or peers. `spec` undefined: the method's default.
 */
export async function resolveReference(
  method: UpdateMethodInput | MethodName,
  spec: ReferenceSpec | undefined,
  ctx: ReferenceContext,
  names: ReferenceNames = LIBRARY_NAMES,
): Promise<ResolvedReference | undefined> {
  checkReferenceSpec(method, spec, names);
  const chosen = spec ?? defaultReferenceSpec(method);
  if (!chosen) return undefined;
  const K = ctx.preprocessing.classNames.length;
  switch (chosen.kind) {
    case 'base':
      if (!ctx.base) throw new Error('resolveReference: the base model is the teacher, but none was given');
      return { source: { kind: 'base' }, trained: false };
    case 'peers':
      return { source: { kind: 'peers', models: chosen.models }, trained: false };
    case 'model':
      if (chosen.model.meta.inputShape.join('x') !== ctx.train.featureShape.join('x')) {
        throw new InputError(names.reference, `the teacher takes inputs of shape [${chosen.model.meta.inputShape.join(', ')}] but the data's examples have shape [${ctx.train.featureShape.join(', ')}]`);
      }
      return { source: { kind: 'model', model: chosen.model }, trained: false };
    case 'logged': {
      const rows = ctx.train.labels.length;
      if (!(chosen.logits instanceof Float32Array) || chosen.logits.length !== rows * K) {
        throw new InputError(chosen.source ?? names.reference, `has ${chosen.logits?.length} logits; ${rows} training rows × ${K} classes need ${rows * K}`);
      }
      return { source: { kind: 'logged', logits: chosen.logits, source: chosen.source ?? names.reference }, trained: false };
    }
    case 'ensemble': {
      if ('models' in chosen) return { source: { kind: 'ensemble', models: chosen.models }, trained: false };
      if ('dir' in chosen) {
        const ensemble = await loadEnsemble(chosen.dir);
        try {
          checkEnsembleFor(ensemble, chosen.dir, { inputShape: ctx.train.featureShape, classNames: ctx.preprocessing.classNames, preprocessing: ctx.preprocessing }, ctx.train);
        } catch (e) {
          for (const m of ensemble.members) m.model.dispose();
          throw e;
        }
        return { source: { kind: 'ensemble', models: ensemble.members }, ensemble, trained: false };
      }
      const members = chosen.members ?? DEFAULT_ENSEMBLE_MEMBERS;
      const req: EnsembleMemberRequest = {
        architecture: ctx.architecture,
        preprocessing: ctx.preprocessing,
        train: ctx.train,
        validation: ctx.validation,
        training: ctx.training,
        seed: ctx.seed,
        firstMember: chosen.firstMember,
        progress: ctx.progress,
        label: ctx.label,
      };
      const ensemble = ctx.trainEnsemble
        ? await ctx.trainEnsemble(req, members)
        : await (async () => {
            const models = await trainEnsemble(req, members);
            return { members: models, manifest: ensembleManifest(models, { ...datasetFingerprint(ctx.train), source: ctx.train.source }) };
          })();
      if (ctx.base) inheritOnnxInterface(ensemble.members, ctx.base);
      return { source: { kind: 'ensemble', models: ensemble.members }, ensemble, trained: true };
    }
  }
}
