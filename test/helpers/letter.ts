/** Small, real letter-recognition splits for trainer, method and experiment tests. */
import { loadLetter } from '../../src/data/builtin.js';
import { applyPreprocessing, fitPreprocessing } from '../../src/data/preprocess.js';
import { splitUpdateScenario } from '../../src/data/split.js';
import { subsetRaw, type Dataset, type PreprocessingSpec } from '../../src/data/types.js';
import { initEngine } from '../../src/engine/index.js';

export interface LetterSplits {
  spec: PreprocessingSpec;
  initial: Dataset;
  validation: Dataset;
  newBatch: Dataset;
  test: Dataset;
}

/** An update scenario on the embedded letter data with the given sizes (preprocessing fitted on `initial`). */
export async function letterSplits(sizes: { initial: number; validation: number; newBatch: number; test: number }, seed = 1): Promise<LetterSplits> {
  await initEngine();
  const raw = await loadLetter();
  const split = splitUpdateScenario(raw.labels.length, { ...sizes, seed });
  const initialRaw = subsetRaw(raw, split.initial);
  const spec = fitPreprocessing(initialRaw);
  const apply = (idx: Int32Array) => applyPreprocessing(spec, subsetRaw(raw, idx));
  return { spec, initial: apply(split.initial), validation: apply(split.validation), newBatch: apply(split.newBatch), test: apply(split.test) };
}
