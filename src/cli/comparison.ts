/**
 * What `compare` and `gate` share: the two models (or prediction files) and the labelled
 * data, read from the flags, aligned on one class space and compared.
 */
import { Command } from 'commander';
import { compareModels } from '../metrics/compare.js';
import { InputError } from '../util/errors.js';
import { fileSignature, type OutputTarget } from '../util/outputs.js';
import { sortedDistinct } from '../data/values.js';
import { alignColumns } from '../models/logits.js';
import { rowOf, type LabelledRows, type RawData } from '../data/types.js';
import { dataFormatOf, isColumnarFormat } from '../data/formats.js';
import { addReadOptions, forEachDataBlock, labelColumnFor, loadDataFlag, type DataFlags, type ReadFlags } from './dataInput.js';
import { loadModelOrPredictions, PREDICT_BLOCK_ROWS, predictWithModel, type Predictions } from './predictions.js';
import type { Classifier } from '../models/classifier.js';
import { parseInteger, parseNumber } from './options.js';
import { flipMatrix, flippedExamples } from '../metrics/flipDetail.js';
import { describeExample, exampleThumbnail } from '../data/describe.js';
import type { ComparisonView, ReviewedFlip } from '../report/html/comparisonHtml.js';
import { assignSlices, compareBySlice, type SliceInput } from '../metrics/slices.js';
import { confirmedRegionsByExample, findRegressedRegions } from '../metrics/regions.js';
import { checkSliceColumns, columnTable, naming, type SliceRequest } from './sliceOptions.js';
import { LIBRARY_VERSION } from '../version.js';
import { PATH_KINDS, pathOption } from './pathOptions.js';

/**
 * The class space of a comparison: the old side's classes, then the new side's that the old
 * lacks (an update that added classes), in their order; without class lists (prediction
 * files without probabilities), the sorted labels and predictions.
 */
function unionClasses(raw: LabelledRows, a: Predictions, b: Predictions): string[] {
  if (!a.classNames && !b.classNames) return sortedDistinct([...raw.labels, ...a.predicted, ...b.predicted]);
  const first = a.classNames ?? b.classNames!;
  const second = a.classNames && b.classNames ? b.classNames : [];
  return [...first, ...second.filter((c) => !first.includes(c))];
}

/**
 * Aligns two sets of predictions and the true labels on one class index space (see
 * unionClasses). A class only one side has simply never is that side's prediction: its
 * examples count as the other side's errors. Probabilities are re-indexed to the union (0
 * for a class a model lacks), logits likewise (the row's smallest logit).
 */
export function toIndices(raw: LabelledRows, a: Predictions, b: Predictions) {
  const classNames = unionClasses(raw, a, b);
  const index = new Map(classNames.map((c, k) => [c, k] as const));
  // `row(i)`: where row i is in its file (a predictions CSV has a header line: row i is line i + 2; a Parquet file has rows)
  const encode = (values: string[], source: string, what: string, row: (i: number) => string) =>
    Int32Array.from(values, (v, i) => {
      const k = index.get(v);
      if (k === undefined) throw new InputError(source, `${row(i)}: ${what} "${v}" is not one of the classes: ${classNames.join(', ')}${what === 'label' ? ' (a class no model was trained with: declare it with train --classes)' : ''}`);
      return k;
    });
  // a model's own predictions are always classes: a bad one comes from a predictions file
  const predictionLine = (p: Predictions) => (isColumnarFormat(dataFormatOf(p.source)) ? (i: number) => `row ${i + 1}` : (i: number) => `line ${i + 2}`);
  const align = (p: Predictions, scores: Float32Array | undefined, fill: 'zero' | 'row-min') =>
    scores && p.classNames ? alignColumns(scores, p.classNames, classNames, fill) : undefined;
  return {
    classNames,
    labels: encode(raw.labels, raw.source, 'label', (i) => rowOf(raw, i)),
    predOld: encode(a.predicted, a.source, 'prediction', predictionLine(a)),
    predNew: encode(b.predicted, b.source, 'prediction', predictionLine(b)),
    probsOld: align(a, a.probs, 'zero'),
    probsNew: align(b, b.probs, 'zero'),
    logitsOld: align(a, a.logits, 'row-min'),
    logitsNew: align(b, b.logits, 'row-min'),
  };
}

/** A JSON report as an output: Distillery's when it starts with its format mark. */
export function jsonOutput(file: string, flag: string, format: string): OutputTarget {
  return { path: file, type: 'file', what: 'JSON report', flag, isOurs: fileSignature(new RegExp(`^\\{\\s*"format": "${format}"`)) };
}

/** What `compare` and `gate` share: the two models (or prediction files) and the data. */
export interface ComparisonFlags extends ReadFlags {
  old: string;
  new: string;
  data: string;
  label?: string;
  resamples: number;
  level: number;
  seed: number;
}

/**
 * The comparison with what the HTML report shows besides it: flip matrix and flipped
 * examples; with `slicing`, the comparison by slice, the discovered regions and each flipped
 * example's slices and regions.
 */
export async function comparisonFromFlags(flags: ComparisonFlags, engine?: { backend: string; threads: number }, slicing?: SliceRequest): Promise<ComparisonView> {
  const oldIn = await loadModelOrPredictions(flags.old);
  const newIn = await loadModelOrPredictions(flags.new);
  const modelSpec = oldIn.model?.trained.meta.preprocessing ?? newIn.model?.trained.meta.preprocessing;
  const label = labelColumnFor(flags.label, modelSpec);
  // two prediction files: no --label means a column named like a label, not one guessed by position; the labels alone will do
  const predictionsOnly = !oldIn.model && !newIn.model;
  const dataFlags: DataFlags = { ...flags, data: flags.data, label, labelByName: predictionsOnly, labelsOnly: predictionsOnly };
  // slices and regions read the data's columns: the table is loaded whole; otherwise a CSV is read a block at a time
  const sliceRaw = slicing ? await loadDataFlag(dataFlags) : undefined;
  if (slicing) checkSliceColumns(slicing, sliceRaw!, flags.data);
  const { rows: raw, a, b, flipped } = await predictBoth(dataFlags, sliceRaw, [oldIn, newIn], [flags.old, flags.new]);
  for (const p of [a, b]) {
    if (p.predicted.length !== raw.labels.length) {
      throw new InputError(p.source, `has ${p.predicted.length} predictions but ${flags.data} has ${raw.labels.length} rows`);
    }
  }
  const { classNames, labels, predOld, predNew, probsOld, probsNew, logitsOld, logitsNew } = toIndices(raw, a, b);
  const haveProbs = probsOld && probsNew;
  const input = {
    labels,
    predOld,
    predNew,
    probsOld: haveProbs ? probsOld : undefined,
    probsNew: haveProbs ? probsNew : undefined,
    logitsOld: haveProbs && logitsOld && logitsNew ? logitsOld : undefined,
    logitsNew: haveProbs && logitsOld && logitsNew ? logitsNew : undefined,
    numClasses: classNames.length,
    classNames,
  };
  const report = compareModels(input, { resamples: flags.resamples, level: flags.level, seed: flags.seed });
  const bySlice = slicing ? sliceDetail(slicing, sliceRaw!, input, flags) : undefined;
  const flips = flippedExamples(input).map((e): ReviewedFlip => ({
    ...e,
    ...flipped.get(e.index)!,
    ...(bySlice ? bySlice.keysOf(e.index) : {}),
  }));
  return {
    old: flags.old,
    new: flags.new,
    data: flags.data,
    classNames,
    report,
    flipMatrix: flipMatrix(predOld, predNew, classNames.length),
    flippedExamples: flips,
    imageShape: raw.imageShape,
    libraryVersion: LIBRARY_VERSION,
    engine: engine ? { backend: engine.backend, threads: engine.threads } : null,
    createdAt: new Date().toISOString(),
    ...(bySlice ? { slices: bySlice.slices, regions: bySlice.regions } : {}),
  };
}

/** One side of a comparison as loaded: a model to run on the data, or a predictions file. */
type Side = { model?: Classifier; predictions?: Predictions };

/**
 * Both sides' predictions on the data, its labels, and the description of every example the
 * two sides predict differently (what the report shows of a flip). The data is `whole` when
 * given, else read a block at a time (forEachDataBlock: a CSV is streamed), each block
 * predicted and let go: what stays is per row — the labels, lines and the predictions.
 */
async function predictBoth(data: DataFlags, whole: RawData | undefined, sides: [Side, Side], flags: [string, string]) {
  const parts: [Predictions[], Predictions[]] = [[], []];
  const flipped = new Map<number, Pick<ReviewedFlip, 'features' | 'thumbnail'>>();
  const rows: LabelledRows & { imageShape?: [number, number] } = { kind: 'tabular', source: data.data, labels: [] };
  const origins: number[] = [];
  const take = async (block: RawData) => {
    const offset = rows.labels.length;
    const a = sides[0].model ? await predictWithModel(sides[0].model, block, flags[0]) : undefined;
    const b = sides[1].model ? await predictWithModel(sides[1].model, block, flags[1]) : undefined;
    const predicted = (p: Predictions | undefined, side: Side, i: number) => (p ? p.predicted[i] : side.predictions!.predicted[offset + i]);
    for (let i = 0; i < block.labels.length; i++) {
      if (predicted(a, sides[0], i) !== predicted(b, sides[1], i)) flipped.set(offset + i, { features: describeExample(block, i), thumbnail: exampleThumbnail(block, i) });
      rows.labels.push(block.labels[i]);
    }
    if (block.origins) for (const o of block.origins) origins.push(o);
    Object.assign(rows, { kind: block.kind, source: block.source, originUnit: block.originUnit });
    if (block.kind === 'image') rows.imageShape = [block.shape[0], block.shape[1]];
    if (a) parts[0].push(a);
    if (b) parts[1].push(b);
  };
  if (whole) await take(whole);
  else await forEachDataBlock(data, PREDICT_BLOCK_ROWS, take);
  if (origins.length === rows.labels.length) rows.origins = origins;
  const [a, b] = sides.map((side, s) => side.predictions ?? concatPredictions(parts[s], flags[s]));
  return { rows, a, b, flipped };
}

/** The predictions of consecutive blocks of rows as one. */
function concatPredictions(parts: Predictions[], source: string): Predictions {
  const joined = (key: 'probs' | 'logits') => {
    if (parts.some((p) => !p[key])) return undefined;
    const out = new Float32Array(parts.reduce((n, p) => n + p[key]!.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p[key]!, at);
      at += p[key]!.length;
    }
    return out;
  };
  const predicted: string[] = [];
  for (const p of parts) for (const c of p.predicted) predicted.push(c);
  return { source, predicted, classNames: parts[0]?.classNames, probs: joined('probs'), logits: joined('logits') };
}

/** The comparison by slice and the region search of a request, and a function giving an example's slices and regions (for --flips). */
function sliceDetail(request: SliceRequest, raw: RawData, input: SliceInput, flags: ComparisonFlags) {
  const columns = columnTable(raw);
  const sliceInput = { ...input, columns };
  const slices = naming(() => compareBySlice(sliceInput, { slices: request.specs, minSize: request.minSize, resamples: flags.resamples, level: flags.level, seed: flags.seed }), 'slices', request.source);
  const assignments = request.specs.map((s) => assignSlices(sliceInput, s));
  const regions = request.regions
    ? findRegressedRegions({ ...input, columns }, { seed: flags.seed, use: request.regions.use, alpha: Number((1 - flags.level).toFixed(6)), resamples: flags.resamples })
    : null;
  const inRegions = regions ? confirmedRegionsByExample(regions, columns) : null;
  const keysOf = (i: number): Pick<ReviewedFlip, 'slices' | 'regions'> => ({
    ...(assignments.length ? { slices: Object.fromEntries(assignments.map((a) => [a.spec, a.labels[a.slice[i]]])) } : {}),
    ...(regions && inRegions ? { regions: inRegions[i].map((k) => regions.regions[k].rule) } : {}),
  });
  return { slices, regions, keysOf };
}

/** The options of the comparison that `compare` and `gate` share (compare checks --old/--new itself, as --chain replaces them). */
export function addComparisonOptions(cmd: Command, { pairOptional = false } = {}): Command {
  addReadOptions(cmd);
  const pair = (flags: string, help: string) => cmd.addOption(pathOption(flags, help, PATH_KINDS.fileOrDir, { required: !pairOptional }));
  pair('--old <dir|csv|onnx>', 'old (deployed) model directory or .onnx file, or a predictions file (CSV, Parquet or Arrow) from `distillery predict`');
  pair('--new <dir|csv|onnx>', 'new model directory or .onnx file, or a predictions file (CSV, Parquet or Arrow)');
  return cmd
    .addOption(pathOption('--data <file|name>', 'labelled evaluation data (rows in the same order as any predictions file)', PATH_KINDS.data, { required: true }))
    .option('--label <column>', 'label column of a CSV/TSV, by name or number from 1 (default: the model\'s, else label/class/target/y, else the last column)')
    .option('--resamples <n>', 'bootstrap resamples', parseInteger('resamples', 10), 1000)
    .option('--level <x>', 'confidence level', parseNumber('level', 0.5, 0.999), 0.95)
    .option('--seed <n>', 'bootstrap seed', parseInteger('seed'), 1);
}
