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

export function accuracy(pred: Int32Array, labels: Int32Array): number {
  let c = 0;
  for (let i = 0; i < pred.length; i++) if (pred[i] === labels[i]) c++;
  return c / pred.length;
}

export function disagreement(a: Int32Array, b: Int32Array): number {
  let c = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) c++;
  return c / a.length;
}
