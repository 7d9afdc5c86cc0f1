import { statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { lazy } from '../util/lazy.js';

const csvParse = lazy<typeof import('csv-parse/sync')>('csv-parse/sync');
import type { Dataset, RawData } from '../data/types.js';
import { applyPreprocessing } from '../data/preprocess.js';
import { readInputText } from '../data/read.js';
import { dataFormatOf, isColumnarFormat, openColumnar } from '../data/formats.js';
import type { OpenedTable } from '../data/columnTable.js';
import { argmaxRows, checkCompatible, logitsToProbs } from '../models/predict.js';
import { loadClassifier, scoreClassifier, type Classifier } from '../models/classifier.js';
import { isOnnxPath } from '../models/onnx.js';
import { InputError } from '../util/errors.js';
import { checkOptional } from '../util/optional.js';
import { fileSignature, temporarySibling, writeFileAtomic, writeFileAtomicBy, type OutputTarget } from '../util/outputs.js';
import { parquetBytes } from '../data/parquet.js';
import { toCsv } from '../report/escape.js';

/** Top-1 predictions (class names) and, where known, class probabilities [n, K] in `classNames` order. */
export interface Predictions {
  source: string;
  predicted: string[];
  classNames?: string[];
  probs?: Float32Array;
  /** Logits [n, K], when a model produced the predictions. */
  logits?: Float32Array;
}

/**
 * Runs a saved model (a network or a tree) on raw data with the model's own preprocessing.
 * Not itself async: once the features are made it holds no reference to `raw`, so a caller
 * that keeps none either lets the table go while the model runs.
 */
export function predictWithModel(model: Classifier, raw: RawData, source: string): Promise<Predictions> {
  try {
    const ds = applyPreprocessing(model.trained.meta.preprocessing, raw, { allowUnknownLabels: true });
    checkCompatible(model.trained.meta, ds);
    return scoreFeatures(model, ds, source);
  } catch (e) {
    return Promise.reject(e);
  }
}

async function scoreFeatures(model: Classifier, ds: Dataset, source: string): Promise<Predictions> {
  const trained = model.trained;
  const K = trained.meta.classNames.length;
  const logits = await scoreClassifier(model, ds);
  const pred = argmaxRows(logits, K);
  return {
    source,
    predicted: Array.from(pred, (k) => trained.meta.classNames[k]),
    classNames: trained.meta.classNames,
    probs: logitsToProbs(logits, K),
    logits,
  };
}

const PROB_PREFIX = 'p:';

/** Rows of a CSV/TSV that `predict` reads, predicts and writes at a time (features of 32 columns: 8 MB). */
export const PREDICT_BLOCK_ROWS = 65_536;

/** A predictions file as an output: Distillery's when its first column is the prediction column (CSV header, Parquet schema). */
export function predictionsOutput(file: string, flag = '--out'): OutputTarget {
  if (dataFormatOf(file) === 'parquet') return { path: file, type: 'file', what: 'predictions Parquet file', flag, isOurs: isPredictionsParquet };
  return { path: file, type: 'file', what: 'predictions CSV', flag, isOurs: fileSignature(/^\uFEFF?"?prediction"?(,|\r?\n|$)/) };
}

async function isPredictionsParquet(file: string): Promise<boolean> {
  try {
    const table = await openColumnar(file, 'parquet');
    table.close();
    return table.names[0] === 'prediction';
  } catch {
    return false;
  }
}

/** Fails now, before any work, when writing `path` needs an optional package that is absent. */
export function checkPredictionsWriter(path: string): void {
  if (dataFormatOf(path) === 'parquet') checkOptional(['@duckdb/node-api'], 'writing Parquet files');
}

/** Writes predictions as Parquet when `path` ends in .parquet, else as CSV (the same columns). */
export async function writePredictionsFile(path: string, p: Predictions): Promise<void> {
  await writePredictionsBy(path, (sink) => sink(p));
}

/** Takes predictions a block of rows at a time, in row order. */
export type PredictionsSink = (p: Predictions) => Promise<void>;

/**
 * Writes a predictions file from predictions that `produce` hands to its sink a block at a
 * time (`predict` on a large file): a CSV as they come, so its text is in memory one chunk at a
 * time; Parquet at the end, from the blocks' per-row outputs (the class names and
 * probabilities), with the same columns. Atomic: `path` is replaced only when `produce`
 * finishes. Returns the rows written.
 */
export async function writePredictionsBy(path: string, produce: (sink: PredictionsSink) => Promise<void>): Promise<number> {
  if (dataFormatOf(path) === 'parquet') return writePredictionsParquet(path, produce);
  let rows = 0;
  await writeFileAtomicBy(path, async (file) => {
    const out = await open(file, 'w');
    try {
      await produce(async (p) => {
        if (rows === 0) await out.write(toCsv([['prediction', ...(p.probs && p.classNames ? p.classNames.map((c) => PROB_PREFIX + c) : [])]]));
        const K = p.probs && p.classNames ? p.classNames.length : 0;
        const row = (i: number) => [p.predicted[i], ...(K ? Array.from(p.probs!.subarray(i * K, (i + 1) * K), (v) => v.toPrecision(6)) : [])];
        for (let from = 0; from < p.predicted.length; from += CSV_CHUNK) {
          await out.write(toCsv(Array.from({ length: Math.min(CSV_CHUNK, p.predicted.length - from) }, (_, i) => row(from + i))));
        }
        rows += p.predicted.length;
      });
    } finally {
      await out.close();
    }
  });
  return rows;
}

async function writePredictionsParquet(path: string, produce: (sink: PredictionsSink) => Promise<void>): Promise<number> {
  const predicted: string[] = [];
  const blocks: Float32Array[] = [];
  let classNames: string[] | undefined;
  await produce(async (p) => {
    for (const c of p.predicted) predicted.push(c);
    if (p.probs && p.classNames) {
      classNames ??= p.classNames;
      blocks.push(p.probs);
    }
  });
  const n = predicted.length;
  const K = classNames?.length ?? 0;
  const probColumns = Array.from({ length: K }, (_, k) => {
    const floats = new Float32Array(n);
    let i = 0;
    for (const b of blocks) for (let r = k; r < b.length; r += K) floats[i++] = b[r];
    return { name: PROB_PREFIX + classNames![k], floats };
  });
  await writeFileAtomic(path, await parquetBytes([{ name: 'prediction', texts: predicted }, ...probColumns], n, temporarySibling(path)));
  return n;
}

/** Rows of a predictions CSV formatted and written at a time. */
const CSV_CHUNK = 16_384;

/**
 * Reads a predictions file: a CSV written by `distillery predict` (or any CSV with a
 * `prediction` column), or a Parquet / Arrow file with the same columns.
 */
export async function readPredictionsFile(path: string): Promise<Predictions> {
  const format = dataFormatOf(path);
  return isColumnarFormat(format) ? readPredictionsColumnar(path, format) : readPredictionsCsv(path);
}

/** A predictions table in a columnar file: a `prediction` column (texts or class numbers) and optional `p:<class>` columns. */
async function readPredictionsColumnar(path: string, format: 'parquet' | 'arrow'): Promise<Predictions> {
  const table = await openColumnar(path, format);
  try {
    return await predictionsOfTable(table);
  } finally {
    table.close();
  }
}

async function predictionsOfTable(table: OpenedTable): Promise<Predictions> {
  const path = table.source;
  if (!table.names.includes('prediction')) throw new InputError(path, `has no "prediction" column (columns: ${table.names.join(', ')})`);
  if (table.numRows === 0) throw new InputError(path, 'has no prediction rows');
  const probNames = table.names.filter((h) => h.startsWith(PROB_PREFIX));
  const [pred, ...probs] = await table.read(['prediction', ...probNames]);
  const predicted = Array.from(pred, (v: number | string) => (typeof v === 'number' ? (Number.isNaN(v) ? '' : String(v)) : v));
  const empty = predicted.indexOf('');
  if (empty >= 0) throw new InputError(path, `row ${empty + 1}: empty prediction`);
  const out: Predictions = { source: path, predicted };
  if (probNames.length) {
    const K = probNames.length;
    const n = predicted.length;
    out.classNames = probNames.map((h) => h.slice(PROB_PREFIX.length));
    out.probs = new Float32Array(n * K);
    probs.forEach((col, k) => {
      for (let i = 0; i < n; i++) {
        const v = col[i];
        if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new InputError(path, `row ${i + 1}: ${probNames[k]} "${v}" is not a probability`);
        out.probs![i * K + k] = v;
      }
    });
  }
  return out;
}

/** Reads a predictions CSV written by `distillery predict` (or any CSV with a `prediction` column). */
export async function readPredictionsCsv(path: string): Promise<Predictions> {
  const text = await readInputText(path);
  let records: string[][];
  try {
    records = csvParse().parse(text, { skip_empty_lines: true, trim: true }) as string[][];
  } catch (e) {
    throw new InputError(path, `is not valid CSV: ${(e as Error).message}`);
  }
  if (records.length < 2) throw new InputError(path, 'has no prediction rows');
  const header = records[0];
  const col = header.indexOf('prediction');
  if (col < 0) throw new InputError(path, `has no "prediction" column (columns: ${header.join(', ')})`);
  const probCols = header.map((h, j) => [h, j] as const).filter(([h]) => h.startsWith(PROB_PREFIX));
  const rows = records.slice(1);
  rows.forEach((r, i) => {
    if (r.length !== header.length) throw new InputError(path, `row ${i + 2}: has ${r.length} fields but the header has ${header.length}`);
    if (r[col] === '') throw new InputError(path, `row ${i + 2}: empty prediction`);
  });
  const out: Predictions = { source: path, predicted: rows.map((r) => r[col]) };
  if (probCols.length) {
    const K = probCols.length;
    out.classNames = probCols.map(([h]) => h.slice(PROB_PREFIX.length));
    out.probs = new Float32Array(rows.length * K);
    rows.forEach((r, i) =>
      probCols.forEach(([h, j], k) => {
        const v = Number(r[j]);
        if (r[j] === '' || !Number.isFinite(v) || v < 0 || v > 1) throw new InputError(path, `row ${i + 2}: ${h} "${r[j]}" is not a probability`);
        out.probs![i * K + k] = v;
      }),
    );
  }
  return out;
}

/** A model directory (a network, a tree or an ensemble directory as one model), an ONNX file, or a predictions file (told apart by .onnx and by whether the path is a directory). */
export async function loadModelOrPredictions(path: string): Promise<{ model?: Classifier; predictions?: Predictions }> {
  if (isOnnxPath(path)) return { model: await loadClassifier(path) };
  let isDir = false;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    throw new InputError(path, 'not found (expected a model directory or a predictions file: CSV, Parquet or Arrow)');
  }
  return isDir ? { model: await loadClassifier(path) } : { predictions: await readPredictionsFile(path) };
}
