import type { PreprocessingSpec, RawData } from '../data/types.js';
import { rawSize, subsetRaw } from '../data/types.js';
import { loadData } from '../data/builtin.js';
import { trainValidationSplit } from '../data/split.js';

export interface DataFlags {
  data: string;
  label?: string;
  /** Accept data without the label column (prediction). */
  labelOptional?: boolean;
}

/** Loads `--data` (a file or a built-in dataset name) with the optional `--label` column. */
export function loadDataFlag(flags: DataFlags): Promise<RawData> {
  return loadData(flags.data, { labelColumn: flags.label, labelOptional: flags.labelOptional });
}

/** Holds out a seeded validation portion (count or fraction) of a training file. */
export function holdOutValidation(raw: RawData, size: number, seed: number): { train: RawData; validation: RawData } {
  const { train, validation } = trainValidationSplit(rawSize(raw), size, seed);
  return { train: subsetRaw(raw, train), validation: subsetRaw(raw, validation) };
}

/** The label column to read: `--label` if given, else the one a tabular model was trained with. */
export function labelColumnFor(flag: string | undefined, spec: PreprocessingSpec | undefined): string | undefined {
  return flag ?? (spec?.kind === 'tabular' ? spec.labelColumn : undefined);
}
