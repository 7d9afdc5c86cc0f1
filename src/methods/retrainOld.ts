import type { TrainedModel } from '../models/types.js';
import type { ModelRecipe } from '../models/recipe.js';
import type { EnsembleMemberRequest } from './ensemble.js';
import { InputError } from '../util/errors.js';
import { fitModel } from './fit.js';
import { ReferenceCache, referenceRecord, type ReferenceSource } from './references.js';
import { describeMethod, methodNamed, methodParams, type UpdateMethodSpec } from './registry.js';

/** Architecture, preprocessing, the OLD training data and training settings as for the ensemble's members. */
export interface RetrainOldRequest extends Omit<EnsembleMemberRequest, 'firstMember'> {
  /** A method that reads an ensemble and is one objective (elodi). */
  method: UpdateMethodSpec;
  /** The old model's own ensemble, trained on the OLD training data. */
  ensemble: TrainedModel[];
}

/** Refuses a method that cannot retrain the old model toward its own ensemble. */
export function checkRetrainOldMethod(method: UpdateMethodSpec, source: string): void {
  const def = methodNamed(method.method);
  if (def.reference !== 'ensemble' || !def.objective) {
    throw new InputError(source, `the old model is retrained toward its own ensemble: that needs a method that reads an ensemble and trains one model (elodi), not ${def.name}`);
  }
}

/**
 * The ELODI variant where the deployed model can still be retrained (Zhao et al. 2022): the
 * old model is trained the same way toward an ensemble of its own architecture on its own
 * data, so that old and new models both approach their (similar) ensembles.
 */
export async function retrainOldModel(req: RetrainOldRequest): Promise<TrainedModel> {
  checkRetrainOldMethod(req.method, 'retrain-old');
  const def = methodNamed(req.method.method);
  const source: ReferenceSource = { kind: 'ensemble', models: req.ensemble };
  const reference = new ReferenceCache().get(source, req.ensemble[0], req.train);
  const { trained } = await fitModel({
    architecture: req.architecture,
    preprocessing: req.preprocessing,
    train: req.train,
    validation: req.validation,
    objective: def.objective!(methodParams(req.method)),
    reference,
    training: req.training,
    seed: req.seed,
    recipe: { method: req.method.method, params: methodParams(req.method) as ModelRecipe['params'], reference: referenceRecord(source, req.ensemble[0]), retrainedOld: true },
    progress: req.progress,
    label: [req.label, `old model, ${describeMethod(req.method)}`].filter(Boolean).join(': '),
  });
  return trained;
}
