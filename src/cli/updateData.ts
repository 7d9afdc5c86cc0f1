import { rawSize, type Dataset, type PreprocessingSpec, type RawData } from '../data/types.js';
import { applyPreprocessing, withAddedClasses } from '../data/preprocess.js';
import { loadModel } from '../models/io.js';
import type { TrainedModel } from '../models/types.js';
import { labelColumnFor, loadDataFlag, splitTrainValidation, type ReadFlags } from './dataInput.js';

export interface UpdateDataFlags extends ReadFlags {
  base: string;
  data: string;
  label?: string;
  validation?: number;
  validationData?: string;
  /** false with --no-stratify: a plain random hold-out. */
  stratify?: boolean;
  seed: number;
}

/** Default validation hold-out of `update` and `ensemble` (a fraction of --data). */
export const DEFAULT_UPDATE_VALIDATION = 0.1;

/** The base model, the update's data, and the new model's preprocessing (the base model's, with any new classes added). */
export interface UpdateData {
  base: TrainedModel;
  trainRaw: RawData;
  train: Dataset;
  validation: Dataset;
  preprocessing: PreprocessingSpec;
  /** Classes of --data (or --validation-data) that the base model does not have, in the order they were added. */
  addedClasses: string[];
  /** Rows of --data, and which of them are the training rows (for logged predictions by row order). */
  dataRows: number;
  trainRows: Int32Array;
}

/**
 * The base model and the update's data as `update` and `ensemble` both read them: --data
 * with the base model's label column and preprocessing, validation rows from
 * --validation-data or a seeded hold-out. Classes the base model lacks are added after its
 * own (the new model predicts the union). The same flags give the same training rows, so
 * an ensemble fits the update it is made for.
 */
export async function loadUpdateData(flags: UpdateDataFlags): Promise<UpdateData> {
  const base = await loadModel(flags.base);
  const label = labelColumnFor(flags.label, base.meta.preprocessing);
  const raw = await loadDataFlag({ ...flags, data: flags.data, label });
  const { train: trainRaw, validation: valRaw, trainRows } = await splitTrainValidation(raw, { ...flags, label }, DEFAULT_UPDATE_VALIDATION, { release: true });
  const preprocessing = withAddedClasses(base.meta.preprocessing, [...trainRaw.labels, ...valRaw.labels]);
  return {
    base,
    trainRaw,
    dataRows: rawSize(raw),
    trainRows,
    train: applyPreprocessing(preprocessing, trainRaw),
    validation: applyPreprocessing(preprocessing, valRaw),
    preprocessing,
    addedClasses: preprocessing.classNames.slice(base.meta.classNames.length),
  };
}
