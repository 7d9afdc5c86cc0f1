import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { RawData } from './types.js';
import { subsetRaw } from './types.js';
import { withTabularFields } from './columns.js';
import { InputError } from '../util/errors.js';
import { loadCsv, type CsvOptions, type RawTabularWithHints } from './csv.js';
import { loadFashionMnist, loadIdxImages } from './idx.js';
import { loadJsonl, type JsonlOptions } from './text.js';
import { requirePositiveInteger } from './values.js';
import { dataFormatOf, openColumnar } from './formats.js';
import { loadOpenedTable } from './columnTable.js';

/** The embedded UCI letter-recognition data (see datasets/README.md); works from src/ and dist/. */
export const LETTER_CSV_PATH = fileURLToPath(new URL('../../datasets/letter-recognition.csv.gz', import.meta.url));

/** Options every loader understands. */
export interface LimitOptions {
  /** Keep only the first `limit` examples. */
  limit?: number;
}

/** A dataset that ships with Distillery or with the system, loadable by name. */
export interface BuiltinDataset {
  description: string;
  kind: RawData['kind'];
  /** The data (for Fashion-MNIST: the training split). */
  load(opts?: LimitOptions): Promise<RawData>;
  /** The official test split, where the dataset has one. */
  loadTest?(opts?: LimitOptions): Promise<RawData>;
}

/**
 * Loads the embedded UCI letter-recognition data: 20,000 rows, 16 integer features,
 * 26 classes A–Z, label column `lettr`. Its source is reported as "letter".
 */
export async function loadLetter(opts: LimitOptions = {}): Promise<RawTabularWithHints> {
  const limit = checkLimit(opts.limit, 'letter');
  const raw = await loadCsv(LETTER_CSV_PATH, { labelColumn: 'lettr' });
  return withTabularFields(takeFirst(raw, limit), { source: 'letter' });
}

/** Datasets loadable by name (`--data letter`). */
export const builtinDatasets: Readonly<Record<string, BuiltinDataset>> = {
  letter: {
    description: 'UCI letter recognition: 20,000 × 16 integer features, 26 classes (embedded)',
    kind: 'tabular',
    load: loadLetter,
  },
  'fashion-mnist': {
    description: 'Fashion-MNIST: 28×28 grey images, 10 classes, 60,000 train + 10,000 test (apt-get install dataset-fashion-mnist)',
    kind: 'image',
    load: (opts) => loadFashionMnist('train', opts),
    loadTest: (opts) => loadFashionMnist('test', opts),
  },
};

/** Loads a built-in dataset by name; `split` 'test' picks its official test split. */
export async function loadBuiltin(name: string, split: 'train' | 'test' = 'train', opts: LimitOptions = {}): Promise<RawData> {
  const dataset = builtinDatasets[name];
  if (dataset === undefined) {
    throw new InputError(name, `is not a built-in dataset; built-ins: ${Object.keys(builtinDatasets).join(', ')}`);
  }
  if (split === 'train') return dataset.load(opts);
  if (dataset.loadTest === undefined) throw new InputError(name, 'has no separate test split; hold out a test portion instead');
  return dataset.loadTest(opts);
}

/** A data spec that names a built-in dataset (`letter`, `fashion-mnist:test`): its name and split; else undefined. */
function builtinSpec(spec: string): { name: string; split: 'train' | 'test' } | undefined {
  const [name, split] = spec.split(':');
  return name in builtinDatasets && (split === undefined || split === 'train' || split === 'test') ? { name, split: split ?? 'train' } : undefined;
}

/** The files a data spec of {@link loadData} reads: none for a built-in dataset, both of an IDX pair, else the file. */
export function dataSpecFiles(spec: string): string[] {
  if (builtinSpec(spec)) return [];
  return dataFormatOf(spec) === 'idx' ? spec.split(',') : [spec];
}

/** Options of {@link loadData}: those of the loader that the spec picks, plus `limit`. */
export interface LoadDataOptions extends CsvOptions, JsonlOptions, LimitOptions {
  /** IDX pairs: name of each label byte value. */
  classNames?: string[];
}

/**
 * Loads data named on the command line. `spec` is one of:
 * - a built-in name (`letter`, `fashion-mnist`), optionally with `:test` for its test split;
 * - a CSV/TSV file: `*.csv`, `*.tsv`, `*.txt`, optionally `.gz`;
 * - a JSON Lines text file: `*.jsonl`, `*.ndjson`, optionally `.gz`;
 * - a Parquet file (`*.parquet`) or an Arrow IPC file or stream (`*.arrow`, `*.feather`, `*.arrows`),
 *   its columns chosen like a CSV's;
 * - an IDX pair `images-file,labels-file` (each gzipped or plain).
 * `limit` keeps the first examples of any of them.
 */
export async function loadData(spec: string, opts: LoadDataOptions = {}): Promise<RawData> {
  const limit = checkLimit(opts.limit, spec);
  const builtin = builtinSpec(spec);
  if (builtin) return loadBuiltin(builtin.name, builtin.split, { limit });
  const format = dataFormatOf(spec);
  switch (format) {
    case 'parquet':
    case 'arrow':
      return takeFirst(await loadOpenedTable(await openColumnar(spec, format), opts), limit);
    case 'csv':
      return takeFirst(await loadCsv(spec, opts), limit);
    case 'jsonl':
      return takeFirst(await loadJsonl(spec, opts), limit);
    case 'idx': {
      const [images, labels] = spec.split(',');
      return loadIdxImages(images, labels, { classNames: opts.classNames, limit });
    }
    default:
      throw new InputError(
        spec,
        existsSync(spec)
          ? 'unknown data format; expected .csv, .tsv, .txt, .jsonl or .ndjson (optionally .gz), .parquet, .arrow or .feather, or an IDX pair "images,labels"'
          : `file not found and not a built-in dataset (built-ins: ${Object.keys(builtinDatasets).join(', ')})`,
      );
  }
}

function checkLimit(limit: number | undefined, source: string): number | undefined {
  return limit === undefined ? undefined : requirePositiveInteger(limit, source, 'limit');
}

/** The first `limit` examples of `raw` (all of them when limit is undefined). */
function takeFirst<T extends RawData>(raw: T, limit: number | undefined): T {
  if (limit === undefined || limit >= raw.labels.length) return raw;
  return subsetRaw(raw, Array.from({ length: limit }, (_, i) => i));
}
