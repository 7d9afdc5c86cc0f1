import { createHash } from 'node:crypto';
import { applyPreprocessing, fitPreprocessing } from '../data/preprocess.js';
import { trainValidationSplit } from '../data/split.js';
import { rawSize, subsetRaw, type Dataset, type PreprocessingSpec, type RawData } from '../data/types.js';
import type { CodistillConfig } from './config.js';
import { withParamNamesSync } from '../util/errors.js';

export interface RunData {
  spec: PreprocessingSpec;
  train: Dataset;
  validation: Dataset;
  /** SHA-256 of the preprocessed training rows and labels. */
  fingerprint: string;
}

/**
 * The run's training and validation sets from the raw data: a validation hold-out drawn with
 * the run's seed and stratified by class, preprocessing fitted on the training rows (or the run's, for a worker), so
 * the launcher and every worker, on any machine, derive the same rows from the same data.
 * Errors name the run's config keys (`validation`).
 */
export function prepareRunData(raw: RawData, cfg: Pick<CodistillConfig, 'validation' | 'seed'>, spec?: PreprocessingSpec): RunData {
  const split = withParamNamesSync('library', { validationSize: 'validation' }, 'config', () => trainValidationSplit(rawSize(raw), cfg.validation, cfg.seed, { labels: raw.labels }));
  const trainRaw = subsetRaw(raw, split.train);
  const fitted = spec ?? fitPreprocessing(trainRaw);
  const train = applyPreprocessing(fitted, trainRaw);
  const validation = applyPreprocessing(fitted, subsetRaw(raw, split.validation));
  return { spec: fitted, train, validation, fingerprint: fingerprintDataset(train) };
}

export function fingerprintDataset(ds: Dataset): string {
  const h = createHash('sha256');
  h.update(new Uint8Array(ds.features.buffer, ds.features.byteOffset, ds.features.byteLength));
  h.update(new Uint8Array(ds.labels.buffer, ds.labels.byteOffset, ds.labels.byteLength));
  h.update(JSON.stringify(ds.classNames));
  return h.digest('hex');
}
