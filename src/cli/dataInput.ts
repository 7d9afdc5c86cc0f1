import type { PreprocessingSpec, RawData } from '../data/types.js';
import { rawSize, rowOf, subsetRaw } from '../data/types.js';
import { InputError } from '../util/errors.js';
import { loadData } from '../data/builtin.js';
import { trainValidationSplit } from '../data/split.js';

export interface DataFlags {
  data: string;
  label?: string;
  /** Accept data without the label column (prediction). */
  labelOptional?: boolean;
  /** Without --label, only a column named like a label counts (never the last column by position). */
  labelByName?: boolean;
}

/** Loads `--data` (a file or a built-in dataset name) with the optional `--label` column. */
export function loadDataFlag(flags: DataFlags): Promise<RawData> {
  return loadData(flags.data, { labelColumn: flags.label, labelOptional: flags.labelOptional, labelByName: flags.labelByName });
}

/** Holds out a seeded validation portion (count or fraction) of a training file. */
export function holdOutValidation(raw: RawData, size: number, seed: number): { train: RawData; validation: RawData; trainRows: Int32Array } {
  const { train, validation } = trainValidationSplit(rawSize(raw), size, seed);
  return { train: subsetRaw(raw, train), validation: subsetRaw(raw, validation), trainRows: Int32Array.from(train) };
}

/** The label column to read: `--label` if given, else the one a tabular model was trained with. */
export function labelColumnFor(flag: string | undefined, spec: PreprocessingSpec | undefined): string | undefined {
  return flag ?? (spec?.kind === 'tabular' ? spec.labelColumn : undefined);
}

/**
 * Every validation label must be a class the training portion has (the model is fitted on
 * it); a class whose only examples went to the hold-out is named with what to do.
 */
export function checkValidationClasses(spec: PreprocessingSpec, validation: RawData, flag: string): void {
  const known = new Set(spec.classNames);
  const i = validation.labels.findIndex((l) => !known.has(l));
  if (i < 0) return;
  const label = validation.labels[i];
  const count = validation.labels.filter((l) => l === label).length;
  throw new InputError(
    validation.source,
    `${rowOf(validation, i)}: class "${label}" has ${count === 1 ? 'its only example' : `all ${count} of its examples`} in the validation hold-out and none in the training portion; add examples of it, or hold out less (${flag})`,
  );
}
