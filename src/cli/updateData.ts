import { rawSize, type Dataset, type RawData } from '../data/types.js';
import { applyPreprocessing } from '../data/preprocess.js';
import { loadModel } from '../models/io.js';
import type { TrainedModel } from '../models/types.js';
import { holdOutValidation, labelColumnFor, loadDataFlag } from './dataInput.js';

export interface UpdateDataFlags {
  base: string;
  data: string;
  label?: string;
  validation?: number;
  seed: number;
}

/** Default validation hold-out of `update` and `ensemble` (a fraction of --data). */
export const DEFAULT_UPDATE_VALIDATION = 0.1;

/**
 * The base model and the update's data as `update` and `ensemble` both read them: --data
 * with the base model's label column and preprocessing, a seeded validation hold-out. The
 * same flags give the same training rows, so an ensemble fits the update it is made for.
 */
export async function loadUpdateData(flags: UpdateDataFlags): Promise<{ base: TrainedModel; trainRaw: RawData; train: Dataset; validation: Dataset; dataRows: number; trainRows: Int32Array }> {
  const base = await loadModel(flags.base);
  const raw = await loadDataFlag({ data: flags.data, label: labelColumnFor(flags.label, base.meta.preprocessing) });
  const { train: trainRaw, validation: valRaw, trainRows } = holdOutValidation(raw, flags.validation ?? DEFAULT_UPDATE_VALIDATION, flags.seed);
  return {
    base,
    trainRaw,
    dataRows: rawSize(raw),
    trainRows,
    train: applyPreprocessing(base.meta.preprocessing, trainRaw),
    validation: applyPreprocessing(base.meta.preprocessing, valRaw),
  };
}
