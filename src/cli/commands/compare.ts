import { Command } from 'commander';
import { compareModels, type ComparisonReport } from '../../metrics/compare.js';
import { renderComparison } from '../../report/table.js';
import { InputError } from '../../util/errors.js';
import { writeFileAtomic } from '../../util/atomicFs.js';
import { sortedDistinct } from '../../data/values.js';
import { createContext, type GlobalFlags } from '../context.js';
import { labelColumnFor, loadDataFlag } from '../dataInput.js';
import { loadModelOrPredictions, predictWithModel, type Predictions } from '../predictions.js';
import { parseInteger, parseNumber } from '../options.js';

interface CompareFlags extends ComparisonFlags {
  json?: string;
  markdown?: string;
  topClasses: number;
}

/** Aligns two sets of predictions and the true labels on one class index space. */
function toIndices(labels: string[], a: Predictions, b: Predictions) {
  const classNames = a.classNames ?? b.classNames ?? sortedDistinct([...labels, ...a.predicted, ...b.predicted]);
  if (a.classNames && b.classNames && a.classNames.join('\u0000') !== b.classNames.join('\u0000')) {
    throw new InputError(b.source, `its classes (${b.classNames.join(', ')}) differ from ${a.source}'s (${a.classNames.join(', ')})`);
  }
  const index = new Map(classNames.map((c, k) => [c, k] as const));
  const encode = (values: string[], source: string, what: string) =>
    Int32Array.from(values, (v, i) => {
      const k = index.get(v);
      if (k === undefined) throw new InputError(source, `row ${i + 1}: ${what} "${v}" is not one of the classes: ${classNames.join(', ')}`);
      return k;
    });
  return {
    classNames,
    labels: encode(labels, 'labels', 'label'),
    predOld: encode(a.predicted, a.source, 'prediction'),
    predNew: encode(b.predicted, b.source, 'prediction'),
  };
}

export function compareCommand(globals: () => GlobalFlags): Command {
  const cmd = addComparisonOptions(
    new Command('compare').description('compare an old and a new model (or two prediction files) on labelled data: accuracy, churn, NFR/PFR, PD with bootstrap CIs'),
  )
    .option('--json <file>', 'also write the full report as JSON')
    .option('--markdown <file>', 'also write the report as Markdown')
    .option('--top-classes <n>', 'classes shown in the per-class flip table', parseInteger('top-classes', 1), 10);
  cmd.addHelpText('after', '\nExamples:\n  distillery compare --old models/v1 --new models/v2 --data test.csv --json cmp.json\n  distillery compare --old v1.csv --new v2.csv --data test.csv\n');
  return cmd.action(async (flags: CompareFlags) => {
    const ctx = await createContext(globals());
    const report = await compareFromFlags(flags);
    const rendered = renderComparison(report, { topClasses: flags.topClasses });
    ctx.out(rendered.text);
    const output = { old: flags.old, new: flags.new, data: flags.data, ...report };
    if (flags.json) await writeFileAtomic(flags.json, JSON.stringify(output, null, 2) + '\n');
    if (flags.markdown) await writeFileAtomic(flags.markdown, rendered.markdown);
  });
}

/** What `compare` and `gate` share: the two models (or prediction files) and the data. */
export interface ComparisonFlags {
  old: string;
  new: string;
  data: string;
  label?: string;
  resamples: number;
  level: number;
  seed: number;
}

/** Loads both sides and the labelled data, predicts where needed, and compares. */
export async function compareFromFlags(flags: ComparisonFlags): Promise<ComparisonReport> {
  const oldIn = await loadModelOrPredictions(flags.old);
  const newIn = await loadModelOrPredictions(flags.new);
  const modelSpec = oldIn.model?.trained.meta.preprocessing ?? newIn.model?.trained.meta.preprocessing;
  const label = labelColumnFor(flags.label, modelSpec);
  const raw = await loadDataFlag({ data: flags.data, label });
  const a = oldIn.model ? predictWithModel(oldIn.model, raw, flags.old) : oldIn.predictions!;
  const b = newIn.model ? predictWithModel(newIn.model, raw, flags.new) : newIn.predictions!;
  for (const p of [a, b]) {
    if (p.predicted.length !== raw.labels.length) {
      throw new InputError(p.source, `has ${p.predicted.length} predictions but ${flags.data} has ${raw.labels.length} rows`);
    }
  }
  const { classNames, labels, predOld, predNew } = toIndices(raw.labels, a, b);
  const haveProbs = a.probs && b.probs && a.classNames && b.classNames;
  return compareModels(
    { labels, predOld, predNew, probsOld: haveProbs ? a.probs : undefined, probsNew: haveProbs ? b.probs : undefined, numClasses: classNames.length, classNames },
    { resamples: flags.resamples, level: flags.level, seed: flags.seed },
  );
}

/** The options of the comparison that `compare` and `gate` share. */
export function addComparisonOptions(cmd: Command): Command {
  return cmd
    .requiredOption('--old <dir|csv>', 'old (deployed) model directory, or a predictions CSV from `distillery predict`')
    .requiredOption('--new <dir|csv>', 'new model directory, or a predictions CSV')
    .requiredOption('--data <file|name>', 'labelled evaluation data (rows in the same order as any predictions CSV)')
    .option('--label <column>', 'label column of a CSV (default: the model\'s, else label/class/target/y, else the last column)')
    .option('--resamples <n>', 'bootstrap resamples', parseInteger('resamples', 10), 1000)
    .option('--level <x>', 'confidence level', parseNumber('level', 0.5, 0.999), 0.95)
    .option('--seed <n>', 'bootstrap seed', parseInteger('seed'), 1);
}
