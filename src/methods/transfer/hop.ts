/**
 * One hop of a transfer: a student trained from the hop's teacher (the previous model of the
 * chain) with a registered one-hop method, and the hop tuned on validation data (the method
 * and its parameters that give the student the best validation accuracy).
 */
import type { Dataset } from '../../data/types.js';
import type { TrainedModel } from '../../models/types.js';
import type { TrainingConfig } from '../../models/recipe.js';
import { classifierLogits, disposeClassifier, networkClassifier, type LocalClassifier as Classifier } from '../../models/classifier.js';
import { scoresAccuracy } from '../../models/agreement.js';
import type { ProgressSink } from '../../train/progress.js';
import { ReferenceCache } from '../references.js';
import { describeMethod, type UpdateMethodSpec } from '../registry.js';
import { trainUpdate } from '../update.js';
import type { StudentConfig } from './students.js';
import { trainTreeHop } from './treeHop.js';

export interface HopRequest {
  teacher: TrainedModel;
  student: StudentConfig;
  method: UpdateMethodSpec;
  train: Dataset;
  validation: Dataset;
  /** Teacher logits per (teacher, training set), computed once and shared by every hop from that teacher. */
  references: ReferenceCache;
  training: TrainingConfig;
  seed: number;
  progress?: ProgressSink;
  label?: string;
}

/** Accuracy of a classifier on `ds`. */
export function classifierAccuracy(c: Classifier, ds: Dataset): number {
  return scoresAccuracy(classifierLogits(c, ds), ds.labels, ds.classNames.length);
}

/** Trains the hop's student with its method and measures its validation accuracy. */
export async function trainHop(req: HopRequest): Promise<{ model: Classifier; validationAccuracy: number }> {
  let model: Classifier;
  if (req.student.kind === 'tree') {
    const reference = req.references.get({ kind: 'base' }, req.teacher, req.train);
    const trained = await trainTreeHop({ teacher: req.teacher, reference, config: req.student, method: req.method, train: req.train, validation: req.validation, seed: req.seed });
    model = { kind: 'tree', trained };
  } else {
    const outcome = await trainUpdate({
      base: req.teacher,
      train: req.train,
      validation: req.validation,
      method: req.method,
      references: req.references,
      architecture: req.student,
      training: req.training,
      seed: req.seed,
      progress: req.progress,
      label: req.label,
    });
    model = networkClassifier(outcome.trained);
  }
  const validationAccuracy = classifierAccuracy(model, req.validation);
  if (model.kind === 'tree') model.trained.meta.metrics.validationAccuracy = validationAccuracy;
  return { model, validationAccuracy };
}

/** One method tried for a hop, with the validation accuracy it gave. */
export interface HopTrial {
  method: string;
  spec: UpdateMethodSpec;
  validationAccuracy: number;
}

export interface TunedHop {
  model: Classifier;
  spec: UpdateMethodSpec;
  method: string;
  validationAccuracy: number;
  /** Every method tried, in grid order. */
  tried: HopTrial[];
  /** With `keepPlain`: the student of the grid's 'plain' entry (no transfer), kept even when another method won. */
  plain?: Classifier;
}

/**
 * Trains the hop with every method of `grid` and keeps the student with the best validation
 * accuracy (the first of equals: put 'plain' first so that a transfer is kept only when it
 * beats no transfer on validation).
 */
export async function tuneHop(req: Omit<HopRequest, 'method'>, grid: UpdateMethodSpec[], log: (line: string) => void = () => {}, keepPlain = false): Promise<TunedHop> {
  let best: TunedHop | undefined;
  let plain: Classifier | undefined;
  const tried: HopTrial[] = [];
  for (const spec of grid) {
    const method = describeMethod(spec);
    const { model, validationAccuracy } = await trainHop({ ...req, method: spec, label: [req.label, method].filter(Boolean).join(': ') });
    tried.push({ method, spec, validationAccuracy });
    log(`${req.label ?? 'hop'}: ${method}: validation accuracy ${(100 * validationAccuracy).toFixed(2)}%`);
    const keep = keepPlain && spec.method === 'plain' && !plain;
    if (keep) plain = model;
    if (!best || validationAccuracy > best.validationAccuracy) {
      if (best && best.model !== plain) disposeClassifier(best.model);
      best = { model, spec, method, validationAccuracy, tried };
    } else if (!keep) disposeClassifier(model);
  }
  if (!best) throw new Error('tuneHop: empty method grid');
  return { ...best, plain };
}
