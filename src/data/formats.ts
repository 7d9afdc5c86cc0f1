/**
 * The data file formats Distillery reads, told apart by file name: the one place that maps a
 * name to a reader (loadData for --data, the predictions reader for compare/gate).
 */
import { existsSync } from 'node:fs';
import type { OpenedTable } from './columnTable.js';
import { openParquet } from './parquet.js';
import { openArrow } from './arrow.js';

export type DataFormat = 'csv' | 'jsonl' | 'idx' | 'parquet' | 'arrow';

/** The file extensions of each format (a `.gz` after a text format's is allowed). */
export const FORMAT_EXTENSIONS = {
  csv: ['.csv', '.tsv', '.txt'],
  jsonl: ['.jsonl', '.ndjson'],
  parquet: ['.parquet'],
  arrow: ['.arrow', '.feather', '.arrows'],
} as const;

/** The format of data spec `spec` (a file name, or "images,labels" for an IDX pair), undefined when unknown. */
export function dataFormatOf(spec: string): DataFormat | undefined {
  const lower = spec.toLowerCase();
  if (!existsSync(spec) && spec.split(',').length === 2) return 'idx';
  const ext = (list: readonly string[], gz: boolean) => list.some((e) => lower.endsWith(e) || (gz && lower.endsWith(`${e}.gz`)));
  if (ext(FORMAT_EXTENSIONS.csv, true)) return 'csv';
  if (ext(FORMAT_EXTENSIONS.jsonl, true)) return 'jsonl';
  if (ext(FORMAT_EXTENSIONS.parquet, false)) return 'parquet';
  if (ext(FORMAT_EXTENSIONS.arrow, false)) return 'arrow';
  return undefined;
}

/** True for a columnar format (Parquet, Arrow), read through {@link openColumnar}. */
export function isColumnarFormat(format: DataFormat | undefined): format is 'parquet' | 'arrow' {
  return format === 'parquet' || format === 'arrow';
}

/** Opens a columnar file of format `format`. */
export function openColumnar(path: string, format: 'parquet' | 'arrow'): Promise<OpenedTable> {
  return format === 'parquet' ? openParquet(path) : openArrow(path);
}
